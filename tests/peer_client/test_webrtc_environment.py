"""The WebRTC tests' environment: a loopback-only namespace and the aioice loopback patch."""

from __future__ import annotations

import aioice.ice
import pytest

from peer_client import loopback
from tests.support.webrtc import visible_network_interfaces


@pytest.mark.webrtc
def test_only_loopback_is_visible() -> None:
    assert visible_network_interfaces() == ["lo"]


def test_aioice_loopback_patch_is_in_effect() -> None:
    # Fails if aioice moves or renames its host-address function (we pin aioice 0.13.x).
    assert loopback.is_applied()
    assert aioice.ice.get_host_addresses(True, True) == ["127.0.0.1"]
    assert aioice.ice.get_host_addresses(False, True) == []
