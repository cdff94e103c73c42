"""deploy/grafana: every PromQL expression of the dashboard names only metrics the app's /metrics
exposes, with label values it really has, and every panel asks the provisioned data source.

The exposed names come from the app itself: one movement of each kind, a batch, a reversal and
two refusals posted through the API, a catch-up, a rebuild and a chain verification, then
``GET /metrics`` with Django's test client, so that every labelled series exists. The metric
names are read from each expression with a small PromQL tokenizer (below).
"""
import json
import re
from dataclasses import dataclass

import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from tests.live import ROOT

GRAFANA = ROOT / "deploy" / "grafana"
DASHBOARD = GRAFANA / "dashboards" / "wms.json"
DATASOURCES = GRAFANA / "provisioning" / "datasources" / "prometheus.yaml"

# What the issue asks the dashboard to show, by the metric behind each panel.
REQUIRED = {
    "wms_movements_posted_total", "wms_posting_refusals_total",
    "django_http_requests_latency_seconds_by_view_method_bucket",
    "wms_posting_duration_seconds_bucket", "wms_projection_lag_events", "wms_projection_lag_seconds",
    "wms_ledger_head_position", "wms_database_up", "wms_redis_up", "wms_ledger_verification_timestamp_seconds",
}

# ---------------------------------------------------------------- a PromQL tokenizer

# Functions, aggregations and keywords: an identifier among these is never a metric's name.
FUNCTIONS = {
    "abs", "absent", "absent_over_time", "acos", "acosh", "asin", "asinh", "atan", "atanh", "avg_over_time", "ceil",
    "changes", "clamp", "clamp_max", "clamp_min", "cos", "cosh", "count_over_time", "day_of_month", "day_of_week",
    "day_of_year", "days_in_month", "deg", "delta", "deriv", "double_exponential_smoothing", "exp", "floor",
    "histogram_avg", "histogram_count", "histogram_fraction", "histogram_quantile", "histogram_stddev",
    "histogram_stdvar", "histogram_sum", "holt_winters", "hour", "idelta", "increase", "info", "irate", "label_join",
    "label_replace", "last_over_time", "ln", "log10", "log2", "mad_over_time", "max_over_time", "min_over_time",
    "minute", "month", "pi", "predict_linear", "present_over_time", "quantile_over_time", "rad", "rate", "resets",
    "round", "scalar", "sgn", "sin", "sinh", "sort", "sort_by_label", "sort_by_label_desc", "sort_desc", "sqrt",
    "stddev_over_time", "stdvar_over_time", "sum_over_time", "tan", "tanh", "time", "timestamp", "vector", "year",
}
AGGREGATIONS = {"sum", "min", "max", "avg", "group", "stddev", "stdvar", "count", "count_values", "bottomk", "topk",
                "quantile", "limitk", "limit_ratio"}
GROUPING = {"by", "without", "on", "ignoring", "group_left", "group_right"}  # each followed by ( label, ... )
KEYWORDS = {"and", "or", "unless", "atan2", "bool", "offset", "inf", "nan"} | GROUPING

TOKEN = re.compile(r"""
    (?P<space>\s+)
  | (?P<string>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`)
  | (?P<variable>\$\{?\w+(?::\w+)?\}?)           # a Grafana variable: $__rate_interval, ${job}
  | (?P<number>0x[0-9a-fA-F]+|(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?(?:[smhdwy]|ms)?(?:\d+(?:[smhdwy]|ms))*)
  | (?P<ident>[A-Za-z_:][A-Za-z0-9_:]*)
  | (?P<operator>=~|!~|!=|==|<=|>=|[-+*/%^=<>,(){}\[\]@])
""", re.VERBOSE)


@dataclass(frozen=True)
class Selector:
    metric: str
    matchers: tuple  # (label, operator, value)


def tokens(expression: str) -> list[tuple[str, str]]:
    found, position = [], 0
    while position < len(expression):
        match = TOKEN.match(expression, position)
        assert match, f"cannot read PromQL at {expression[position:]!r} in {expression!r}"
        if match.lastgroup != "space":
            found.append((match.lastgroup, match.group()))
        position = match.end()
    return found


def selectors(expression: str) -> list[Selector]:
    """Each metric an expression selects, with its label matchers. An identifier is a metric's name
    unless it is a function or aggregation (followed by "(" or a grouping clause), a keyword, a label
    inside {...} or a grouping's (...), or a duration inside [...]."""
    found = []
    items = tokens(expression)
    index = 0
    while index < len(items):
        kind, text = items[index]
        following = items[index + 1][1] if index + 1 < len(items) else ""
        if kind == "ident" and text.lower() in GROUPING and following == "(":
            index = _closing(items, index + 1, "(", ")") + 1  # by (le, view): labels, not metrics
            continue
        if text == "[":
            index = _closing(items, index, "[", "]") + 1  # [5m], [$__rate_interval], [1h:1m]
            continue
        if text == "{":  # a selector with no name: {__name__="..."} is not used here
            raise AssertionError(f"a selector without a metric name in {expression!r}")
        if kind == "ident" and text.lower() not in KEYWORDS:
            is_call = following == "(" or (text in AGGREGATIONS and following.lower() in GROUPING)
            if is_call:
                assert text in FUNCTIONS or text in AGGREGATIONS, f"unknown function {text} in {expression!r}"
            else:
                matchers = ()
                if following == "{":
                    end = _closing(items, index + 1, "{", "}")
                    matchers = _matchers(items[index + 2:end], expression)
                    index = end
                found.append(Selector(text, matchers))
        index += 1
    return found


def _closing(items, start: int, opening: str, closing: str) -> int:
    depth = 0
    for index in range(start, len(items)):
        depth += {opening: 1, closing: -1}.get(items[index][1], 0)
        if depth == 0:
            return index
    raise AssertionError(f"no closing {closing} in {' '.join(text for _, text in items)}")


def _matchers(items, expression: str) -> tuple:
    matchers = []
    for start in range(0, len(items), 4):  # label op "value" [,]
        label, operator, value = (text for _, text in items[start:start + 3])
        assert items[start][0] == "ident" and items[start + 2][0] == "string", f"a matcher in {expression!r}"
        matchers.append((label, operator, value[1:-1]))
    return tuple(matchers)


def test_the_tokenizer_reads_metric_names_and_nothing_else():
    assert selectors("histogram_quantile(0.99, sum by (le) (rate(x_bucket[5m])))") == [Selector("x_bucket", ())]
    assert selectors('sum without (instance) (rate(a_total{kind=~"b|c", d!="e"}[$__rate_interval])) / on (f) '
                     "group_left g offset 5m") == [
        Selector("a_total", (("kind", "=~", "b|c"), ("d", "!=", "e"))), Selector("g", ())]
    assert selectors("time() - max(wms_x_seconds) > bool 86400 and topk(3, y) or sum(z) by (le)") == [
        Selector("wms_x_seconds", ()), Selector("y", ()), Selector("z", ())]
    assert selectors("rate(sum_total[1m]) + count_total") == [Selector("sum_total", ()), Selector("count_total", ())]


# ---------------------------------------------------------------- what the app exposes

@pytest.fixture
def exposed(clerk_client, auditor_client, product, bins, client) -> dict[str, list[dict]]:
    """Each sample name /metrics exposes -> the label sets it has, once every series exists."""
    from projections.services import projections_catch_up, projections_rebuild

    movements = "/api/v1/movements/"
    here, there = bins[0].pk, bins[1].pk
    posted = [clerk_client.post(movements, body, format="json") for body in (
        {"kind": "receipt", "product": product.pk, "location": here, "quantity": "10"},
        {"kind": "issue", "product": product.pk, "location": here, "quantity": "1"},
        {"kind": "transfer", "product": product.pk, "from_location": here, "to_location": there, "quantity": "2"},
        {"kind": "count", "product": product.pk, "location": there, "counted_quantity": "5"},
    )]
    posted.append(clerk_client.post(f"{movements}batch/", {"movements": [
        {"kind": "receipt", "product": product.pk, "location": there, "quantity": "1"},
        {"kind": "receipt", "product": product.pk, "location": here, "quantity": "1"},
    ]}, format="json"))
    posted.append(clerk_client.post(f"{movements}{posted[1].json()['position']}/reverse/", {"reason": "t"}, format="json"))
    assert [r.status_code for r in posted] == [201] * 6, [r.json() for r in posted]
    refused = [
        clerk_client.post(movements, {"kind": "issue", "product": product.pk, "location": here, "quantity": "9999"},
                          format="json"),
        clerk_client.post(movements, {"kind": "issue", "product": product.pk, "location": here}, format="json"),
    ]
    assert [r.json()["code"] for r in refused] == ["insufficient_stock", "validation_error"]
    projections_catch_up()
    projections_rebuild()
    assert auditor_client.get("/api/v1/ledger/verify/").json()["intact"] is True

    response = client.get("/metrics")
    assert response.status_code == 200
    samples: dict[str, list[dict]] = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for sample in family.samples:
            samples.setdefault(sample.name, []).append(sample.labels)
    return samples


def _expressions() -> list[tuple[str, str]]:
    dashboard = json.loads(DASHBOARD.read_text())
    return [(panel["title"], target["expr"]) for panel in _panels(dashboard) for target in panel.get("targets", [])]


def _panels(dashboard: dict) -> list[dict]:
    panels = []
    for panel in dashboard["panels"]:
        panels.append(panel)
        panels.extend(panel.get("panels", []))  # inside collapsed rows
    return panels


@pytest.mark.django_db
def test_every_expression_names_only_exposed_metrics_and_label_values(exposed):
    assert _expressions(), "the dashboard has queries"
    named = set()
    for title, expression in _expressions():
        for selector in selectors(expression):
            named.add(selector.metric)
            assert selector.metric in exposed, f"{title}: {selector.metric} is not exposed by /metrics ({expression})"
            for label, operator, value in selector.matchers:
                present = {labels.get(label) for labels in exposed[selector.metric]}
                assert present - {None}, f"{title}: {selector.metric} has no label {label}"
                if operator == "=":
                    assert value in present, f"{title}: {selector.metric}{{{label}={value!r}}} is never exposed; {present}"
                elif operator == "=~" and re.fullmatch(r"[\w.-]+(\|[\w.-]+)*", value):
                    for alternative in value.split("|"):
                        assert alternative in present, (
                            f"{title}: {selector.metric}{{{label}={alternative!r}}} is never exposed; {present}")
    assert REQUIRED <= named, f"panels missing for {sorted(REQUIRED - named)}"


def test_every_panel_asks_the_provisioned_prometheus():
    provisioned = yaml.safe_load(DATASOURCES.read_text())["datasources"]
    (source,) = [s for s in provisioned if s["type"] == "prometheus"]
    dashboard = json.loads(DASHBOARD.read_text())
    panels = [panel for panel in _panels(dashboard) if panel["type"] != "row"]
    assert panels
    for panel in panels:
        assert panel["datasource"] == {"type": "prometheus", "uid": source["uid"]}, panel["title"]
        assert panel["targets"], f"{panel['title']} has no query"
        for target in panel["targets"]:
            assert target.get("datasource", panel["datasource"]) == panel["datasource"], panel["title"]
            assert target["expr"].strip(), panel["title"]
    assert len({panel["id"] for panel in panels}) == len(panels), "panel ids are unique"
    assert all(p["gridPos"]["x"] + p["gridPos"]["w"] <= 24 for p in panels)
    assert dashboard["uid"] and dashboard["title"]
