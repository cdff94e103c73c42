"""The scanning page in a real browser: Debian's headless Chromium driven by Playwright, against the
demo app (tests/browser.py) with a lot-tracked MILK-1L added. The wedge is the keyboard API typing
fast and pressing Enter; the camera is Chromium's fake capture device playing a .y4m made (ffmpeg)
from a zint-rendered GS1-128 of MILK-1L with its lot and expiry; offline is the context's offline
switch. Screenshots of each state go to a temporary folder
(printed, not committed). Runs in the SQLite pass only; skipped without Chromium, zint or ffmpeg,
except in CI."""
import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest
from django.db import connection

from tests.browser import chromium, chromium_path, demo_env, demo_server, screenshot
from tests.live import manage

PORTS = range(18201, 18210)
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1024, "height": 800}
BOLT_EAN = "4006381333931"  # BOLT-M8's barcode in the demo
MILK_GTIN = "09506000134352"  # the GS1 specification's example GTIN, MILK-1L's barcode here
CAMERA_GS1 = f"[01]{MILK_GTIN}[17]271231[10]CAM-7"  # zint's form: the lot is read by the camera
WEDGE_GS1 = f"]C101{MILK_GTIN}17280630" "10W-42"  # as a hand scanner types it: AIM prefix, lot last
# A product tracked by lot whose barcode is a GTIN: what a GS1 label names (the demo has none).
ADD_MILK = (
    "from catalog.models import Product; "
    f"Product.objects.create(sku='MILK-1L', name='Milk 1 l', barcode='{MILK_GTIN}', tracking='lot')"
)
AXE = Path(__file__).parent / "vendor" / "axe.min.js"

pytestmark = pytest.mark.skipif(
    connection.vendor != "sqlite", reason="runs once, in the SQLite pass (the browser does not depend on the database)"
)


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found:
        return found
    if os.environ.get("CI"):
        pytest.fail(f"CI must run the scanning page's camera test: install Debian's {name} (.ci/run does)")
    pytest.skip(f"Debian's {name} is not installed; CI installs it")


def _camera_video(folder: Path) -> Path:
    """MILK-1L's GS1-128 (GTIN, expiry, lot) drawn by zint, padded onto a 640x480 white frame, as two
    seconds of .y4m (Chromium loops it)."""
    png, video = folder / "milk.png", folder / "milk.y4m"
    subprocess.run([_tool("zint"), "-b", "GS1_128", "--gs1", "-d", CAMERA_GS1, "--scale=3", "--notext", "-o", str(png)],
                   check=True, capture_output=True)
    subprocess.run([
        _tool("ffmpeg"), "-loglevel", "error", "-y", "-loop", "1", "-i", str(png), "-t", "2", "-r", "5",
        "-vf", "scale=w=560:h=-2,pad=640:480:(ow-iw)/2:(oh-ih)/2:white,format=yuv420p", str(video),
    ], check=True, capture_output=True)
    return video


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    executable = chromium_path()
    folder = tmp_path_factory.mktemp("scan-screenshots")
    video = _camera_video(folder)
    env = demo_env(folder)
    manage(env, "shell", "-c", ADD_MILK)
    fake_camera = ("--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream", f"--use-file-for-fake-video-capture={video}")
    with demo_server(env, folder, PORTS, ready="/scan/login/") as base, chromium(executable, args=fake_camera) as browser:
        yield {"base": base, "folder": folder, "browser": browser}


def _signed_in(demo, username: str, viewport=DESKTOP):
    context = demo["browser"].new_context(viewport=viewport)
    page = context.new_page()
    page.goto(f"{demo['base']}/scan/")
    assert "/scan/login/" in page.url
    page.fill("#id_username", username)
    page.fill("#id_password", f"{username}-demo-pass")
    with page.expect_navigation():
        page.click("button[type=submit]")
    page.wait_for_selector("#scanner[data-ready=true]")
    return context, page


@pytest.fixture
def clerk(demo):
    context, page = _signed_in(demo, "clerk")
    yield page
    context.close()


def _wedge(page, code: str) -> None:
    """A hand scanner: the code typed a few milliseconds a key, then Enter, with the focus on the page."""
    page.evaluate("document.activeElement && document.activeElement.blur()")
    page.keyboard.type(code, delay=5)
    page.keyboard.press("Enter")


def _result(page) -> tuple[str, str]:
    box = page.locator("#result")
    return box.get_attribute("class").split()[-1], box.inner_text()


def _wait_result(page, kind: str, text: str) -> str:
    page.wait_for_function(
        "([kind, text]) => { const b = document.getElementById('result'); return b.classList.contains(kind) && b.innerText.includes(text); }",
        arg=[kind, text], timeout=10_000,
    )
    return _result(page)[1]


def _head(page) -> int:
    return page.request.get(f"{page.url.split('/scan/')[0]}/api/v1/ledger/head/").json()["position"]


def _kind(page, kind: str) -> None:
    page.check(f"input[name=kind][value={kind}]")


def test_a_clerk_receives_issues_transfers_and_counts_with_the_wedge(clerk, demo, capsys):
    shot = lambda name: screenshot(clerk, demo["folder"], name, capsys, what="scan screenshot")  # noqa: E731
    _wedge(clerk, "MAIN/A-01")
    assert clerk.inner_text("#location") == "MAIN/A-01"
    assert clerk.get_attribute("#scanner", "data-last-source") == "wedge"
    shot("1-location")

    clerk.fill("#quantity", "3")
    _wedge(clerk, BOLT_EAN)
    text = _wait_result(clerk, "ok", "Posted")
    assert "BOLT-M8 at MAIN/A-01" in text and "on hand 1383" in text  # 2000 - 1500 ... 1380 + 3
    shot("2-receipt")

    _kind(clerk, "issue")
    clerk.fill("#quantity", "5000")
    _wedge(clerk, "BOLT-M8")  # the SKU scans too
    text = _wait_result(clerk, "refused", "Not enough stock")
    assert "1383" in text and "5000" in text, text  # how many are there, and how many were asked for
    shot("3-issue-refused")
    assert clerk.locator("#refusals li").count() == 0  # seen as it happened: not kept (a replay's refusal is)

    _kind(clerk, "transfer")
    clerk.fill("#quantity", "2")
    _wedge(clerk, "NUT-M8")
    _wedge(clerk, "MAIN/B-01")  # from A-01, where NUT-M8 has none
    _wait_result(clerk, "refused", "Not enough stock")
    _wedge(clerk, "MAIN/A-02")
    _kind(clerk, "transfer")
    clerk.fill("#quantity", "2")
    _wedge(clerk, "NUT-M8")
    assert "destination" in clerk.inner_text("#result")
    _wedge(clerk, "MAIN/B-01")
    text = _wait_result(clerk, "ok", "NUT-M8 MAIN/A-02 → MAIN/B-01")
    assert "on hand 1498 / 2" in text, text
    assert clerk.inner_text("#location") == "MAIN/A-02"  # the last location stays chosen

    _kind(clerk, "count")
    assert clerk.input_value("#quantity") == ""  # a count is typed, never the default 1
    _wedge(clerk, "4006381333948")
    _wait_result(clerk, "refused", "Type the count")
    clerk.fill("#quantity", "1490")
    clerk.wait_for_timeout(1600)  # past the repeat window
    _wedge(clerk, "4006381333948")
    text = _wait_result(clerk, "ok", "counted 1490 NUT-M8 at MAIN/A-02")
    assert "on hand 1490" in text, text
    assert clerk.input_value("#quantity") == ""
    shot("4-count")

    # A mistake reversed from this session's list: the count's reversal brings A-02 back to 1498.
    before = _head(clerk)
    clerk.click("#postings li:first-child button.reverse")
    text = _wait_result(clerk, "ok", "reversal of")
    assert "on hand 1498" in text, text
    assert _head(clerk) == before + 1
    assert clerk.inner_text("#postings li:first-child").startswith(f"#{before + 1} reversal: reversal of #{before}")
    assert clerk.locator("#postings li:first-child button").count() == 0  # a reversal is not reversed from here
    assert clerk.is_disabled("#postings li:nth-child(2) button.reverse")  # the count, reversed once
    shot("5-reversed")


def test_the_wedge_is_told_from_typing_and_a_repeat_is_ignored(clerk):
    _wedge(clerk, "MAIN/A-01")
    clerk.keyboard.type("MAIN/B-01", delay=300)  # a person typing on the page, not a scan
    clerk.keyboard.press("Enter")
    assert clerk.inner_text("#location") == "MAIN/A-01"
    before = _head(clerk)
    _wedge(clerk, "DRILL-18V")
    _wait_result(clerk, "ok", "DRILL-18V")
    _wedge(clerk, "DRILL-18V")  # the scanner read the label twice
    clerk.wait_for_timeout(300)
    assert _head(clerk) == before + 1


def _lot(page, code: str) -> dict:
    lots = page.request.get(f"{page.url.split('/scan/')[0]}/api/v1/lots/?code={code}").json()["results"]
    assert len(lots) == 1, lots
    return lots[0]


def test_the_camera_reads_a_gs1_label_and_receives_its_lot(clerk, demo, capsys):
    _wedge(clerk, "MAIN/RECV")
    before = _head(clerk)
    clerk.fill("#quantity", "12")
    assert not clerk.is_visible("#camera")  # no camera view until asked for
    clerk.click("#camera-toggle")
    clerk.wait_for_selector("#camera", state="visible")
    text = _wait_result(clerk, "ok", "MILK-1L at MAIN/RECV")
    assert clerk.get_attribute("#scanner", "data-last-source") == "camera"
    assert "lot CAM-7" in text and "on hand 12" in text, text
    screenshot(clerk, demo["folder"], "6-camera", capsys, what="scan screenshot")
    clerk.wait_for_timeout(1000)  # the video loops: the same label in frame is not posted again
    clerk.click("#camera-toggle")
    assert not clerk.is_visible("#camera") and clerk.get_attribute("#camera-toggle", "aria-pressed") == "false"
    assert _head(clerk) == before + 1, text
    lot = _lot(clerk, "CAM-7")
    assert (lot["sku"], lot["expires_on"], lot["on_hand"]) == ("MILK-1L", "2027-12-31", "12.000"), lot


def test_a_gs1_string_from_the_wedge_receives_and_issues_its_lot(clerk):
    _wedge(clerk, "MAIN/A-01")
    clerk.fill("#quantity", "5")
    _wedge(clerk, WEDGE_GS1)
    text = _wait_result(clerk, "ok", "MILK-1L at MAIN/A-01")
    assert "lot W-42" in text and "on hand 5" in text, text
    lot = _lot(clerk, "W-42")
    assert (lot["expires_on"], lot["on_hand"]) == ("2028-06-30", "5.000"), lot
    _kind(clerk, "issue")
    clerk.fill("#quantity", "2")
    clerk.wait_for_timeout(1600)  # past the repeat window: the same label again is a new scan
    _wedge(clerk, WEDGE_GS1)
    text = _wait_result(clerk, "ok", "2 MILK-1L at MAIN/A-01")
    assert "lot W-42" in text and "on hand 3" in text, text
    # A label that gives its count (AI 37), in the parentheses form: the label's count is received.
    _kind(clerk, "receipt")
    _wedge(clerk, f"(01){MILK_GTIN}(37)4(10)W-43(17)280731")
    text = _wait_result(clerk, "ok", "the label's count of MILK-1L at MAIN/A-01")
    assert "lot W-43" in text and "on hand 4" in text, text  # a lot-tracked balance is the lot's
    assert _lot(clerk, "W-43")["on_hand"] == "4.000"
    # The same as the camera hands it over: the symbology identifier, FNC1 as GS after the lot.
    clerk.evaluate("code => window.scanApp.scan(code, 'camera')", f"]C101{MILK_GTIN}10W-44\x1d376")
    text = _wait_result(clerk, "ok", "lot W-44")
    assert _lot(clerk, "W-44")["on_hand"] == "6.000", text


def test_offline_scans_wait_in_the_outbox_and_post_exactly_once(demo, capsys):
    context, page = _signed_in(demo, "clerk", viewport=PHONE)
    try:
        _wedge(page, "MAIN/RECV")
        before = _head(page)
        context.set_offline(True)
        for sku in ("BOLT-M8", "NUT-M8", "DRILL-18V", "PAINT-W10", "CABLE-3x1.5"):
            _wedge(page, sku)
            page.wait_for_timeout(100)
        page.wait_for_function("document.getElementById('pending-count').textContent === '5'")
        assert "Offline" in page.inner_text("#network")
        queued = page.evaluate("window.scanApp.outbox()")
        assert len({item["key"] for item in queued}) == 5
        screenshot(page, demo["folder"], "7-offline-phone", capsys, what="scan screenshot")
        fits = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        assert fits[0] <= fits[1], f"the page scrolls sideways at a phone's width: {fits}"

        context.set_offline(False)
        page.wait_for_function("document.getElementById('pending-count').textContent === '0'", timeout=10_000)
        assert _head(page) == before + 5
        # The same items, with the same keys, replayed twice: the API answers the originals.
        for _ in range(2):
            page.evaluate("items => window.scanApp.requeue(items)", queued)
            page.evaluate("window.scanApp.flush()")
            page.wait_for_function("document.getElementById('pending-count').textContent === '0'")
        assert "Already posted" in page.inner_text("#result")
        assert _head(page) == before + 5
        screenshot(page, demo["folder"], "8-back-online-phone", capsys, what="scan screenshot")
    finally:
        context.close()


def test_a_refusal_on_replay_is_kept_until_dismissed(demo):
    context, page = _signed_in(demo, "clerk")
    try:
        _wedge(page, "EAST/A-01")  # nothing there
        context.set_offline(True)
        _kind(page, "issue")
        _wedge(page, "PAINT-W10")
        page.wait_for_function("document.getElementById('pending-count').textContent === '1'")
        # The outbox counts the scan before its first send is tried: wait until that send has failed,
        # or the network may be back in time for it (a refusal seen as it is made is not kept).
        page.wait_for_selector("#result.pending")
        context.set_offline(False)
        page.wait_for_selector("#refusals li.refused")
        # how many are there (none) and how many were asked for
        assert "Only 0 on hand of PAINT-W10 at EAST/A-01; 1 requested." in page.inner_text("#refusals")
        assert "Not enough stock" in page.inner_text("#result")
        page.reload()
        page.wait_for_selector("#scanner[data-ready=true]")
        assert page.locator("#refusals li.refused").count() == 1  # kept across a reload
        page.click("#refusals li.refused button")
        page.wait_for_function("document.querySelectorAll('#refusals li').length === 0")
    finally:
        context.close()


def test_an_auditor_sees_why_they_cannot_post(demo, capsys):
    context, page = _signed_in(demo, "auditor")
    try:
        assert "only clerks may" in page.inner_text("#cannot-post")
        before = _head(page)
        _wedge(page, "MAIN/A-01")
        _wedge(page, "BOLT-M8")
        _wait_result(page, "refused", "You may not post")
        assert _head(page) == before
        # Nor can the page's way round be forced: the API itself refuses the session.
        answer = page.evaluate("""() => fetch('/api/v1/movements/', {method: 'POST', credentials: 'same-origin',
            headers: {'Content-Type': 'application/json', 'X-CSRFToken': document.cookie.match(/csrftoken=([^;]*)/)[1]},
            body: JSON.stringify({kind: 'receipt', product: 1, location: 1, quantity: '1'})}).then(r => r.status)""")
        assert answer == 403
        screenshot(page, demo["folder"], "9-auditor", capsys, what="scan screenshot")
    finally:
        context.close()


# Notes the moment the page sets data-ready (it has its codes, has sent its outbox and takes scans).
NOTE_READY = """new MutationObserver((changes, observer) => {
    if (document.getElementById('scanner')?.dataset.ready) { window.readyAt = performance.now(); observer.disconnect(); }
}).observe(document, {subtree: true, attributes: true, attributeFilter: ['data-ready']});"""


def _load_ms(page) -> dict:
    """The navigation's times, from its start: to the load event, and to the page taking scans."""
    page.wait_for_selector("#scanner[data-ready=true]")
    return page.evaluate("""() => { const n = performance.getEntriesByType('navigation')[0];
        return {load: n.loadEventEnd - n.startTime, ready: window.readyAt - n.startTime}; }""")


def test_the_page_loads_fast_works_offline_and_passes_axe(clerk, demo, capsys):
    # Cold: a new context (empty cache, no service worker) with the clerk's session cookie.
    cold_context = demo["browser"].new_context(viewport=DESKTOP, storage_state=clerk.context.storage_state())
    try:
        cold_context.add_init_script(NOTE_READY)
        cold_page = cold_context.new_page()
        cold_page.goto(f"{demo['base']}/scan/")
        cold = _load_ms(cold_page)
    finally:
        cold_context.close()
    clerk.context.add_init_script(NOTE_READY)
    clerk.reload()
    warm = _load_ms(clerk)
    with capsys.disabled():
        print(f"\nscan page load: cold {cold['load']:.0f} ms (ready {cold['ready']:.0f} ms), "
              f"warm {warm['load']:.0f} ms (ready {warm['ready']:.0f} ms)")
    assert cold["load"] < 1000 and cold["ready"] < 1000, cold
    # The service worker serves the page's own files without a network.
    clerk.evaluate("navigator.serviceWorker.ready.then(() => true)")
    clerk.reload()  # now controlled by the worker
    clerk.wait_for_selector("#scanner[data-ready=true]")
    clerk.context.set_offline(True)
    try:
        clerk.reload()
        clerk.wait_for_selector("#scanner[data-ready=true]", timeout=10_000)
        _wedge(clerk, "MAIN/A-01")  # the codes come from IndexedDB
        assert clerk.inner_text("#location") == "MAIN/A-01"
    finally:
        clerk.context.set_offline(False)
    _assert_axe_passes(clerk)


def _assert_axe_passes(page) -> None:
    """axe-core's WCAG 2 A and AA rules (labels, contrast, names, ...) find nothing on the page."""
    page.add_script_tag(path=str(AXE))
    results = page.evaluate("axe.run(document, {runOnly: ['wcag2a', 'wcag2aa']})")
    violations = [(v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3]) for v in results["violations"]]
    assert not violations, violations
    assert results["passes"], "axe ran no rule"


def test_the_focus_is_visible_and_follows_the_page(clerk):
    """Tab reaches the controls in reading order and each focused one draws the outline."""
    clerk.focus("#quantity")
    seen = []
    for _ in range(4):
        clerk.keyboard.press("Tab")
        seen.append(clerk.evaluate("""() => { const e = document.activeElement, s = getComputedStyle(e);
            return [e.id || e.textContent.trim(), s.outlineStyle, s.outlineWidth]; }"""))
    assert [name for name, _, _ in seen] == ["plus", "code", "Enter", "camera-toggle"], seen
    assert all(style == "solid" and width == "3px" for _, style, width in seen), seen


# Each label's SVG drawn on a canvas four times its size and read back by the page's own decoder.
READ_LABELS = """async ([wasm]) => {
    await ZXingWASM.prepareZXingModule({overrides: {locateFile: () => wasm}, fireImmediately: true});
    const read = [];
    for (const svg of document.querySelectorAll('.label svg')) {
        const image = new Image();
        image.src = 'data:image/svg+xml,' + encodeURIComponent(new XMLSerializer().serializeToString(svg));
        await image.decode();
        const canvas = document.createElement('canvas');
        canvas.width = image.width * 4; canvas.height = image.height * 4;
        const context = canvas.getContext('2d');
        context.drawImage(image, 0, 0, canvas.width, canvas.height);
        const found = await ZXingWASM.readBarcodes(context.getImageData(0, 0, canvas.width, canvas.height), {formats: ['Code128']});
        read.push(found.length ? found[0].text : null);
    }
    return read;
}"""


def test_labels_page_prints_code128_that_scans_back_to_each_code(clerk, demo, capsys):
    clerk.goto(f"{demo['base']}/scan/labels/")
    assert clerk.locator(".label svg").count() == 8 + 6  # the demo's eight locations, its five products and MILK-1L
    screenshot(clerk, demo["folder"], "10-labels", capsys, what="scan screenshot")
    clerk.add_script_tag(url="/static/scan/vendor/zxing-wasm/reader.iife.js")
    read = clerk.evaluate(READ_LABELS, ["/static/scan/vendor/zxing-wasm/zxing_reader.wasm"])
    assert {"MAIN/A-01", "EAST/RECV", BOLT_EAN, "CABLE-3x1.5", MILK_GTIN} <= set(read), read
    assert read == [label.split("barcode ")[1] for label in clerk.locator(".label [role=img]").evaluate_all(
        "nodes => nodes.map(n => n.getAttribute('aria-label'))")]
    _assert_axe_passes(clerk)
