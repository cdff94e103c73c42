"""The movement list and a movement's page in a real browser at a laptop's width (1,280 px).

Starts the app on a spare port with a SQLite file of its own (migrated, ``seed_demo``, and the
reversal of a demo transfer posted through the ledger's service), logs in to admin with Debian's
headless Chromium (Playwright drives it; never ``playwright install``), saves a screenshot of each
page to a temporary folder (printed, not committed) and checks what a person would: SKUs and
WAREHOUSE/CODE labels rather than ids, a reversal that reads back the way the stock went, and no
horizontal scrolling. Runs in the SQLite pass only; skipped without Chromium, except in CI.
"""
import re
from pathlib import Path

import pytest
from django.db import connection

from tests.browser import chromium, chromium_path, demo_env, demo_server, screenshot
from tests.live import manage

PORTS = range(18041, 18050)
WIDTH, HEIGHT = 1280, 800

# The demo's transfer of NUT-M8 (nothing issued from it since), reversed: the stock goes back from
# MAIN/A-02 to MAIN/RECV. Prints the positions of the transfer and of its reversal.
REVERSE_THE_TRANSFER = """
from django.contrib.auth.models import User
from ledger.models import Movement
from ledger.parsing import parse_reversal
from ledger.services import movement_post
transfer = Movement.objects.get(kind="transfer", product__sku="NUT-M8")
reversal = movement_post(
    user=User.objects.get(username="clerk"),
    movement=parse_reversal({"reference": "PUT-1-UNDO", "reason": "put away to the wrong bin"}, movement_id=transfer.pk),
).movement
print("positions", transfer.pk, reversal.pk)
"""

pytestmark = pytest.mark.skipif(
    connection.vendor != "sqlite", reason="runs once, in the SQLite pass (the browser does not depend on the database)"
)


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """The demo app, served on a spare port: (base URL, transfer's position, reversal's position)."""
    executable = chromium_path()
    folder = tmp_path_factory.mktemp("admin-screenshots")
    env = demo_env(folder)
    transfer, reversal = map(int, re.search(r"positions (\d+) (\d+)", manage(env, "shell", "-c", REVERSE_THE_TRANSFER)).groups())
    with demo_server(env, folder, PORTS) as base:
        yield {"base": base, "folder": folder, "chromium": executable, "transfer": transfer, "reversal": reversal}


@pytest.fixture(scope="module")
def browser(demo):
    with chromium(demo["chromium"]) as found:
        page = found.new_page(viewport={"width": WIDTH, "height": HEIGHT})
        page.goto(f"{demo['base']}/admin/login/?next=/admin/")
        page.fill("#id_username", "admin")
        page.fill("#id_password", "admin-demo-pass")
        with page.expect_navigation():
            page.click("input[type=submit]")
        assert page.url.endswith("/admin/"), "the demo admin could not log in"
        yield page


def _screenshot(page, demo, name: str, capsys) -> Path:
    return screenshot(page, demo["folder"], name, capsys, what="admin screenshot")


def _fits(page) -> dict:
    """The page's width beside the window's, and the result table's beside the box that holds it
    (admin lets a wide table scroll inside its box, which the page's width alone would not show)."""
    return page.evaluate(
        """() => {
            const table = document.querySelector('#result_list');
            return {
                page: document.documentElement.scrollWidth,
                window: window.innerWidth,
                table: table ? table.scrollWidth : 0,
                box: table ? table.parentElement.clientWidth : 0,
            };
        }"""
    )


def _rows(page) -> dict[str, str]:
    """The list's rows as text, by their number column ("#12")."""
    rows = page.eval_on_selector_all(
        "#result_list tbody tr",
        "rows => rows.map(row => Array.from(row.cells).map(cell => cell.innerText.replace(/\\s+/g, ' ').trim()))",
    )
    return {cells[0]: " | ".join(cells[1:]) for cells in rows}


def test_the_movement_list_shows_skus_and_codes_and_fits_1280_px(browser, demo, capsys):
    browser.goto(f"{demo['base']}/admin/ledger/movement/")
    _screenshot(browser, demo, "movement-list", capsys)
    text = browser.inner_text("#content")
    for label in ("BOLT-M8", "NUT-M8", "PAINT-W10", "MAIN/RECV", "MAIN/A-01", "MAIN/A-02", "EAST/RECV"):
        assert label in text, label
    assert not re.search(r"Movement object \(\d+\)", text)
    rows = _rows(browser)
    transfer, reversal = rows[f"#{demo['transfer']}"], rows[f"#{demo['reversal']}"]
    assert "| transfer | NUT-M8 | MAIN/RECV → MAIN/A-02 | 1500 | 500 / 1500 | PUT-1 | clerk" in transfer
    # The reversal's legs are the transfer's, negated: the stock went back from A-02 to RECV.
    assert f"| reversal of #{demo['transfer']} | NUT-M8 | MAIN/A-02 → MAIN/RECV | 1500 | 0 / 2000 | PUT-1-UNDO | clerk" in reversal
    fits = _fits(browser)
    assert fits["page"] <= WIDTH and fits["window"] == WIDTH, fits
    assert 0 < fits["table"] <= fits["box"], f"the table scrolls sideways inside its box: {fits}"


def test_a_reversals_page_reads_the_right_way_round_and_fits_1280_px(browser, demo, capsys):
    browser.goto(f"{demo['base']}/admin/ledger/movement/{demo['reversal']}/change/")
    _screenshot(browser, demo, "movement-page", capsys)
    title = browser.inner_text("#content h2")
    assert title == f"#{demo['reversal']} reversal of #{demo['transfer']} NUT-M8 MAIN/A-02 → MAIN/RECV 1500"
    assert browser.inner_text("div.breadcrumbs").endswith(title)
    text = browser.inner_text("#content")
    assert f"#{demo['transfer']} transfer NUT-M8 MAIN/RECV → MAIN/A-02 1500" in text  # the link to the original
    assert "MAIN/RECV: +1500, on hand after 2000" in text and "MAIN/A-02: -1500, on hand after 0" in text
    fits = _fits(browser)
    assert fits["page"] <= WIDTH, fits
