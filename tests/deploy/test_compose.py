"""deploy/compose.yaml as docker-compose 1.29 reads it (``docker-compose config``: the file's
schema, its interpolation from the env file, its merges), and what it must say about the stack:
the services, their order of start, the app's environment, and the files it mounts.

No engine and no image are needed: ``config`` only reads. Runs in the SQLite pass; skipped without
docker-compose except in CI (apt-get install docker-compose).
"""
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.live import ROOT

from .conftest import DEPLOY, once_per_suite, placeholders, require_tool

COMPOSE = DEPLOY / "compose.yaml"
ENV_EXAMPLE = DEPLOY / ".env.example"
APP = ("migrate", "static", "web", "worker", "beat")  # the services that run the app's image
PROCESSES = ("web", "worker", "beat")
# What the app reads from the environment that compose does not give: the embedded default's SQLite
# paths and the debug switch (not for production), and what deploy/Dockerfile sets in the image
# (where it collected the static files; production mode required), which compose must not override.
NOT_FROM_COMPOSE = {"WMS_SQLITE_PATH", "WMS_SQLITE_TEST_PATH", "DJANGO_DEBUG", "DJANGO_STATIC_ROOT", "WMS_REQUIRE_PRODUCTION"}
# Secrets only the processes that use them are given (the beat only queues the anchor's task).
ONLY_WHERE_USED = {"WMS_ANCHOR_SIGNING_KEY": {"web", "worker"}}


def _compose(env_file: Path) -> subprocess.CompletedProcess:
    binary = require_tool("docker-compose", "docker-compose")
    # Only the env file: nothing of the suite's environment (DATABASE_URL, ...) may fill a variable.
    env = {"PATH": os.environ.get("PATH", ""), "HOME": str(env_file.parent)}
    return subprocess.run([binary, "-f", str(COMPOSE), "--env-file", str(env_file), "config"], capture_output=True,
                          text=True, env=env, cwd=env_file.parent, timeout=120)


@pytest.fixture(scope="module")
def config(tmp_path_factory) -> dict:
    once_per_suite("docker-compose reads files only")
    folder = tmp_path_factory.mktemp("compose")
    shutil.copy(ENV_EXAMPLE, folder / ".env")
    done = _compose(folder / ".env")
    assert done.returncode == 0, f"docker-compose config refused deploy/compose.yaml:\n{done.stderr}"
    return yaml.safe_load(done.stdout)


def test_the_stack_has_every_service(config):
    assert set(config["services"]) == {
        "postgres", "redis", "migrate", "static", "web", "worker", "beat", "nginx", "prometheus", "grafana",
        "postgres-exporter", "redis-exporter",
    }


def test_the_app_starts_after_its_migration_and_its_services(config):
    services = config["services"]
    assert services["migrate"]["command"] == ["django-admin", "migrate", "--no-input"]
    assert services["migrate"]["depends_on"] == {"postgres": {"condition": "service_healthy"}}
    for name in PROCESSES:
        assert services[name]["depends_on"] == {
            "migrate": {"condition": "service_completed_successfully"},
            "postgres": {"condition": "service_healthy"},
            "redis": {"condition": "service_healthy"},
        }, name
    assert services["nginx"]["depends_on"] == {
        "static": {"condition": "service_completed_successfully"}, "web": {"condition": "service_healthy"}}
    for name in ("migrate", "static"):
        assert services[name]["restart"] == "no", f"{name} is a one-shot job"
    assert services["worker"]["command"][:4] == ["celery", "-A", "wms", "worker"]
    assert services["beat"]["command"][:4] == ["celery", "-A", "wms", "beat"]
    assert services["web"]["command"][0] == "gunicorn"


def test_health_checks(config):
    services = config["services"]
    assert "pg_isready" in " ".join(services["postgres"]["healthcheck"]["test"])
    assert services["redis"]["healthcheck"]["test"] == ["CMD", "redis-cli", "ping"]
    # web keeps the image's HEALTHCHECK (GET /healthz on its gunicorn); the app's other containers
    # run no gunicorn, so the image's check is turned off there.
    assert "healthcheck" not in services["web"]
    for name in ("migrate", "static", "worker", "beat"):
        assert services[name]["healthcheck"] == {"test": ["NONE"]}, name


def test_every_app_service_runs_the_one_image_built_from_the_dockerfile(config):
    services = config["services"]
    images = {services[name]["image"] for name in APP}
    assert images == {"wms-ledger:latest"}
    for name in APP:
        build = services[name]["build"]
        assert (Path(build["context"]), build["dockerfile"]) == (ROOT, "deploy/Dockerfile"), name
        assert (ROOT / build["dockerfile"]).is_file()


def test_the_app_environment(config):
    services = config["services"]
    example = _env_example()
    for name in APP[:1] + PROCESSES:
        env = services[name]["environment"]
        assert env["WMS_LOG_FORMAT"] == "json", name
        # Production mode: PostgreSQL and Redis from the env file, as they are written there.
        assert env["DATABASE_URL"].startswith("postgres://") and "@postgres:5432/" in env["DATABASE_URL"], name
        assert env["CELERY_BROKER_URL"] == example["CELERY_BROKER_URL"] == "redis://redis:6379/0"
        assert env["DJANGO_SECRET_KEY"] == example["DJANGO_SECRET_KEY"]
        assert "web" in env["DJANGO_ALLOWED_HOSTS"].split(","), "Prometheus scrapes web:8000"
    web = services["web"]["environment"]
    multiproc = web["PROMETHEUS_MULTIPROC_DIR"]
    assert any(mount.split(":")[0] == multiproc for mount in services["web"]["tmpfs"]), "a tmpfs: empty at each start"
    assert web["WMS_BIND"] == "0.0.0.0:8000"


def test_the_app_is_given_every_setting_it_reads(config):
    """Each variable wms/settings reads (env_str, env_bool, env_int, env_list, _rate) reaches web,
    worker and beat, except NOT_FROM_COMPOSE: a new setting must be added to compose.yaml and
    documented in .env.example."""
    source = "\n".join(path.read_text() for path in (ROOT / "wms" / "settings").glob("*.py"))
    read = set(re.findall(r"\b(?:env_str|env_bool|env_int|env_list|_rate)\(\s*\"([A-Z][A-Z0-9_]*)\"", source))
    assert {"DJANGO_SECRET_KEY", "DATABASE_URL", "CELERY_BROKER_URL"} <= read, "the pattern still finds the settings"
    assert set(ONLY_WHERE_USED) <= read
    for name in PROCESSES:
        given = set(config["services"][name]["environment"])
        needed = {setting for setting in read - NOT_FROM_COMPOSE if name in ONLY_WHERE_USED.get(setting, PROCESSES)}
        assert not needed - given, f"{name} is not given {sorted(needed - given)}"
        assert not {setting for setting, users in ONLY_WHERE_USED.items() if name not in users} & given, name


def test_nginx_renders_the_repositorys_template_and_serves_the_images_static_files(config):
    services = config["services"]
    nginx = services["nginx"]
    env = nginx["environment"]
    wms = {name: value for name, value in env.items() if name.startswith("WMS_")}
    assert set(wms) == placeholders((DEPLOY / "nginx.conf").read_text()), "a value for each ${WMS_...} of nginx.conf"
    assert (env["NGINX_ENVSUBST_OUTPUT_DIR"], env["NGINX_ENVSUBST_FILTER"]) == ("/etc/nginx", "WMS_")
    assert wms["WMS_UPSTREAM"] == "web:" + services["web"]["environment"]["WMS_BIND"].rsplit(":", 1)[1]
    mounts = {target: source for source, target, *_ in (_bind(v) for v in nginx["volumes"])}
    assert mounts["/etc/nginx/templates/nginx.conf.template"] == str(DEPLOY / "nginx.conf")
    # The static files: the `static` job copies those the image collected (its DJANGO_STATIC_ROOT)
    # into a volume nginx reads.
    collected = re.findall(r"DJANGO_STATIC_ROOT=(\S+)", (DEPLOY / "Dockerfile").read_text())[-1]  # the last stage's
    (copied_to,) = [_bind(v)[1] for v in services["static"]["volumes"]]
    (volume,) = [_bind(v)[0] for v in services["static"]["volumes"]]
    assert services["static"]["command"] == ["cp", "-a", f"{collected}/.", f"{copied_to}/"]
    assert mounts[wms["WMS_STATIC_ROOT"]] == volume and volume in config["volumes"]


def test_prometheus_and_grafana_get_the_repositorys_files(config):
    services = config["services"]
    prometheus = {target: source for source, target, *_ in (_bind(v) for v in services["prometheus"]["volumes"])}
    assert prometheus["/etc/prometheus/prometheus.yml"] == str(DEPLOY / "prometheus.yml")
    assert "--config.file=/etc/prometheus/prometheus.yml" in services["prometheus"]["command"]
    grafana = {target: source for source, target, *_ in (_bind(v) for v in services["grafana"]["volumes"])}
    assert grafana["/etc/grafana/provisioning"] == str(DEPLOY / "grafana" / "provisioning")
    provider = yaml.safe_load((DEPLOY / "grafana" / "provisioning" / "dashboards" / "wms.yaml").read_text())
    (path,) = {p["options"]["path"] for p in provider["providers"]}
    assert grafana[path] == str(DEPLOY / "grafana" / "dashboards"), "the provider reads where the dashboards are mounted"
    datasource = yaml.safe_load((DEPLOY / "grafana" / "provisioning" / "datasources" / "prometheus.yaml").read_text())
    (url,) = {d["url"] for d in datasource["datasources"]}
    assert url == "http://prometheus:9090"


def test_every_mounted_file_is_in_the_repository(config):
    for name, service in config["services"].items():
        for volume in service.get("volumes", []):
            source = _bind(volume)[0]
            if source.startswith("/"):
                assert Path(source).exists(), f"{name} mounts {source}, which is not in the repository"


def test_every_variable_is_documented_in_the_env_example():
    """Both ways: what compose.yaml interpolates is in .env.example (with a comment above it), and
    .env.example holds nothing compose.yaml does not read."""
    used = set(re.findall(r"\$\{([A-Z][A-Z0-9_]*)", COMPOSE.read_text()))
    example = _env_example()
    assert used - set(example) == set(), "interpolated by compose.yaml, not in .env.example"
    assert set(example) - used == set(), "in .env.example, not read by compose.yaml"
    lines = ENV_EXAMPLE.read_text().splitlines()
    for index, line in enumerate(lines):
        if re.match(r"[A-Z][A-Z0-9_]*=", line):
            above = next(previous for previous in reversed(lines[:index]) if not re.match(r"[A-Z][A-Z0-9_]*=", previous))
            assert above.startswith("#"), f"{line.split('=')[0]} has no comment above it"
    secrets = {name: value for name, value in example.items() if "SECRET" in name or "PASSWORD" in name}
    assert secrets and all("CHANGE-ME" in value for value in secrets.values()), "no real secret in the example"


def test_missing_secrets_are_refused(tmp_path):
    once_per_suite("docker-compose reads files only")
    (tmp_path / "empty.env").write_text("")
    done = _compose(tmp_path / "empty.env")
    assert done.returncode != 0
    assert "deploy/.env.example" in done.stderr, done.stderr


def _bind(volume) -> list[str]:
    """source, target[, mode] of a volume, in docker-compose's short form or its long one."""
    if isinstance(volume, dict):
        return [volume["source"], volume["target"]]
    return volume.split(":")


def _env_example() -> dict[str, str]:
    values = {}
    for line in ENV_EXAMPLE.read_text().splitlines():
        if re.match(r"[A-Z][A-Z0-9_]*=", line):
            name, value = line.split("=", 1)
            values[name] = value
    return values
