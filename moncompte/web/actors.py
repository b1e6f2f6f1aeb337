"""The web channel's side of the acting person: turns a request into an ``Actor``.

Only the web channel reads requests; the services and selectors receive what this module builds.
"""

from __future__ import annotations

import ipaddress
import logging
import re

from django.conf import settings
from django.http import HttpRequest

from moncompte.core.actors import Actor, Channel

logger = logging.getLogger(__name__)

# What client_address returns when the request carries no usable address (a unix socket under
# gunicorn gives REMOTE_ADDR ""): one stable key for the throttles, stored as NULL in the journal.
NO_ADDRESS = ""

# "1.2.3.4:5678" (a proxy that appends the port), "[2001:db8::1]" and "[2001:db8::1]:443".
_IPV4_WITH_PORT = re.compile(r"(?P<host>[0-9.]+):[0-9]{1,5}")
_BRACKETED = re.compile(r"\[(?P<host>[^\[\]]+)\](?::[0-9]{1,5})?")
# Longer than any address with a zone id, brackets and a port: not worth parsing.
_MAX_ENTRY_LENGTH = 100


def parse_address(value: str) -> str | None:
    """``value`` as a normalised IP address (``ipaddress``'s text form), or None if it is none.

    Accepted: a bare IPv4 or IPv6 address, an IPv4 address with a port, an IPv6 address in
    brackets with or without a port. An IPv6 zone id (``fe80::1%eth0``) is dropped (it names an
    interface of the proxy, not the client), and an IPv4-mapped IPv6 address is given as the IPv4
    address: one client, one throttling key, whichever way it reached us.
    """
    value = value.strip()
    if not value or len(value) > _MAX_ENTRY_LENGTH:
        return None
    match = _BRACKETED.fullmatch(value) or _IPV4_WITH_PORT.fullmatch(value)
    host = match["host"] if match else value
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address):
        if address.scope_id is not None:
            address = ipaddress.IPv6Address(host.partition("%")[0])
        if address.ipv4_mapped is not None:
            address = address.ipv4_mapped
    return str(address)


def _shape(value: str) -> str:
    """What a rejected entry looks like, for the log, without what it says: digits become 9,
    letters a, other characters ? (an attacker's header may carry anything, even a secret)."""
    shape = "".join(
        "9" if c in "0123456789" else "a" if c.isascii() and c.isalpha() else c if c in ".:[]%" else "?"
        for c in value[:40]
    )
    return shape + ("…" if len(value) > 40 else "")


def client_address(request: HttpRequest) -> str:
    """The client's address, taking the configured number of trusted proxies into account.

    Each trusted proxy appends the address it received the request from to X-Forwarded-For, so
    the client is the entry that many positions from the end; anything before it is whatever the
    client chose to send. Without trusted proxies, or with a header shorter than their number
    (the request did not come through them), the address of the connection is the client's.

    Always a normalised IP address (see ``parse_address``) or ``NO_ADDRESS``: the throttling keys
    and the journal never see two spellings of one client, nor text that is not an address. A
    forwarded entry that is no address is ignored with a warning (the proxies' configuration is
    wrong), and the connection's address used instead.
    """
    proxies = settings.MONCOMPTE_TRUSTED_PROXY_COUNT
    if proxies:
        forwarded = [a.strip() for a in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if a.strip()]
        if len(forwarded) >= proxies:
            entry = forwarded[-proxies]
            address = parse_address(entry)
            if address is not None:
                return address
            logger.warning(
                "X-Forwarded-For entry %d from the end is not an IP address (%d characters, shaped %r): "
                "using the connection's address",
                proxies,
                len(entry),
                _shape(entry),
            )
    return parse_address(str(request.META.get("REMOTE_ADDR") or "")) or NO_ADDRESS


def actor_of(request: HttpRequest) -> Actor:
    """Who acts through this request: the signed-in account (if any), its session and address."""
    user = getattr(request, "user", None)
    account = user if user is not None and user.is_authenticated else None
    session = getattr(request, "session", None)
    return Actor(
        channel=Channel.WEB,
        account=account,
        session_key=session.session_key if session is not None else None,
        client_address=client_address(request),
    )
