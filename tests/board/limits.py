"""Helpers for the tests of the board's request limits (``test_throttles``, ``test_login_limits``,
``test_throttle_counts``): set the rates, ask for a token, check a 429."""

from __future__ import annotations

from typing import Any

from rest_framework.test import APIClient

OFF = {"token-address": None, "token-username": None, "writes": None}


def rates(settings: Any, **rates: str | None) -> None:
    settings.WATERCOOLER_THROTTLE_RATES = {
        **OFF,
        **{k.replace("_", "-"): v for k, v in rates.items()},
    }


def token_request(username: str, password: str, address: str = "10.0.0.1") -> Any:
    body = {"username": username, "password": password}
    return APIClient().post("/api/token/", body, REMOTE_ADDR=address)


def assert_throttled(response: Any, what: str) -> int:
    """The 429's wait in seconds, checked against its message and Retry-After."""
    assert response.status_code == 429, response.content
    body = response.json()
    wait = body["retry_after"]
    assert isinstance(wait, int)
    assert 0 < wait <= 60
    assert body["detail"] == f"{what}; try again in {wait} second{'s' if wait != 1 else ''}."
    assert response["Retry-After"] == str(wait)
    return wait
