"""Password guessing through the login pages (/login/ and /admin/login/) is limited like
/api/token/: per client address and per username, out of the same counts.

A failed login counts and a successful one does not; over a limit the form answers 429 with
``Retry-After`` and says when to try again, without checking the password.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from rest_framework.test import APIClient

from tests.board.limits import rates

PAGES = ["/login/", "/admin/login/"]


def log_in(page: str, username: str, password: str, address: str = "10.0.0.1") -> Any:
    form = {"username": username, "password": password}
    return Client().post(page, form, REMOTE_ADDR=address)


def assert_refused_for_now(response: Any) -> int:
    assert response.status_code == 429, response.content[:500]
    wait = int(response["Retry-After"])
    assert 0 < wait <= 60
    unit = "second" if wait == 1 else "seconds"
    text = re.sub(r"\s+", " ", response.content.decode())
    assert f"Too many login attempts; try again in {wait} {unit}." in text
    return wait


@pytest.fixture
def admin_user(db: None) -> User:
    return User.objects.create_superuser("root", password="pw-root-123")


@pytest.mark.parametrize("page", PAGES)
def test_failed_logins_from_one_address_are_limited(settings, page, admin_user) -> None:
    rates(settings, token_address="3/minute")
    for _ in range(3):
        assert log_in(page, "root", "wrong").status_code == 200
    assert_refused_for_now(log_in(page, "root", "pw-root-123"))  # not even checked
    assert log_in(page, "root", "pw-root-123", address="10.0.0.2").status_code == 302


@pytest.mark.parametrize("page", PAGES)
def test_failed_logins_at_one_username_are_limited(settings, page, admin_user) -> None:
    rates(settings, token_username="2/minute")
    assert log_in(page, "root", "wrong-1", address="10.0.0.1").status_code == 200
    assert log_in(page, " ROOT", "wrong-2", address="10.0.0.2").status_code == 200
    assert_refused_for_now(log_in(page, "root", "pw-root-123", address="10.0.0.3"))
    User.objects.create_superuser("other", password="pw-other-123")
    assert log_in(page, "other", "pw-other-123", address="10.0.0.3").status_code == 302


@pytest.mark.parametrize("page", PAGES)
def test_successful_logins_are_not_counted(settings, page, admin_user) -> None:
    rates(settings, token_address="2/minute", token_username="2/minute")
    for _ in range(4):
        assert log_in(page, "root", "pw-root-123").status_code == 302
    assert log_in(page, "root", "wrong").status_code == 200


def test_the_pages_and_the_token_endpoint_share_the_counts(settings, admin_user) -> None:
    """One budget of guesses per address and per username, whichever door they knock on."""
    rates(settings, token_username="3/minute")
    assert log_in("/login/", "root", "wrong", address="10.0.0.1").status_code == 200
    assert log_in("/admin/login/", "root", "wrong", address="10.0.0.2").status_code == 200
    body = {"username": "root", "password": "wrong"}
    assert APIClient().post("/api/token/", body, REMOTE_ADDR="10.0.0.3").status_code == 400
    assert_refused_for_now(log_in("/login/", "root", "pw-root-123", address="10.0.0.4"))
    refused = APIClient().post("/api/token/", body, REMOTE_ADDR="10.0.0.5")
    assert refused.status_code == 429
