"""Make aiortc gather a 127.0.0.1 host candidate (``--loopback-only``).

aioice leaves 127.0.0.1 and ::1 out of its host candidates. On a machine with a network card that
does not matter: aiortc offers the card's address and browsers on the same machine reach it. With no
network card, or inside a loopback-only network namespace (our WebRTC tests), aiortc would offer no
candidate at all and never connect. :func:`apply` replaces aioice's module-level host-address
function with one that answers only ``127.0.0.1``; aiortc's ``RTCConfiguration`` has no option for
this (see docs/webrtc.md section 2).

This patches a private function of aioice 0.13 (pinned in requirements.txt); :func:`is_applied`
and its test notice if aioice ever moves it.
"""

from __future__ import annotations

from typing import Final

import aioice.ice

LOOPBACK_ADDRESSES: Final = ["127.0.0.1"]


def loopback_host_addresses(use_ipv4: bool, use_ipv6: bool) -> list[str]:
    """Drop-in for ``aioice.ice.get_host_addresses``: only the IPv4 loopback address."""
    return list(LOOPBACK_ADDRESSES) if use_ipv4 else []


def apply() -> None:
    """Patch aioice so every later ICE gathering in this process uses 127.0.0.1 only.

    Raises RuntimeError if aioice no longer has the function (a newer aioice: update this module).
    """
    if not callable(getattr(aioice.ice, "get_host_addresses", None)):
        raise RuntimeError(
            "aioice.ice.get_host_addresses is gone: this aioice is not the pinned 0.13.x; "
            "peer_client.loopback needs updating"
        )
    aioice.ice.get_host_addresses = loopback_host_addresses


def is_applied() -> bool:
    """True if gathering currently uses the loopback-only function."""
    return getattr(aioice.ice, "get_host_addresses", None) is loopback_host_addresses
