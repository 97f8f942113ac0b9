"""What the members pages' tests share: reading the pages a person sees."""

import html
import re

import httpx

TAGS = re.compile(r"<[^>]+>")
SPACES = re.compile(r"\s+")


def text_of(page: str) -> str:
    """The page's text as a reader sees it: no tags, entities decoded, spaces folded."""
    return SPACES.sub(" ", html.unescape(TAGS.sub(" ", page))).strip()


def section(page: str, heading_id: str) -> str:
    """The text of the <section> a heading (by its id) opens, up to the next section."""
    start = page.index(">", page.index(f'id="{heading_id}"')) + 1
    end = page.find("</section>", start)
    return text_of(page[start : end if end != -1 else None])


def field_message(page: str, field: str) -> str | None:
    """The message shown next to a form field, if any."""
    match = re.search(rf'<p class="field-error" id="{field}-error">(.*?)</p>', page, re.S)
    return html.unescape(match.group(1)).strip() if match else None


CONFIRMATION_FORM = re.compile(
    r'<form method="post" action="([^"]+)" class="actions">(.*?)</form>', re.S
)
HIDDEN_FIELD = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)">')


def confirmation_form(page: str) -> tuple[str, dict[str, str]]:
    """Where a confirmation page's form posts to, and its hidden fields."""
    match = CONFIRMATION_FORM.search(page)
    assert match is not None, "not a confirmation page"
    fields = {name: html.unescape(value) for name, value in HIDDEN_FIELD.findall(match.group(2))}
    return html.unescape(match.group(1)), fields


def member_links(page: str) -> list[str]:
    """The member ids the page links to, in order."""
    return re.findall(r'href="/admin/members/([0-9a-f-]{36})"', page)


def redirected_to(response: httpx.Response) -> str:
    assert response.status_code == 303, response.text
    return response.headers["location"]
