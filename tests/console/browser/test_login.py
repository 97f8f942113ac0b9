"""Logging in with a key, and the login page's accessibility, in a real browser."""

import re

import pytest
from playwright.async_api import Page, expect

from tests.console.browser.conftest import accessibility_violations, log_in


async def test_an_admin_logs_in_with_a_key_and_out_again(page: Page, admin_key_live: str) -> None:
    await page.goto("/admin/members")
    await expect(page).to_have_url(re.compile(r"/admin/login\?next="))
    assert await accessibility_violations(page) == []

    await page.get_by_label("Admin API key").fill("stk_wrong_key")
    await page.get_by_role("button", name="Log in").click()
    await expect(page.get_by_role("alert")).to_contain_text("not an admin key")

    await page.get_by_label("Admin API key").fill(admin_key_live)
    await page.get_by_role("button", name="Log in").click()
    # Back where the visitor wanted to go.
    await expect(page).to_have_url(re.compile(r"/admin/members$"))
    cookies = {cookie["name"]: cookie for cookie in await page.context.cookies()}
    session = cookies["stammkunde_console"]
    assert session["httpOnly"] is True
    assert session["sameSite"] == "Strict"
    # Scripts on the page cannot read the session.
    assert "stammkunde_console" not in await page.evaluate("document.cookie")

    await page.get_by_role("button", name=re.compile("Log out")).click()
    await expect(page).to_have_url(re.compile(r"/admin/login"))
    await page.goto("/admin/dashboard")
    await expect(page).to_have_url(re.compile(r"/admin/login"))


async def test_the_login_works_from_the_keyboard_alone(page: Page, admin_key_live: str) -> None:
    await page.goto("/admin/login")
    await page.keyboard.press("Tab")
    skip_link = page.get_by_role("link", name="Skip to content")
    await expect(skip_link).to_be_focused()
    outline = await skip_link.evaluate("element => getComputedStyle(element).outlineStyle")
    assert outline != "none"  # the focus is visible

    field = page.get_by_label("Admin API key")
    for _ in range(10):
        if await field.evaluate("element => element === document.activeElement"):
            break
        await page.keyboard.press("Tab")
    await expect(field).to_be_focused()
    await page.keyboard.type(admin_key_live)
    await page.keyboard.press("Enter")
    await expect(page).to_have_url(re.compile(r"/admin/dashboard"))


@pytest.mark.browser_locale("de-DE")
async def test_the_browser_language_chooses_german_and_the_switch_changes_it(
    page: Page, admin_key_live: str
) -> None:
    await page.goto("/admin/login")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Bei der Konsole anmelden")
    await page.get_by_role("link", name="English").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Log in to the console")
    await log_in(page, admin_key_live)
    await page.get_by_role("link", name="Deutsch").click()
    await expect(page.get_by_role("link", name="Mitglieder")).to_be_visible()
