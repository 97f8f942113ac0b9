"""Which webhook URLs are accepted: https to public addresses, unless private ones are allowed."""

import ipaddress

import pytest

from app.config import Settings
from app.webhooks import urls
from tests.conftest import make_settings
from tests.factories import assert_problem
from tests.webhooks.support import create_endpoint

PATH = "/v1/webhook-endpoints"
PUBLIC = "https://93.184.215.14/hooks"  # an address literal: no DNS needed

REFUSED = [
    "http://93.184.215.14/hooks",  # not https
    "ftp://93.184.215.14/hooks",
    "https://127.0.0.1/hooks",  # loopback
    "https://localhost/hooks",  # a name that resolves to loopback
    "https://[::1]/hooks",
    "https://[::ffff:127.0.0.1]/hooks",  # loopback behind an IPv4-mapped IPv6 address
    "https://10.1.2.3/hooks",  # private
    "https://172.16.0.9/hooks",
    "https://192.168.1.20/hooks",
    "https://169.254.169.254/latest/meta-data",  # link-local (cloud metadata)
    "https://[fe80::1]/hooks",
    "https://[fd00::1]/hooks",  # unique local
    "https://100.64.0.1/hooks",  # shared address space
    "https://0.0.0.0/hooks",
    "https://224.0.0.1/hooks",  # multicast
    "https://user:secret@93.184.215.14/hooks",  # credentials in the URL
    "https://93.184.215.14/hooks#fragment",
    "https:///hooks",
    "https://name.invalid/hooks",  # does not resolve
]


@pytest.fixture
def settings(database) -> Settings:
    """The production default: no private addresses."""
    return make_settings(database.url)


@pytest.mark.parametrize("url", REFUSED)
async def test_unsafe_urls_are_refused(url):
    with pytest.raises(urls.UrlNotAllowed):
        await urls.check(url, allow_private=False)


async def test_the_api_refuses_unsafe_urls_with_their_own_code(client, admin):
    for url in (
        "http://93.184.215.14/hooks",
        "https://127.0.0.1/hooks",
        "https://localhost/hooks",
        "https://169.254.169.254/latest/meta-data",
        "https://user:secret@93.184.215.14/hooks",
    ):
        response = await client.post(PATH, json={"url": url}, headers=admin)
        body = assert_problem(response, 422, "webhook_url_not_allowed")
        assert "secret" not in body["detail"]
    assert (await client.get(PATH, headers=admin)).json()["items"] == []


async def test_an_https_url_to_a_public_address_is_accepted(client, admin):
    created = await create_endpoint(client, admin, PUBLIC)

    assert created["url"] == PUBLIC


async def test_a_change_to_an_unsafe_url_is_refused_and_changes_nothing(client, admin):
    created = await create_endpoint(client, admin, PUBLIC)
    path = f"{PATH}/{created['id']}"

    refused = await client.patch(path, json={"url": "https://10.0.0.1/x"}, headers=admin)

    assert_problem(refused, 422, "webhook_url_not_allowed")
    assert (await client.get(path, headers=admin)).json()["url"] == PUBLIC


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:8080/hooks", "https://localhost/hooks", "http://[::1]:9/x"]
)
async def test_private_addresses_and_plain_http_pass_when_allowed(url):
    target, addresses = await urls.check(url, allow_private=True)

    assert target.url == url
    assert all(address.is_loopback for address in addresses)


async def test_the_check_names_what_it_refused():
    with pytest.raises(urls.UrlNotAllowed, match=r"resolves to 127\.0\.0\.1"):
        await urls.check("https://localhost:8443/x", allow_private=False)
    with pytest.raises(urls.UrlNotAllowed, match="https://"):
        await urls.check("http://93.184.215.14/x", allow_private=False)


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("93.184.215.14", True),
        ("2606:2800:21f:cb07:6820:80da:af6b:8b2c", True),
        ("8.8.8.8", True),
        ("127.0.0.1", False),
        ("10.0.0.1", False),
        ("169.254.1.1", False),
        ("::1", False),
        ("::ffff:10.0.0.1", False),
        ("::ffff:93.184.215.14", True),
        ("fe80::1", False),
        ("ff02::1", False),
        ("192.0.2.1", False),  # documentation range
        ("240.0.0.1", False),  # reserved
    ],
)
def test_public_means_globally_routable_unicast(address, public):
    assert urls.is_public(ipaddress.ip_address(address)) is public
