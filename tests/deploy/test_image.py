"""The production image (deploy/Dockerfile), built and run for real.

Builds the local base from Debian's packages when it is missing (deploy/docker/build-base.sh), the
wheels on the host from a clean copy of the tree, and the image with no network; then, with
``--network host``, migrates a database of its own on the host's PostgreSQL, creates a clerk with a
token and a product and location in a container, serves the image's default command (gunicorn) on a
spare port and checks it as a proxy would reach it: health, readiness, a receipt posted, metrics,
static files, a non-root user and the HEALTHCHECK. Every container and the database go at the end.

Starts dockerd if no engine answers (and stops only that one); skips when there is no engine.
Takes minutes: ``make image-test``. WMS_IMAGE_TEST_BASE picks another base (python:3.11-slim where
a registry answers); WMS_IMAGE_TEST_KEEP=1 keeps the image.
"""
import json
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import tomllib
import uuid
import zipfile
from contextlib import closing
from pathlib import Path

import pytest
import redis
import requests

from bench.db import MAINTENANCE_DB, Server, throwaway_database

ROOT = Path(__file__).resolve().parents[2]


pytestmark = [pytest.mark.postgres, pytest.mark.docker]

LOCAL_BASE = "local/python:3.11"
BASE = os.environ.get("WMS_IMAGE_TEST_BASE", LOCAL_BASE)
TAG = "wms-ledger:image-test"
DATABASE = "wms_image_test"
REDIS_URL = os.environ.get("WMS_IMAGE_TEST_REDIS_URL", "redis://127.0.0.1:6379/3")
PORTS = range(18200, 18300)
PREFIX = f"wms-image-test-{os.getpid()}"
TIMINGS: dict[str, float] = {}

# What never goes into the wheels' source copy (the same list as .dockerignore and build-image.sh).
IGNORED = shutil.ignore_patterns(".git", ".venv", "var", "build", "staticfiles", "results", "*.egg-info",
                                 "__pycache__", ".hypothesis", ".pytest_cache", ".ruff_cache")


def run(args: list[str], *, timeout: float, check: bool = True, **kwargs) -> subprocess.CompletedProcess:
    done = subprocess.run(args, check=False, capture_output=True, text=True, timeout=timeout, **kwargs)
    if check:
        assert done.returncode == 0, (
            f"{' '.join(args)[:300]} exited with {done.returncode}:\n{done.stdout[-4000:]}\n{done.stderr[-4000:]}"
        )
    return done


def docker(*args: str, timeout: float = 120, check: bool = True) -> subprocess.CompletedProcess:
    return run(["docker", *args], timeout=timeout, check=check)


def _engine_answers() -> bool:
    try:
        return subprocess.run(["docker", "info"], check=False, capture_output=True, timeout=20).returncode == 0
    except subprocess.TimeoutExpired:
        return False


class Phase:
    """Times a phase into TIMINGS and prints it as it ends."""

    def __init__(self, name: str):
        self.name = name

    def __enter__(self):
        self.start = time.monotonic()
        print(f"\n[image] {self.name} ...", flush=True)

    def __exit__(self, *exc):
        TIMINGS[self.name] = time.monotonic() - self.start
        print(f"[image] {self.name}: {TIMINGS[self.name]:.1f} s", flush=True)


@pytest.fixture(scope="module", autouse=True)
def _print_timings():
    yield
    if TIMINGS:
        print("\n[image] phases: " + ", ".join(f"{name} {seconds:.1f} s" for name, seconds in TIMINGS.items())
              + f"; total {sum(TIMINGS.values()):.1f} s")


@pytest.fixture(scope="module")
def engine():
    """A Docker engine: the running one, or a dockerd started here (and stopped at the end)."""
    if shutil.which("docker") is None:
        pytest.skip("no docker command (apt-get install docker.io)")
    if _engine_answers():
        yield
        return
    if shutil.which("dockerd") is None:
        pytest.skip("no Docker engine running and no dockerd to start (apt-get install docker.io)")
    log = Path(tempfile.mkstemp(prefix="dockerd-", suffix=".log")[1])
    # No bridge and no iptables rules: the test builds with --network none and runs with --network host.
    with log.open("wb") as out:
        daemon = subprocess.Popen(["dockerd", "--bridge=none", "--iptables=false"], stdout=out,
                                  stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while not _engine_answers():
            if daemon.poll() is not None or time.monotonic() > deadline:
                pytest.skip(f"dockerd did not start (exit {daemon.poll()}): "
                            + log.read_text(errors="replace")[-1500:])
            time.sleep(0.5)
        print(f"\n[image] started dockerd (pid {daemon.pid}, log {log})", flush=True)
        yield
    finally:
        if daemon.poll() is None:
            daemon.terminate()  # dockerd stops its containers and the containerd it started
            try:
                daemon.wait(timeout=60)
            except subprocess.TimeoutExpired:
                daemon.kill()
                daemon.wait(timeout=10)
        log.unlink(missing_ok=True)


@pytest.fixture(scope="module")
def base(engine) -> str:
    """The base image (built from Debian's packages if missing); its Python version."""
    with Phase("base"):
        if BASE == LOCAL_BASE:
            run([str(ROOT / "deploy/docker/build-base.sh"), LOCAL_BASE], timeout=900)
    return docker("run", "--rm", "--network", "none", BASE, "python3", "-c",
                  "import platform; print(platform.python_version())").stdout.strip()


def wheel_python(version: str) -> str:
    """A host interpreter of the base's Python version, with pip, to build the wheels with.

    pip evaluates the dependencies' markers for the interpreter it runs under: redis needs
    async-timeout only below Python 3.11.3, so wheels built under the project's 3.11.7 lack it for
    bookworm's 3.11.2, and the image's offline install fails. Debian's own python3 on this bookworm
    host is the local base's version."""
    for candidate in (sys.executable, "/usr/bin/python3", shutil.which("python3.11"), shutil.which("python3")):
        if candidate and run([candidate, "-c", "import platform, pip; print(platform.python_version())"],
                             timeout=30, check=False).stdout.strip() == version:
            return candidate
    pytest.fail(f"no interpreter of Python {version} (the base's) with pip on this host to build the wheels")


@pytest.fixture(scope="module")
def wheels(base, tmp_path_factory):
    """The build context: deploy/ and the wheels of the project and of every dependency."""
    context = tmp_path_factory.mktemp("context")
    with Phase("wheels"):
        source = tmp_path_factory.mktemp("source") / "wms"
        shutil.copytree(ROOT, source, ignore=IGNORED)
        run([wheel_python(base), "-m", "pip", "wheel", "--quiet", "--disable-pip-version-check",
             "-w", str(context / "wheels"), str(source)], timeout=900)
    shutil.copytree(ROOT / "deploy", context / "deploy", ignore=IGNORED)
    return context


@pytest.fixture(scope="module")
def image(wheels):
    with Phase("build"):
        docker("build", "--force-rm", "--network", "none", "--build-arg", f"BASE={BASE}",
               "--build-arg", "WHEELS=wheels", "-f", str(wheels / "deploy/Dockerfile"), "-t", TAG, str(wheels),
               timeout=1200)
        docker("image", "prune", "--force", "--filter", "label=wms-ledger.stage=build")  # the build stage's leftovers
    size = int(docker("image", "inspect", "--format", "{{.Size}}", TAG).stdout)
    print(f"[image] {TAG} on {BASE}: {size / 1e6:.0f} MB\n" + docker("image", "ls", TAG).stdout, flush=True)
    yield TAG
    if not os.environ.get("WMS_IMAGE_TEST_KEEP"):
        docker("image", "rm", TAG, check=False)


@pytest.fixture(scope="module")
def database():
    """A fresh database of this test's own on the host's PostgreSQL; dropped at the end."""
    server = Server.from_env()
    with closing(server.connect(MAINTENANCE_DB)) as admin, admin.cursor() as cursor:  # a run killed earlier left it
        cursor.execute(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")
    with throwaway_database(server, name=DATABASE):
        yield server.url(DATABASE)


@pytest.fixture(scope="module")
def broker():
    """Redis db 3 of the host, emptied before and after."""
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        client.flushdb()
    except redis.RedisError as error:
        pytest.skip(f"Redis at {REDIS_URL} does not answer: {error}")
    yield REDIS_URL
    client.flushdb()


@pytest.fixture(scope="module")
def containers():
    """Names of the containers started; each one is removed at the end, whatever happened."""
    names: list[str] = []
    yield names
    for name in names:
        docker("rm", "--force", name, check=False)


def spare_port() -> int:
    ports = list(PORTS)
    random.shuffle(ports)
    for port in ports:
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    pytest.fail(f"no free port in {PORTS}")


SETUP = """
import json
from django.contrib.auth.models import Group, User
from rest_framework.authtoken.models import Token
from catalog.models import Location, Product, Warehouse
clerk = User.objects.create_user("image-clerk")
clerk.groups.add(Group.objects.get(name="clerk"))
token = Token.objects.create(user=clerk)
warehouse = Warehouse.objects.create(code="IMG", name="Image test")
location = Location.objects.create(warehouse=warehouse, code="A-01")
product = Product.objects.create(sku="IMG-1", name="Image test product")
print("SETUP " + json.dumps({"token": token.key, "product": product.pk, "location": location.pk}))
"""


def test_wheel_carries_every_template_and_static_file(tmp_path):
    """The admin's templates live in the apps; a wheel without them breaks admin pages in the image.
    (The project's wheel alone, a few seconds: this runs without a Docker engine too.)"""
    shutil.copytree(ROOT, tmp_path / "source", ignore=IGNORED)
    run([sys.executable, "-m", "pip", "wheel", "--quiet", "--disable-pip-version-check", "--no-deps",
         "-w", str(tmp_path / "wheels"), str(tmp_path / "source")], timeout=300)
    wheel = next((tmp_path / "wheels").glob("wms_ledger-*.whl"))
    packaged = set(zipfile.ZipFile(wheel).namelist())
    find = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]["find"]
    data = sorted(
        str(path.relative_to(ROOT))
        for app in (pattern.rstrip("*") for pattern in find["include"])
        for kind in ("templates", "static")
        for path in (ROOT / app).glob(f"**/{kind}/**/*")
        if path.is_file() and "__pycache__" not in path.parts
    )
    assert data, "no templates found in the tree: has the layout changed?"
    missing = [path for path in data if path not in packaged]
    assert not missing, f"{wheel.name} lacks package data (pyproject's [tool.setuptools.package-data]): {missing}"


def test_image_runs_as_non_root_without_secrets(image):
    config = json.loads(docker("image", "inspect", "--format", "{{json .Config}}", image).stdout)
    assert config["User"] and config["User"].split(":")[0] not in {"0", "root"}, config["User"]
    environment = dict(item.split("=", 1) for item in config["Env"])
    assert "DJANGO_SECRET_KEY" not in environment and "DATABASE_URL" not in environment, environment
    assert environment["DJANGO_SETTINGS_MODULE"] == "wms.settings"
    assert config["Healthcheck"]["Test"], "no HEALTHCHECK"
    # No compiler in the final image, and the project's environment has no pip (nor wheels).
    probe = docker("run", "--rm", "--network", "none", image, "sh", "-c",
                   "command -v gcc cc c++ make; ls /wheels; /opt/venv/bin/python -m pip --version", check=False)
    assert probe.stdout.strip() == "" and "No module named pip" in probe.stderr, probe.stdout + probe.stderr


def test_image_serves_the_api(image, database, broker, containers):
    port = spare_port()
    environment = {
        "DATABASE_URL": database,
        "CELERY_BROKER_URL": broker,
        "DJANGO_SECRET_KEY": uuid.uuid4().hex + uuid.uuid4().hex,
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
    }
    env_args = [arg for name, value in environment.items() for arg in ("--env", f"{name}={value}")]
    # gunicorn (deploy/gunicorn.conf.py) on the host's loopback, two workers whose counts /metrics sums.
    serving = {"WMS_BIND": f"127.0.0.1:{port}", "WMS_WORKERS": "2", "PROMETHEUS_MULTIPROC_DIR": "/tmp/wms-metrics"}
    serving_args = [arg for name, value in serving.items() for arg in ("--env", f"{name}={value}")]

    def once(step: str, *command: str) -> str:
        name = f"{PREFIX}-{step}"
        containers.append(name)
        return docker("run", "--rm", "--name", name, "--network", "host", *env_args, image, *command,
                      timeout=300).stdout

    with Phase("run"):
        once("migrate", "django-admin", "migrate", "--no-input")
        setup = once("setup", "django-admin", "shell", "-c", SETUP)
        facts = json.loads(next(line for line in setup.splitlines() if line.startswith("SETUP "))[6:])

        app = f"{PREFIX}-app"
        containers.append(app)
        docker("run", "--detach", "--name", app, "--network", "host", "--health-interval", "2s", *env_args,
               *serving_args, image)
        base = f"http://127.0.0.1:{port}"
        # As the proxy in front sends it (production mode redirects plain HTTP to HTTPS).
        proxy = {"X-Forwarded-Proto": "https"}

        def logs() -> str:
            done = docker("logs", "--tail", "60", app, check=False)
            return (done.stdout + done.stderr)[-5000:]

        def get(path: str, **kwargs) -> requests.Response:
            return requests.get(base + path, headers=proxy, timeout=10, allow_redirects=False, **kwargs)

        deadline = time.monotonic() + 90
        while True:
            try:
                health = get("/healthz")
            except requests.RequestException:
                pass  # not listening yet
            else:
                if health.status_code == 200:
                    break
                # Up, but /healthz is missing or refused: no use waiting (a 503 may still turn 200).
                assert health.status_code == 503, f"/healthz: {health.status_code} {health.text[:300]}\n{logs()}"
            running = docker("inspect", "--format", "{{.State.Running}}", app).stdout.strip()
            assert running == "true", f"the app container exited:\n{logs()}"
            assert time.monotonic() < deadline, f"/healthz did not answer 200 within 90 s:\n{logs()}"
            time.sleep(0.5)

        ready = get("/readyz")
        assert ready.status_code == 200, f"/readyz: {ready.status_code} {ready.text[:500]}\n{logs()}"

        posted = requests.post(
            f"{base}/api/v1/movements/", timeout=10, allow_redirects=False,
            json={"kind": "receipt", "product": facts["product"], "location": facts["location"], "quantity": "5"},
            headers={**proxy, "Authorization": f"Token {facts['token']}", "Idempotency-Key": uuid.uuid4().hex},
        )
        assert posted.status_code == 201, f"receipt: {posted.status_code} {posted.text[:500]}\n{logs()}"

        # Whichever worker answers the scrape, it counts the other's posting too.
        for _ in range(6):
            metrics = get("/metrics")
            assert metrics.status_code == 200, f"/metrics: {metrics.status_code} {metrics.text[:500]}"
            posted_lines = [line for line in metrics.text.splitlines() if "wms_movements_posted" in line]
            assert 'wms_movements_posted_total{kind="receipt"} 1.0' in metrics.text, (
                "\n".join(posted_lines) or metrics.text[:2000]
            )

        css = get("/static/admin/css/base.css")  # collected at build time, served by WhiteNoise
        assert css.status_code == 200 and "body" in css.text, f"static: {css.status_code}"

        uid = docker("exec", app, "id", "-u").stdout.strip()
        assert uid != "0", "the app runs as root"

        deadline = time.monotonic() + 60
        while (health := docker("inspect", "--format", "{{.State.Health.Status}}", app).stdout.strip()) != "healthy":
            assert health != "unhealthy", docker("inspect", "--format", "{{json .State.Health}}", app).stdout
            assert time.monotonic() < deadline, f"HEALTHCHECK still {health} after 60 s"
            time.sleep(1)
