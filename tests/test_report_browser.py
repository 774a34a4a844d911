"""The report and the web app in a real browser (Chromium from Debian, driven by Playwright): the views
render, links lead to the evidence, nothing leaves the file, and hostile article text never runs.

Needs `/usr/bin/chromium` (`make browser-deps` installs it where apt-get is available); skipped otherwise."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.test_report import HOSTILE_MARKERS, linked_store

from newstrace.present.report import write_report

CHROMIUM = Path("/usr/bin/chromium")

sync_api = pytest.importorskip(
    "playwright.sync_api", reason="Playwright is not installed (pip install -e '.[dev]')"
)
if not CHROMIUM.exists():
    pytest.skip(
        f"Chromium not found at {CHROMIUM}: run `make browser-deps` (apt-get install chromium) to run the browser tests",
        allow_module_level=True,
    )

# Whatever the hostile article tries sets this; it must stay unset.
XSS_FLAG = "window.__xss === undefined"


@pytest.fixture(scope="module")
def store_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return linked_store(tmp_path_factory)


@pytest.fixture(scope="module")
def report_url(store_path: Path, tmp_path_factory: pytest.TempPathFactory) -> str:
    out = tmp_path_factory.mktemp("browser") / "report.html"
    write_report(store_path, out)
    return out.as_uri()


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        yield chromium
        chromium.close()


class Watched:
    """A page that records requests leaving file:// and data:, dialogs, and script errors."""

    def __init__(self, browser: object, allowed: tuple[str, ...]) -> None:
        self.context = browser.new_context(viewport={"width": 1280, "height": 900})
        self.page = self.context.new_page()
        self.outside: list[str] = []
        self.dialogs: list[str] = []
        self.errors: list[str] = []
        self.context.route("**/*", self._route)
        self.page.on("dialog", self._dialog)
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.allowed = allowed

    def _route(self, route: object) -> None:
        if route.request.url.startswith(self.allowed):
            route.continue_()
        else:
            self.outside.append(route.request.url)
            route.abort()

    def _dialog(self, dialog: object) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def open(self, url: str) -> object:
        self.page.goto(url)
        return self.ready()

    def ready(self) -> object:
        self.page.wait_for_selector("main[data-ready]", state="attached")
        self.page.wait_for_selector("main .loading", state="detached")
        return self.page

    def check_clean(self) -> None:
        assert self.outside == [], f"requests left the page: {self.outside}"
        assert self.dialogs == [], f"dialogs opened: {self.dialogs}"
        assert self.errors == [], f"script errors: {self.errors}"
        assert self.page.evaluate(XSS_FLAG), (
            f"hostile text ran: window.__xss = {self.page.evaluate('window.__xss')}"
        )

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def watched(browser: object) -> Iterator[Watched]:
    page = Watched(browser, ("file:", "data:"))
    yield page
    page.close()


def _go(watched: Watched, url: str, fragment: str) -> object:
    # A new fragment is not a navigation: wait for the view it draws.
    watched.page.evaluate("document.querySelector('main').removeAttribute('data-ready')")
    watched.page.evaluate(f"location.hash = {fragment!r}")
    return watched.ready()


def test_report_views_render_and_lead_to_the_evidence(watched, report_url):
    page = watched.open(report_url)
    assert page.locator("[data-narrative]").count() >= 5
    page.locator("[data-narrative] a").first.click()
    watched.ready()
    assert page.locator(".timeline-chart .tl-point").count() >= 3
    assert page.locator(".chain .link-card").count() >= 3
    evidence = page.locator(".chain .sentence .m-content, .chain .sentence .m-claim").first
    assert evidence.inner_text().strip()
    page.locator(".chain .link-card a", has_text="Open the document").first.click()
    watched.ready()
    focus = page.locator(".doctext #focus")
    assert focus.count() == 1 and focus.inner_text().strip()
    assert page.locator(".doctext .m-source").count() > 0
    page = _go(watched, report_url, "#/map")
    assert page.locator(".map .land").count() == 1
    assert page.locator(".map circle.place").count() >= 10
    page = _go(watched, report_url, "#/actors")
    assert page.locator(".actor-list li").count() >= 5
    assert page.locator(".matrix table").count() >= 1
    watched.check_clean()


def test_report_search_finds_claims_and_documents(watched, report_url):
    page = watched.open(report_url)
    page.fill("#search-input", "chlorine")
    page.press("#search-input", "Enter")
    watched.ready()
    assert page.locator(".hit mark").count() >= 5
    assert "claims and" in page.locator("main .lead").inner_text()
    watched.check_clean()


def _hostile_views(watched: Watched, base: str) -> None:
    page = watched.open(base + "#/search?q=xss")
    hits = page.locator(".hit")
    assert hits.count() >= 2
    page.locator(".hit a", has_text="Ministry warns").first.click()
    page = watched.ready()
    text = page.locator(".doctext").inner_text()
    for marker in HOSTILE_MARKERS:
        assert marker in text  # shown as text, exactly as written
    assert "<img src=x" in page.locator("h1").inner_text()
    assert page.locator("main img, main script, main iframe, main svg[onload]").count() == 0
    page.mouse.move(300, 300)
    for link in page.locator(".doctext span").all()[:15]:
        link.hover()
    narrative = page.locator(".side a", has_text="narrative").first
    if narrative.count():
        narrative.click()
        watched.ready()
        page.locator(".tl-point").first.click()
    watched.check_clean()


def test_hostile_article_does_not_run_in_the_report(watched, report_url):
    _hostile_views(watched, report_url)


@pytest.fixture(scope="module")
def server_url(store_path: Path) -> Iterator[str]:
    import uvicorn

    from newstrace.present.server import create_app

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(create_app(store_path), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "the web app did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}/"
    server.should_exit = True
    thread.join(10)


def test_hostile_article_does_not_run_in_the_web_app(browser, server_url):
    watched = Watched(browser, (server_url, "data:"))
    try:
        _hostile_views(watched, server_url)
        page = _go(watched, server_url, "#/narratives")
        assert page.locator("[data-narrative]").count() >= 5
        watched.check_clean()
    finally:
        watched.close()
