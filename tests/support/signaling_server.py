"""aiohttp's ``TestServer`` for the signaling app, listening the way production does.

The runner is the one ``python -m signaling`` uses (``signaling.serving.make_runner``): with the
fast transport it takes websocket upgrades before aiohttp sees them, so in-process tests must use
it too, or they would test a server nobody runs.
"""

from __future__ import annotations

from typing import Any

from aiohttp.test_utils import TestServer
from aiohttp.web_runner import BaseRunner

from signaling.serving import make_runner


class SignalingTestServer(TestServer):
    async def _make_runner(self, **kwargs: Any) -> BaseRunner:
        return make_runner(self.app, **kwargs)
