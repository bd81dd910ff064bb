"""Shared WebRTC test helpers: loopback-only ICE for aiortc, and what the network looks like.

Importing this module applies :func:`peer_client.loopback.apply` (aioice then gathers only
127.0.0.1). WebRTC tests run inside a loopback-only network namespace (``make test-webrtc``), where
that is the only address there is; ``test_webrtc_environment`` checks both facts.
"""

from __future__ import annotations

import socket

from peer_client import loopback

loopback.apply()


def visible_network_interfaces() -> list[str]:
    """Names of the network interfaces this process can see."""
    return [name for _, name in socket.if_nameindex()]


def only_loopback_visible() -> bool:
    return visible_network_interfaces() == ["lo"]
