"""Suite-wide rules.

- Under CI (``CI=true``) a skipped test counts as failed: a missing dependency must never pass
  silently.
- Tests marked ``webrtc`` must run inside a loopback-only network namespace (``make test-webrtc``
  arranges it); they fail loudly if they would otherwise reach a real network interface.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Generator

import pytest


def running_in_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def visible_network_interfaces() -> list[str]:
    return [name for _, name in socket.if_nameindex()]


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None]:
    outcome = yield
    report = outcome.get_result()
    if running_in_ci() and report.skipped and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        report.longrepr = f"skipped under CI, which counts as a failure: {report.longrepr}"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not any(item.get_closest_marker("webrtc") for item in items):
        return
    interfaces = visible_network_interfaces()
    if interfaces != ["lo"]:
        message = (
            "WebRTC tests must run in a loopback-only network namespace "
            f"(run them through `make test-webrtc`); visible interfaces: {interfaces}"
        )
        for item in items:
            if item.get_closest_marker("webrtc"):
                item.add_marker(pytest.mark.skip(reason=message))
