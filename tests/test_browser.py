"""Open the report and the Dagster UI in a real headless Chromium and check what a reader sees.

Needs Debian's chromium + chromium-driver (/usr/bin/chromium, /usr/bin/chromedriver) and selenium.
Without them the test skips with the reason; under CI (CI=true) it fails instead, so CI can
never pass by skipping it. `.ci/run` installs the two packages (and no CJK font: the report
must carry its own). The UI tests start the report server and dagster-webserver as
subprocesses on free local ports and stop them.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import numpy as np
import pytest
from helpers import render_fixture_report

CHROMIUM = os.environ.get("EVENTLAB_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("EVENTLAB_CHROMEDRIVER", "/usr/bin/chromedriver")
UNDER_CI = os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")


def _unavailable_reason() -> str | None:
    missing = [
        p for p in (CHROMIUM, CHROMEDRIVER) if not (Path(p).is_file() and os.access(p, os.X_OK))
    ]
    if missing:
        return f"headless browser not installed ({', '.join(missing)} missing): apt-get install -y chromium chromium-driver"
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed: pip install -e '.[dev]'"
    return None


def _require_browser() -> None:
    reason = _unavailable_reason()
    if reason is None:
        return
    if UNDER_CI:
        pytest.fail(f"CI=true but the browser test cannot run: {reason}")
    pytest.skip(reason)


@pytest.fixture
def driver():
    _require_browser()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="eventlab-chromium-")
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--window-size=1280,2000",
        f"--user-data-dir={profile}",
    ):
        opts.add_argument(flag)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    drv = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=opts)
    drv.set_page_load_timeout(20)
    try:
        yield drv
    finally:
        drv.quit()
        shutil.rmtree(profile, ignore_errors=True)


def test_report_renders_in_headless_browser(driver, tmp_path: Path) -> None:
    html = render_fixture_report(tmp_path, with_chart=True)
    driver.get(html.as_uri())
    assert "Gap up, close red" in driver.title

    # every <img> decoded (base64 PNGs): naturalWidth > 0 and complete
    imgs = driver.execute_script(
        "return Array.from(document.images).map(i => [i.alt, i.complete, i.naturalWidth, i.src.slice(0, 22)]);"
    )
    assert imgs, "the report has no <img>"
    broken = [i for i in imgs if not (i[1] and i[2] > 0)]
    assert not broken, f"images not loaded: {broken}"
    assert all(i[3].startswith("data:image/png") for i in imgs), imgs

    # the sections a reader needs are there and have content
    for section in ("summary", "events", "stats", "charts", "claims", "cta", "limits"):
        assert driver.find_element("id", section).text.strip(), f"section #{section} is empty"
    badges = driver.execute_script("return document.querySelectorAll('#claims td .badge').length;")
    assert badges >= 3

    # no console errors
    logs = driver.get_log("browser")
    severe = [e for e in logs if e.get("level") == "SEVERE"]
    assert not severe, f"console errors: {severe}"

    # screenshot: a real page, not blank (pixel variance over the full first screen)
    shot = tmp_path / "report.png"
    assert driver.save_screenshot(str(shot))
    from PIL import Image

    arr = np.asarray(Image.open(shot).convert("L"), dtype=float)
    assert arr.shape[0] > 500 and arr.shape[1] > 800
    assert arr.std() > 10, f"screenshot looks blank (pixel std {arr.std():.1f})"
    assert (arr < 100).mean() > 0.002, "no dark (text) pixels in the screenshot"
    keep = os.environ.get("EVENTLAB_KEEP_SCREENSHOT")
    if keep:
        shutil.copy(shot, keep)

    # at 1400 px and at 400 px: the answer fills the first screen, no sideways page scroll,
    # no banner on a default report, and every CSV / chart / manifest link names a file
    for metrics in (DESKTOP, PHONE):
        probe = _open_at(driver, html.as_uri(), metrics)
        _answer_on_first_screen(probe)
        assert probe["banner"] is None, probe
        scroll_w, client_w = _no_horizontal_scroll(driver)
        # (a desktop window's vertical scroll bar takes up to 20 px of the width)
        assert metrics["width"] - 20 <= client_w <= metrics["width"], client_w
        assert scroll_w <= client_w, (scroll_w, client_w)
    _readable_first_columns(driver)  # at 400 px, where they used to wrap a word per line
    links = driver.execute_script(FILE_LINKS)
    assert {"events.csv", "event_stats.csv", "charts/forward_paths.png"} <= set(links), links
    missing = [h for h in links if not (html.parent / h).is_file()]
    assert not missing, f"links to files that are not there: {missing}"
    driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


def test_non_default_report_says_so_in_a_banner(driver, tmp_path: Path) -> None:
    """A report rendered with a changed setting opens with a banner naming it, above the answer,
    on the first screen at both widths; the answer still fits there."""
    html = render_fixture_report(tmp_path, with_chart=False, changed={"study.gap_threshold": 0.015})
    for metrics in (DESKTOP, PHONE):
        probe = _open_at(driver, html.as_uri(), metrics)
        top, height, display, text = probe["banner"]
        assert display != "none" and height > 20 and 0 <= top < probe["top"], probe
        assert "Non-default settings" in text and "study.gap_threshold = 0.015" in text, text
        _answer_on_first_screen(probe)
        scroll_w, client_w = _no_horizontal_scroll(driver)
        assert scroll_w <= client_w <= metrics["width"], (scroll_w, client_w)
    driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


# ------------------------------------------------------------------ the real report, served


def _wait_http(url: str, timeout: float, proc: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"{proc.args[:3]} exited with {proc.returncode} before answering")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.3)
    raise TimeoutError(f"{url} did not answer within {timeout:.0f} s")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def _process(args: list[str], env: dict[str, str] | None = None):
    """A subprocess that is always stopped (terminate, then kill) when the block ends."""
    proc = subprocess.Popen(
        args,
        env={**os.environ, **(env or {})},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


def _click_report_link(driver, selector: str, wait: float) -> bool:
    """Click the link as a user would: skip the first-visit 'Join the Dagster community' dialog
    if it shows (it covers the metadata), then a real click on the link (it fails if anything
    covers it). React re-renders the page while it loads, so elements are looked up afresh."""
    from selenium.common.exceptions import (
        ElementClickInterceptedException,
        StaleElementReferenceException,
    )

    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        try:
            for b in driver.find_elements("css selector", "button"):
                if b.text.strip() == "Skip" and b.is_displayed():
                    b.click()
            links = driver.find_elements("css selector", selector)
            if links:
                driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", links[0])
                links[0].click()
                return True
        except (StaleElementReferenceException, ElementClickInterceptedException):
            pass
        time.sleep(0.5)
    return False


@pytest.fixture
def report_server(materialized):
    """`python -m commands.report_server` on the address the metadata links point at
    (EVENTLAB_REPORTS_URL, a free port chosen in conftest), serving the run's reports root."""
    from pipelines.links import base_url

    port = urlsplit(base_url()).port
    args = [
        sys.executable,
        "-m",
        "commands.report_server",
        "--root",
        str(materialized.reports_root),
    ]
    with _process([*args, "--port", str(port)]) as proc:
        _wait_http(base_url() + "/", 20, proc)
        time.sleep(0.3)  # a server that could not bind exits at once: the answer was another's
        assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else proc.returncode
        yield base_url()


def _report_url(materialized) -> str:
    import dagster as dg

    event = materialized.instance.get_latest_materialization_event(dg.AssetKey("report"))
    return event.asset_materialization.metadata["report_html"].value


def _no_horizontal_scroll(driver) -> tuple[int, int]:
    return tuple(
        driver.execute_script(
            "return [document.documentElement.scrollWidth, document.documentElement.clientWidth];"
        )
    )


DESKTOP = {"width": 1400, "height": 900, "deviceScaleFactor": 1, "mobile": False}
PHONE = {"width": 400, "height": 850, "deviceScaleFactor": 2, "mobile": True}
FILE_LINKS = """return Array.from(document.querySelectorAll('a[href]'))
    .map(a => a.getAttribute('href')).filter(h => /[.](csv|png|json)$/.test(h));"""
ANSWER_PROBE = """const a = document.querySelector('#answer');
if (!a) return null; const r = a.getBoundingClientRect();
const b = document.querySelector('#non-default');
return {top: r.top, bottom: r.bottom, screen: window.innerHeight, text: a.innerText,
        banner: b ? [b.getBoundingClientRect().top, b.getBoundingClientRect().height,
                     getComputedStyle(b).display, b.innerText] : null};"""


def _open_at(driver, url: str, metrics: dict) -> dict:
    """Load `url` in a viewport of `metrics` (CSS px) and return where the answer sits."""
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", metrics)
    driver.get(url)
    driver.execute_script("window.scrollTo(0, 0);")
    probe = driver.execute_script(ANSWER_PROBE)
    assert probe is not None, "the report has no #answer section"
    return probe


FIRST_COLUMNS = """return Array.from(document.querySelectorAll('.scroll table tbody tr'))
    .map(r => r.firstElementChild)
    .map(c => [c.innerText.trim(), c.getBoundingClientRect().width]);"""


def _readable_first_columns(driver) -> None:
    """Every table's first column keeps room for a few words (about 8 em, 100 px), not one per
    line; a cell of one word (an ID) may be narrower, as it cannot wrap."""
    cells = driver.execute_script(FIRST_COLUMNS)
    narrow = [c for c in cells if c[1] < 100 and any(ch.isspace() for ch in c[0])]
    assert cells and not narrow, narrow[:5]


def _answer_on_first_screen(probe: dict) -> None:
    """The plain answer (what happened, how sure) is whole within the first screen."""
    assert probe["top"] >= 0 and probe["bottom"] <= probe["screen"], probe
    assert "median return was" in probe["text"] and "on ordinary days" in probe["text"], probe


CJK_PROBE = """
const el = document.querySelector('#claims .zh');
const text = el.textContent;
const cjk = Array.from(text).filter(c => /[\u3000-\u9fff\uff00-\uffef]/.test(c));
// two different characters drawn in the embedded face: tofu boxes would be pixel-identical
const draw = (ch, family) => {
  const c = document.createElement('canvas'); c.width = 40; c.height = 40;
  const g = c.getContext('2d'); g.font = '32px ' + family; g.fillText(ch, 2, 32);
  return Array.from(g.getImageData(0, 0, 40, 40).data).join(',');
};
const a = cjk[0], b = cjk.find(c => c !== a);
return {
  text, cjk: cjk.length, a, b,
  loaded: document.fonts.check('16px "eventlab CJK"', cjk.join('')),
  distinct: draw(a, '"eventlab CJK"') !== draw(b, '"eventlab CJK"'),
  inked: draw(a, '"eventlab CJK"') !== draw(' ', '"eventlab CJK"'),
};
"""


def test_published_report_on_desktop_and_phone(driver, materialized, report_server) -> None:
    """The report asset's http link opens the published report; every chart loads; the Chinese
    quotes render in the embedded font (not boxes); at 400 px nothing scrolls sideways; a chart
    opens full size on click; the table of contents stays reachable."""
    url = _report_url(materialized)
    assert url.startswith(report_server + "/")
    driver.get(url)
    assert "Gap up, close red" in driver.title
    imgs = driver.execute_script(
        "return Array.from(document.images).map(i => [i.alt, i.complete, i.naturalWidth]);"
    )
    assert len(imgs) >= 10 and all(c and w > 0 for _, c, w in imgs), imgs

    # CJK: the text is in the embedded face, which draws distinct, inked glyphs
    probe = driver.execute_script(CJK_PROBE)
    assert probe["cjk"] >= 2 and probe["loaded"], probe
    assert probe["distinct"] and probe["inked"], f"CJK glyphs render as boxes: {probe}"
    driver.execute_cdp_cmd("DOM.enable", {})
    driver.execute_cdp_cmd("CSS.enable", {})
    root = driver.execute_cdp_cmd("DOM.getDocument", {"depth": 0})["root"]["nodeId"]
    node = driver.execute_cdp_cmd("DOM.querySelector", {"nodeId": root, "selector": "#claims .zh"})
    fonts = driver.execute_cdp_cmd("CSS.getPlatformFontsForNode", {"nodeId": node["nodeId"]})
    used = {f["familyName"]: f for f in fonts["fonts"]}
    cjk_face = [f for f in used.values() if f.get("isCustomFont") and "CJK" in f["familyName"]]
    assert cjk_face and cjk_face[0]["glyphCount"] >= probe["cjk"], fonts

    # the table of contents is still on screen at the bottom of the page
    driver.execute_script("window.scrollTo(0, document.body.scrollHeight);")
    top = driver.execute_script(
        "const r = document.querySelector('nav.toc').getBoundingClientRect(); return [r.top, r.height];"
    )
    assert top[0] == 0 and top[1] > 10, top

    # a click on a chart opens its PNG full size (at least as large as the embedded copy)
    driver.execute_script("window.scrollTo(0, 0);")
    link = driver.find_element("css selector", "figure.chart a.zoom")
    embedded = driver.execute_script("return arguments[0].querySelector('img').naturalWidth;", link)
    href = link.get_attribute("href")
    driver.execute_script("arguments[0].scrollIntoView();", link)
    link.click()
    assert driver.current_url == href and href.endswith(".png"), (driver.current_url, href)
    full = driver.execute_script("return document.images[0].naturalWidth;")
    assert full >= embedded > 0, (full, embedded)
    driver.back()

    # every CSV, chart and the manifest the report links is served
    links = driver.execute_script(FILE_LINKS)
    assert "manifest.json" in links and len([h for h in links if h.endswith(".csv")]) >= 15
    for h in sorted(set(links)):
        with urllib.request.urlopen(urljoin(url, h), timeout=5) as r:
            assert r.status == 200 and r.read(1), h

    # at 1400 px and at 400 px the plain answer is whole on the first screen; no banner
    for metrics in (DESKTOP, PHONE):
        probe = _open_at(driver, url, metrics)
        _answer_on_first_screen(probe)
        assert probe["banner"] is None, probe
    _readable_first_columns(driver)
    driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})

    # a phone: 400 CSS px wide, no sideways page scroll, wide tables scroll in their own box
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": 400, "height": 850, "deviceScaleFactor": 2, "mobile": True},
    )
    driver.get(url)
    scroll_w, client_w = _no_horizontal_scroll(driver)
    assert client_w == 400 and scroll_w <= client_w, (scroll_w, client_w)
    boxes = driver.execute_script(
        """return Array.from(document.querySelectorAll('table')).map(t => {
            const box = t.closest('.scroll'); return box ? box.getBoundingClientRect().right : 1e9; });"""
    )
    assert boxes and max(boxes) <= 400, boxes
    shot = driver.execute_script(
        "return document.querySelector('figure.chart img').getBoundingClientRect().width;"
    )
    assert shot <= 400
    keep = os.environ.get("EVENTLAB_KEEP_SCREENSHOT")
    if keep:
        driver.save_screenshot(keep.replace(".png", "-400.png"))
    driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


def test_one_click_from_the_ui_opens_the_report(driver, materialized, report_server) -> None:
    """dagster-webserver on the run's instance: the `report` asset's page shows an http link that
    opens the report in one click, and a chart's page shows the chart itself."""
    port = _free_port()
    ui = f"http://127.0.0.1:{port}"
    webserver = Path(sys.executable).with_name("dagster-webserver")
    args = [str(webserver), "-m", "pipelines.definitions", "-h", "127.0.0.1", "-p", str(port)]
    env = {"DAGSTER_HOME": str(materialized.instance.root_directory)}
    with _process(args, env) as proc:
        _wait_http(f"{ui}/server_info", 120, proc)
        url = _report_url(materialized)
        driver.get(f"{ui}/assets/report")
        before = set(driver.window_handles)
        assert _click_report_link(driver, f'a[href="{url}"]', 90), (
            f"no clickable link to {url} on the report asset's page"
        )
        deadline = time.monotonic() + 20
        while set(driver.window_handles) == before and time.monotonic() < deadline:
            time.sleep(0.2)
        new = (set(driver.window_handles) - before) or {driver.current_window_handle}
        driver.switch_to.window(new.pop())
        deadline = time.monotonic() + 60  # the report loads in seconds; make test runs 2 workers
        while "Gap up" not in driver.title and time.monotonic() < deadline:
            time.sleep(0.3)
        assert driver.current_url == url and "Gap up, close red" in driver.title

        # a chart asset's page shows the chart inline (an <img> served by the report server)
        driver.get(f"{ui}/assets/charts/mean_path")
        deadline = time.monotonic() + 60
        loaded = []
        while not loaded and time.monotonic() < deadline:
            loaded = driver.execute_script(
                f"""return Array.from(document.images).filter(i => i.src.startsWith('{report_server}')
                    && i.complete && i.naturalWidth > 0).map(i => i.src);"""
            )
            time.sleep(0.5)
        assert loaded, "the chart is not shown on its asset page"


@pytest.fixture(scope="module")
def universe_report(tmp_path_factory) -> Path:
    """A universe report of the first 12 tickers, published as the universe job publishes it."""
    from commands.run_universe import run_universe_job

    tmp = tmp_path_factory.mktemp("universe")
    result, folder = run_universe_job(
        first=12, workers=1, reports=str(tmp / "reports"), warehouse=str(tmp / "wh"),
        log_level="WARNING",
    )  # fmt: skip
    assert result.success
    return folder


def test_universe_report_on_desktop_and_phone(driver, universe_report) -> None:
    """The universe report in the house style: a viewport tag, no sideways scroll at 1400 or
    400 px (wide tables scroll in their own box), links to its CSVs that resolve, no literal
    Markdown backticks, the data line once, charts that load."""
    url = (universe_report / "report.html").as_uri()
    for width in (1400, 400):
        driver.execute_cdp_cmd(
            "Emulation.setDeviceMetricsOverride",
            {"width": width, "height": 900, "deviceScaleFactor": 1, "mobile": width < 700},
        )
        driver.get(url)
        assert "Universe study" in driver.title
        scroll_w, client_w = _no_horizontal_scroll(driver)
        assert width - 20 <= client_w <= width and scroll_w <= client_w, (width, scroll_w, client_w)
        boxes = driver.execute_script(
            """return Array.from(document.querySelectorAll('table')).map(t => {
                const box = t.closest('.scroll'); return box ? box.getBoundingClientRect().right : 1e9; });"""
        )
        assert boxes and max(boxes) <= width, boxes
    text = driver.execute_script("return document.body.innerText;")
    assert "`" not in text and text.count("Data: ") == 1, text[:400]
    imgs = driver.execute_script(
        "return Array.from(document.images).map(i => [i.alt, i.complete, i.naturalWidth]);"
    )
    assert imgs and all(c and w > 0 for _, c, w in imgs), imgs
    hrefs = driver.execute_script(
        "return Array.from(document.querySelectorAll('a[href$=\".csv\"]')).map(a => a.href);"
    )
    assert {Path(urlsplit(h).path).name for h in hrefs} >= {
        "pooled_stats.csv",
        "ticker_summary.csv",
    }
    assert all(Path(urlsplit(h).path).is_file() for h in hrefs), hrefs
    driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
