"""Every page of the console, empty and with a refused form, checked by axe-core in a real
browser, in both languages; and the sections reached from the keyboard alone."""

import re

import pytest
from playwright.async_api import Page, expect

from tests.console.browser.conftest import accessibility_violations, log_in

PAGES = [
    "/admin/dashboard",
    "/admin/members",
    "/admin/programme",
    "/admin/programme/settings",
    "/admin/programme/tiers",
    "/admin/programme/tiers/new",
    "/admin/programme/campaigns/new",
    "/admin/programme/rewards/new",
    "/admin/codes",
    "/admin/codes/batches",
    "/admin/webhooks",
    "/admin/webhooks/new",
]


# German text is longer, not differently built: a few pages show whether it still fits.
GERMAN_PAGES = ["/admin/dashboard", "/admin/members", "/admin/programme/settings", "/admin/codes"]


@pytest.mark.parametrize(("language", "paths"), [("English", PAGES), ("Deutsch", GERMAN_PAGES)])
async def test_every_page_passes_the_accessibility_checks(
    page: Page, admin_key_live: str, language: str, paths: list[str]
) -> None:
    await log_in(page, admin_key_live)
    await page.get_by_role("link", name=language).click()
    findings = {}
    for path in paths:
        response = await page.goto(path)
        assert response is not None
        assert response.status == 200, path
        await expect(page.get_by_role("heading", level=1)).to_have_count(1)
        violations = await accessibility_violations(page)
        if violations:
            findings[path] = violations
    # A refused form: its messages stand next to the fields and are tied to them.
    await page.goto("/admin/programme/tiers/new")
    # The browser's own check of required fields would stop the form before the server.
    await page.evaluate("document.querySelectorAll('form').forEach(f => f.noValidate = true)")
    await page.get_by_role("button", name=re.compile("Create tier|Stufe anlegen")).click()
    await expect(page.locator("[aria-invalid=true]").first).to_be_visible()
    violations = await accessibility_violations(page)
    if violations:
        findings["refused tier form"] = violations
    assert findings == {}


async def test_the_sections_and_a_form_work_from_the_keyboard(
    page: Page, admin_key_live: str
) -> None:
    await log_in(page, admin_key_live)
    await page.keyboard.press("Tab")
    await expect(page.get_by_role("link", name="Skip to content")).to_be_focused()
    # Then the brand and the sections, in the order they are shown.
    members = page.get_by_role("link", name="Members", exact=True)
    for _ in range(4):
        await page.keyboard.press("Tab")
        if await members.evaluate("link => link === document.activeElement"):
            break
    await expect(members).to_be_focused()
    await page.keyboard.press("Enter")
    await expect(page).to_have_url(re.compile(r"/admin/members"))

    search = page.get_by_role("searchbox", name="Search members").or_(
        page.get_by_role("textbox", name="Search members")
    )
    await search.focus()
    await page.keyboard.type("nobody-at-all")
    await page.keyboard.press("Enter")
    await expect(page).to_have_url(re.compile(r"nobody-at-all"))
