"""Who a request comes from, as the address limits count it.

The address is ``REMOTE_ADDR``, or behind ``NUM_PROXIES`` proxies the ``X-Forwarded-For`` entry
the nearest of them added (the entries before it are the client's to choose). An IPv4 address is
counted as itself; an IPv6 address as its /64 network, since one subscriber usually holds a whole
/64 and could otherwise take a new address for every request. Anything that is not an address
(a misconfigured proxy) is counted as a digest of its text, so any text makes a valid key.
"""

from __future__ import annotations

import hashlib
import ipaddress
from collections.abc import Mapping
from typing import Any

from django.conf import settings

IPV6_PREFIX = 64


def client_address(meta: Mapping[str, Any]) -> str:
    """The client's address as the request says it (see the module), or ``""``."""
    remote = str(meta.get("REMOTE_ADDR") or "")
    proxies = int(getattr(settings, "NUM_PROXIES", 0))
    forwarded = meta.get("HTTP_X_FORWARDED_FOR")
    if proxies <= 0 or not forwarded:
        return remote
    entries = str(forwarded).split(",")
    return entries[-min(proxies, len(entries))].strip()


def address_key(address: str) -> str:
    """What the address limits count ``address`` as: itself (IPv4), its /64 (IPv6), a digest."""
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        digest = hashlib.sha256(address.encode("utf-8", "surrogatepass")).hexdigest()
        return f"?{digest[:40]}"
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        network = int(ip) >> (128 - IPV6_PREFIX) << (128 - IPV6_PREFIX)
        return str(ipaddress.IPv6Network((network, IPV6_PREFIX)))
    return str(ip)


def client_key(meta: Mapping[str, Any]) -> str:
    """The key the address limits count this request's client by."""
    return address_key(client_address(meta))
