"""deploy/prometheus.yml, checked by promtool and used by a real Prometheus to scrape the app.

The app is gunicorn as production runs it (deploy/gunicorn.conf.py, two workers, multiprocess
metrics in a directory of the test's own) on the prepared app (tests/deploy/conftest.py). The
repository's configuration is rendered for the test: the ``wms`` job's target ``web:8000`` becomes
gunicorn's address, the intervals one second, and the jobs of the exporters (not running here)
are dropped. Movements posted through the API must then show in what Prometheus scraped, summed
over both workers. Runs in the SQLite pass; skipped without Prometheus except in CI
(apt-get install prometheus).
"""
import subprocess
import sys
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
import yaml

from tests.live import HOST, serving, spare_port

from .conftest import DEPLOY, require_tool

PROMETHEUS_PORTS = range(18350, 18370)
APP_PORTS = range(18370, 18400)
CONFIG = DEPLOY / "prometheus.yml"


@pytest.fixture(scope="module")
def promtool():
    return require_tool("promtool", "prometheus")


def test_promtool_accepts_the_configuration(promtool):
    checked = subprocess.run([promtool, "check", "config", str(CONFIG)], capture_output=True, text=True, timeout=60)
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_the_app_and_both_exporters_are_scraped():
    jobs = {job["job_name"]: job for job in yaml.safe_load(CONFIG.read_text())["scrape_configs"]}
    targets = {name: [t for config in job["static_configs"] for t in config["targets"]] for name, job in jobs.items()}
    assert targets["wms"] == ["web:8000"]  # the compose service's gunicorn, not nginx (which refuses /metrics)
    assert jobs["wms"].get("metrics_path", "/metrics") == "/metrics"
    assert targets["postgres"] == ["postgres-exporter:9187"]
    assert targets["redis"] == ["redis-exporter:9121"]


def _rendered(app: str) -> str:
    """The repository's file with the app's target at ``app``, one-second intervals, and only the
    app's job."""
    config = yaml.safe_load(CONFIG.read_text())
    config["global"].update(scrape_interval="1s", scrape_timeout="1s", evaluation_interval="1s")
    (job,) = [job for job in config["scrape_configs"] if job["job_name"] == "wms"]
    (static,) = job["static_configs"]
    assert static["targets"] == ["web:8000"]
    static["targets"] = [app]
    config["scrape_configs"] = [job]
    return yaml.safe_dump(config, sort_keys=False)


class Scraped:
    def __init__(self, url: str, app: str, tokens: dict, prometheus_log):
        self.url, self.app, self.tokens, self.log = url, app, tokens, prometheus_log

    def query(self, expression: str) -> dict[tuple, float]:
        """The instant vector: each series' labels (without the target's) -> its value."""
        answer = requests.get(f"{self.url}/api/v1/query", params={"query": expression}, timeout=10).json()
        assert answer["status"] == "success", answer
        ignored = ("__name__", "instance", "job", "component")
        return {tuple(sorted((k, v) for k, v in series["metric"].items() if k not in ignored)): float(series["value"][1])
                for series in answer["data"]["result"]}

    def wait_for(self, expression: str, expected, timeout: float = 30):
        """Query until the answer is ``expected`` (scrapes come every second); fail with the last one."""
        deadline = time.monotonic() + timeout
        while (seen := self.query(expression)) != expected:
            if time.monotonic() > deadline:
                pytest.fail(f"{expression}: Prometheus had {seen} after {timeout} s, expected {expected}\n"
                            f"{self.log.read_text(errors='replace')[-2000:]}")
            time.sleep(0.25)
        return seen

    def api(self, method: str, path: str, body=None) -> requests.Response:
        headers = {"Authorization": f"Token {self.tokens['clerk']}", "Idempotency-Key": uuid.uuid4().hex,
                   "Connection": "close"}  # a new connection each: both workers get requests
        return requests.request(method, f"{self.app}/api/v1/{path}", json=body, headers=headers, timeout=30)


@pytest.fixture(scope="module")
def scraped(prepared_app, promtool):
    binary = require_tool("prometheus", "prometheus")
    folder = prepared_app.directory("prometheus")
    metrics_dir = folder / "multiproc"
    app_port = spare_port(APP_PORTS)
    app = f"{HOST}:{app_port}"
    env = prepared_app.env | {"WMS_BIND": app, "WMS_WORKERS": "2", "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir)}
    gunicorn = [sys.executable, "-m", "gunicorn", "--config", str(DEPLOY / "gunicorn.conf.py"), "wms.wsgi:application"]
    with serving(gunicorn, env, folder / "gunicorn.log", ready=f"http://{app}/healthz", timeout=60):
        config = folder / "prometheus.yml"
        config.write_text(_rendered(app))
        checked = subprocess.run([promtool, "check", "config", str(config)], capture_output=True, text=True, timeout=60)
        assert checked.returncode == 0, checked.stdout + checked.stderr
        port = spare_port(PROMETHEUS_PORTS)
        url = f"http://{HOST}:{port}"
        args = [binary, f"--config.file={config}", f"--storage.tsdb.path={folder / 'tsdb'}",
                f"--web.listen-address={HOST}:{port}", "--log.level=warn"]
        log = folder / "prometheus.log"
        with serving(args, {"PATH": env.get("PATH", "")}, log, ready=f"{url}/-/ready", timeout=30):
            yield Scraped(url, f"http://{app}", prepared_app.tokens, log)


def _ids(scraped: Scraped) -> tuple[int, list[int]]:
    """The demo's BOLT-M8 and two of its MAIN locations (seed_demo)."""
    product = scraped.api("GET", "products/?sku=BOLT-M8").json()["results"][0]["id"]
    locations = [row["id"] for row in scraped.api("GET", "locations/?search=MAIN&page_size=2").json()["results"]]
    assert len(locations) == 2
    return product, locations


def test_prometheus_scrapes_what_was_posted_summed_over_the_workers(scraped):
    product, (here, there) = _ids(scraped)
    receipt = {"kind": "receipt", "product": product, "location": here, "quantity": "10"}
    with ThreadPoolExecutor(4) as pool:  # at once, so that both workers answer some (each counts in its own file)
        receipts = list(pool.map(lambda _: scraped.api("POST", "movements/", receipt), range(8)))
    assert [r.status_code for r in receipts] == [201] * 8, [r.text for r in receipts if r.status_code != 201]
    others = [
        scraped.api("POST", "movements/", {"kind": "issue", "product": product, "location": here, "quantity": "1"}),
        scraped.api("POST", "movements/", {"kind": "transfer", "product": product, "from_location": here,
                                           "to_location": there, "quantity": "2"}),
        scraped.api("POST", "movements/", {"kind": "count", "product": product, "location": there,
                                           "counted_quantity": "1000"}),
        scraped.api("POST", f"movements/{receipts[0].json()['position']}/reverse/", {"reason": "test"}),
    ]
    assert [r.status_code for r in others] == [201] * 4, [r.text for r in others]
    refused = scraped.api("POST", "movements/", {"kind": "issue", "product": product, "location": here,
                                                 "quantity": "999999999"})
    assert refused.status_code == 409 and refused.json()["code"] == "insufficient_stock"
    posted = Counter(r.json()["kind"] for r in receipts + others)
    assert posted == {"receipt": 8, "issue": 1, "transfer": 1, "count": 1, "reversal": 1}

    # Prometheus's first scrape of a new target comes a few seconds after it starts.
    scraped.wait_for('up{job="wms"}', {(): 1.0})
    # The gunicorn started empty (its multiprocess directory is emptied at start, and seed_demo
    # posted in another process): what Prometheus has is exactly what was posted here.
    scraped.wait_for("sum by (kind) (wms_movements_posted_total)",
                     {(("kind", kind),): float(count) for kind, count in posted.items()})
    scraped.wait_for("sum by (code) (wms_posting_refusals_total)", {(("code", "insufficient_stock"),): 1.0})
    head = scraped.api("GET", "ledger/head/").json()["position"]
    assert head >= max(r.json()["position"] for r in receipts + others)
    scraped.wait_for("wms_ledger_head_position", {(): float(head)})
    # Histograms and the database's gauges arrive too.
    scraped.wait_for('sum(wms_posting_duration_seconds_count{endpoint="movement"})', {(): 12.0})
    scraped.wait_for("wms_database_up", {(): 1.0})
    assert set(scraped.query("wms_projection_lag_events")) == {
        (("projection", name),) for name in ("stock_by_product_location", "stock_by_product", "stock_by_location", "stock_by_lot")}
    assert scraped.query('sum(django_http_requests_latency_seconds_by_view_method_count{view="movement-list"})')
