"""aiohttp's ``TestServer`` for the signaling app, listening the way production does.

``SignalingRunner`` takes websocket upgrades before aiohttp sees them (``signaling/serving.py``),
so in-process tests must use it too, or they would test a server nobody runs.
"""

from __future__ import annotations

from typing import Any

from aiohttp.test_utils import TestServer
from aiohttp.web_runner import BaseRunner

from signaling.serving import SignalingRunner


class SignalingTestServer(TestServer):
    async def _make_runner(self, **kwargs: Any) -> BaseRunner:
        return SignalingRunner(self.app, **kwargs)
