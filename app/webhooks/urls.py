"""Which webhook URLs may be called: https to global addresses only.

Checked when an endpoint is created or changed, and again before every attempt, since what a
name resolves to can change in between. The attempt then connects to the address that was
checked, so a second resolution cannot slip in another one. ``webhook_allow_private`` (local
development, tests) also allows ``http://`` and private, loopback and link-local addresses.
"""

import asyncio
import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

MAX_URL_LENGTH = 2000

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class UrlNotAllowed(Exception):
    """The URL may not be called; the message says why (no secrets in it)."""


@dataclass(frozen=True, slots=True)
class Target:
    url: str
    scheme: str
    host: str  # a name or an address, without brackets
    port: int


def is_public(address: IPAddress) -> bool:
    """Globally routable unicast: no private, loopback, link-local, multicast or reserved."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_global and not (
        address.is_multicast
        or address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_reserved
        or address.is_unspecified
    )


def parse(url: str, allow_private: bool) -> Target:
    """Check what can be told from the URL alone."""
    if len(url) > MAX_URL_LENGTH:
        raise UrlNotAllowed(f"The URL is longer than {MAX_URL_LENGTH} characters.")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as error:
        raise UrlNotAllowed("The URL cannot be parsed.") from error
    allowed_schemes = ("https", "http") if allow_private else ("https",)
    if parts.scheme not in allowed_schemes:
        raise UrlNotAllowed("Webhook URLs must use https://.")
    if not parts.hostname:
        raise UrlNotAllowed("The URL has no host.")
    if parts.username is not None or parts.password is not None:
        raise UrlNotAllowed("The URL must not carry credentials; the signature authenticates.")
    if parts.fragment:
        raise UrlNotAllowed("The URL must not have a #fragment.")
    default_port = 443 if parts.scheme == "https" else 80
    return Target(url, parts.scheme, parts.hostname, port or default_port)


def _literal(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


async def resolve(target: Target, allow_private: bool) -> list[IPAddress]:
    """The addresses to connect to, every one of them allowed; else :class:`UrlNotAllowed`.

    Names are resolved with the event loop's resolver. If any address of a name is not
    public, the name is refused as a whole: otherwise which one is used would be luck.
    """
    literal = _literal(target.host)
    if literal is not None:
        addresses = [literal]
    else:
        try:
            infos = await asyncio.get_running_loop().getaddrinfo(
                target.host, target.port, type=socket.SOCK_STREAM
            )
        except (socket.gaierror, UnicodeError) as error:
            raise UrlNotAllowed(f"The host {target.host!r} does not resolve.") from error
        addresses = []
        for info in infos:
            address = ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])
            if address not in addresses:
                addresses.append(address)
        if not addresses:
            raise UrlNotAllowed(f"The host {target.host!r} does not resolve.")
    if not allow_private:
        refused = [address for address in addresses if not is_public(address)]
        if refused:
            raise UrlNotAllowed(
                f"The host {target.host!r} resolves to {refused[0]}, which is not a public "
                "address (private, loopback, link-local or reserved)."
            )
    return addresses


async def check(url: str, allow_private: bool) -> tuple[Target, list[IPAddress]]:
    target = parse(url, allow_private)
    return target, await resolve(target, allow_private)


def is_name(host: str) -> bool:
    """A host name rather than an address literal."""
    return _literal(host) is None
