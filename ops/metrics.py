"""``/metrics``: what every process counted, and the ledger's state read from the database when
scraped.

Counters and histograms (requests by view and status from django-prometheus, postings from
``ledger.metrics``) live in the process that counted them: under gunicorn, in prometheus_client's
multiprocess files (``PROMETHEUS_MULTIPROC_DIR``), so a scrape served by any worker sums them all.
State that any process may change, the worker's included (the head, each projection's checkpoint,
lag and last catch-up, the last chain check), is read from the database at the scrape, so it is the
truth whichever process answers and needs no exporter beside the Celery worker.
"""
import os

from django.db import DatabaseError
from django.http import HttpResponse
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest, multiprocess
from prometheus_client.core import GaugeMetricFamily

from ledger.models import ChainCheck
from ledger.selectors import head_position
from projections.models import Checkpoint
from projections.selectors import projections_status

from . import health


class LedgerState:
    """A collector of gauges read from the database at each scrape."""

    def collect(self):
        database = GaugeMetricFamily("wms_database_up", "1 when the database answered this scrape's queries.")
        redis = GaugeMetricFamily("wms_redis_up", "1 when Redis (cache and broker) answers; the ledger works without it.")
        redis.add_metric([], 1 if health.redis().ok else 0)
        try:
            families = list(self._ledger())
        except DatabaseError:
            families = []
        database.add_metric([], 1 if families else 0)
        yield database
        yield redis
        yield from families

    def _ledger(self):
        head = GaugeMetricFamily("wms_ledger_head_position", "The ledger's last position.")
        head.add_metric([], head_position())
        yield head
        labels = ["projection"]
        position = GaugeMetricFamily("wms_projection_checkpoint_position", "Ledger position applied up to.", labels=labels)
        lag_events = GaugeMetricFamily("wms_projection_lag_events", "Events recorded but not yet applied.", labels=labels)
        lag_seconds = GaugeMetricFamily(
            "wms_projection_lag_seconds", "Age of the oldest event not yet applied (0 when caught up).", labels=labels
        )
        failing = GaugeMetricFamily("wms_projection_failing", "1 while the last catch-up failed.", labels=labels)
        for status in projections_status():
            position.add_metric([status.name], status.position)
            lag_events.add_metric([status.name], status.lag_events)
            lag_seconds.add_metric([status.name], status.lag_seconds or 0)
            failing.add_metric([status.name], 1 if status.error else 0)
        yield from (position, lag_events, lag_seconds, failing)
        catch_up = GaugeMetricFamily("wms_projection_catch_up_seconds", "How long the last catch-up took.", labels=labels)
        rebuild = GaugeMetricFamily("wms_projection_rebuild_seconds", "How long the last rebuild took.", labels=labels)
        for name, catch_up_seconds, rebuild_seconds in Checkpoint.objects.values_list("name", "catch_up_seconds", "rebuild_seconds"):
            if catch_up_seconds is not None:
                catch_up.add_metric([name], catch_up_seconds)
            if rebuild_seconds is not None:
                rebuild.add_metric([name], rebuild_seconds)
        yield from (catch_up, rebuild)
        checked_at = GaugeMetricFamily("wms_ledger_verification_timestamp_seconds", "When the chain was last verified.")
        intact = GaugeMetricFamily("wms_ledger_verification_intact", "1 if the last chain verification found it intact.")
        last = ChainCheck.objects.order_by("-checked_at").first()
        if last is not None:
            checked_at.add_metric([], last.checked_at.timestamp())
            intact.add_metric([], 1 if last.intact else 0)
        yield from (checked_at, intact)


class _ThisProcess:
    """The default registry's metrics (one process: ``runserver``, the tests)."""

    def collect(self):
        yield from REGISTRY.collect()


def registry() -> CollectorRegistry:
    scraped = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.MultiProcessCollector(scraped)
    else:
        scraped.register(_ThisProcess())
    scraped.register(LedgerState())
    return scraped


def metrics(request) -> HttpResponse:
    return HttpResponse(generate_latest(registry()), content_type=CONTENT_TYPE_LATEST)
