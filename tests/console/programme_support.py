"""Reading the programme's pages as a browser does: a form's fields, the messages beside them."""

import html
import re
from html.parser import HTMLParser
from typing import Any

import httpx

from tests.console.conftest import ConsoleClient

FormValues = dict[str, Any]  # a name's text, or the list of a checkbox group's ticked values


class _FormParser(HTMLParser):
    """What a browser would submit from the form posting to ``action``, as the page has it."""

    def __init__(self, action: str) -> None:
        super().__init__(convert_charrefs=True)
        self.action = action
        self.inside = False
        self.found = False
        self.values: dict[str, list[str]] = {}
        self._select: str | None = None
        self._textarea: str | None = None

    def _add(self, name: str, value: str) -> None:
        self.values.setdefault(name, []).append(value)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {key: value or "" for key, value in attrs}
        if tag == "form" and attributes.get("action") == self.action:
            self.inside = self.found = True
        if not self.inside:
            return
        name = attributes.get("name")
        if tag == "input" and name:
            kind = attributes.get("type", "text")
            if kind in ("checkbox", "radio"):
                self.values.setdefault(name, [])
                if "checked" in attributes:
                    self._add(name, attributes.get("value", "on"))
            elif kind not in ("submit", "button"):
                self._add(name, attributes.get("value", ""))
        elif tag == "select" and name:
            self._select = name
            self.values.setdefault(name, [])
        elif tag == "option" and self._select and "selected" in attributes:
            self._add(self._select, attributes.get("value", ""))
        elif tag == "textarea" and name:
            self._textarea = name
            self._add(name, "")

    def handle_data(self, data: str) -> None:
        if self._textarea:
            self.values[self._textarea][-1] += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.inside = False
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None


def form_values(page: str, action: str) -> FormValues:
    parser = _FormParser(action)
    parser.feed(page)
    assert parser.found, f"no form posts to {action}"
    values: FormValues = {}
    for name, found in parser.values.items():
        values[name] = found[0] if len(found) == 1 else found
    return values


async def form_of(console: ConsoleClient, url: str, action: str | None = None) -> FormValues:
    """The form on ``url`` as it would be submitted unchanged (without its CSRF token)."""
    response = await console.get(url)
    assert response.status_code == 200, response.text
    values = form_values(response.text, action or url)
    values.pop("csrf_token", None)
    return values


def field_error(page: str, name: str) -> str | None:
    """The message shown next to field ``name``, if any."""
    match = re.search(rf'<p class="field-error" id="{re.escape(name)}-error">([^<]*)</p>', page)
    return html.unescape(match.group(1)) if match else None


def alert(page: str) -> str | None:
    match = re.search(r'<div class="alert" role="alert">([^<]*)</div>', page)
    return html.unescape(match.group(1)) if match else None


def notice(page: str) -> str | None:
    match = re.search(r'<div class="notice" role="status">([^<]*)</div>', page)
    return html.unescape(match.group(1)) if match else None


async def follow(console: ConsoleClient, response: httpx.Response) -> httpx.Response:
    """The page a 303 after a change leads to."""
    assert response.status_code == 303, response.text
    page = await console.get(response.headers["location"])
    assert page.status_code == 200, page.text
    return page


async def api_get(client: httpx.AsyncClient, admin: dict[str, str], path: str) -> Any:
    response = await client.get(path, headers=admin)
    assert response.status_code == 200, response.text
    return response.json()
