"""The console in a real browser: headless Chromium, driven by Playwright, against uvicorn.

The browser is the system's Chromium (Debian's ``chromium`` package; or the one named by
``STAMMKUNDE_CHROMIUM``): Playwright is only the driver and never downloads a browser.
Without a browser these tests are skipped, except where ``STAMMKUNDE_REQUIRE_BROWSER=1``
(CI), where a missing browser fails them. A failing test leaves a screenshot and the
page's HTML under ``test-results/browser/`` and names them in its output.

They run on the embedded SQLite database only: what they add over the console's httpx
tests (which run on both databases) is the browser, not the database.
"""

import os
import re
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from axe_playwright_python.async_playwright import Axe
from fastapi import FastAPI
from playwright.async_api import Browser, ConsoleMessage, Page, async_playwright, expect

from app.api_keys.models import Scope
from tests.conftest import create_key
from tests.live_server import PROJECT_ROOT, LiveServer

RESULTS_DIRECTORY = PROJECT_ROOT / "test-results" / "browser"
# Long enough for a loaded CI machine, short enough that a missing element fails quickly.
TIMEOUT_MS = 15_000
# What the console promises: WCAG 2.1 A and AA, which includes labels and colour contrast.
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]

REFUSED_RESOURCE = re.compile(r"Failed to load resource: the server responded with a status of 4")

expect.set_options(timeout=TIMEOUT_MS)


def chromium_path() -> str | None:
    configured = os.environ.get("STAMMKUNDE_CHROMIUM")
    if configured:
        return configured
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    unwanted = [
        item for item in items if here in item.path.parents and "[postgresql" in item.nodeid
    ]
    if unwanted:
        config.hook.pytest_deselected(items=unwanted)
        items[:] = [item for item in items if item not in unwanted]


@pytest.fixture(scope="session")
def chromium() -> str:
    path = chromium_path()
    if path is None:
        message = "no Chromium found (install Debian's chromium, or set STAMMKUNDE_CHROMIUM)"
        if os.environ.get("STAMMKUNDE_REQUIRE_BROWSER") == "1":
            pytest.fail(message)
        pytest.skip(message)
    return path


@pytest.fixture
async def browser(chromium: str) -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=chromium,
            headless=True,
            # Containers often lack the user namespaces Chromium's sandbox needs.
            args=["--no-sandbox", "--disable-dev-shm-usage"],
        )
        try:
            yield launched
        finally:
            await launched.close()


def _file_name(nodeid: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", nodeid.split("::", 1)[-1])[:120]


FAILED = pytest.StashKey[bool]()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> object:
    report = yield
    item.stash.setdefault(FAILED, False)
    if report.failed:
        item.stash[FAILED] = True
    return report


@pytest.fixture
async def page(
    browser: Browser, server: LiveServer, request: pytest.FixtureRequest
) -> AsyncIterator[Page]:
    """A fresh browser page on the live server; its language is English unless the test is
    marked ``@pytest.mark.browser_locale("de-DE")``."""
    marker = request.node.get_closest_marker("browser_locale")
    context = await browser.new_context(
        base_url=server.base_url,
        locale=marker.args[0] if marker else "en-GB",
        viewport={"width": 1280, "height": 900},
    )
    context.set_default_timeout(TIMEOUT_MS)
    opened = await context.new_page()
    console_errors: list[str] = []

    def note_error(message: ConsoleMessage) -> None:
        # A refused form or an unknown code is answered 4xx on purpose; Chromium logs those.
        if message.type == "error" and not REFUSED_RESOURCE.match(message.text):
            console_errors.append(message.text)

    opened.on("console", note_error)
    try:
        yield opened
        # The page may not have broken anything quietly: no CSP refusal, no script error.
        assert not console_errors, f"the browser console reported errors: {console_errors}"
    finally:
        if request.node.stash.get(FAILED, False):
            RESULTS_DIRECTORY.mkdir(parents=True, exist_ok=True)
            name = _file_name(request.node.nodeid)
            screenshot = RESULTS_DIRECTORY / f"{name}.png"
            await opened.screenshot(path=screenshot, full_page=True)
            (RESULTS_DIRECTORY / f"{name}.html").write_text(await opened.content())
            print(f"screenshot of the failing page: {screenshot} (url {opened.url})")
        await context.close()


@pytest.fixture
async def admin_key_live(server: LiveServer, app: FastAPI) -> str:
    return await create_key(app, Scope.admin, name="Shop manager")


@pytest.fixture
async def api(server: LiveServer, admin_key_live: str) -> AsyncIterator[httpx.AsyncClient]:
    """The /v1 API of the live server, as an admin: how test data comes in."""
    async with httpx.AsyncClient(
        base_url=server.base_url,
        headers={"Authorization": f"Bearer {admin_key_live}"},
        timeout=10,
        trust_env=False,
    ) as http:
        yield http


async def log_in(page: Page, api_key: str) -> None:
    await page.goto("/admin")
    await page.get_by_label("Admin API key").fill(api_key)
    await page.get_by_role("button", name="Log in").click()
    await page.wait_for_url(re.compile(r"/admin/dashboard"))


async def accessibility_violations(page: Page) -> list[str]:
    """axe-core's WCAG A/AA findings on the page as it is now, one line each."""
    results = await Axe().run(page, options={"runOnly": {"type": "tag", "values": AXE_TAGS}})
    return [
        f"{violation['id']}: {violation['help']} at "
        + ", ".join(str(node["target"]) for node in violation["nodes"][:5])
        for violation in results.response["violations"]
    ]
