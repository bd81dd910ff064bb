"""Throttles of the API: password guessing on /api/token/ (per address, per username) and floods
of writes. (The login pages: ``test_login_limits``; how requests are counted:
``test_throttle_counts``.)

Over a rate the answer is 429 with a message naming the limit and when to retry, in the body and
in ``Retry-After``. Rates come from settings (``THROTTLE_*`` in the environment, docs/api.md).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.contrib.auth.models import User
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from board.env import ConfigurationError, env_rate
from tests.board.limits import assert_throttled, rates, token_request

ROOT = Path(__file__).resolve().parents[2]


def test_token_requests_from_one_address_are_throttled(settings, user) -> None:
    rates(settings, token_address="3/minute")
    for _ in range(3):
        assert token_request("ada", "wrong").status_code == 400
    assert_throttled(token_request("ada", "pw-ada-123"), "Too many login attempts")
    assert_throttled(token_request("someone", "else"), "Too many login attempts")
    # Another address is counted on its own.
    assert token_request("ada", "pw-ada-123", address="10.0.0.2").status_code == 200


def test_guesses_at_one_username_from_many_addresses_are_throttled(settings, user) -> None:
    rates(settings, token_username="2/minute")
    assert token_request("ada", "wrong-1", address="10.0.0.1").status_code == 400
    assert token_request("ada", "wrong-2", address="10.0.0.2").status_code == 400
    assert_throttled(
        token_request("ada", "pw-ada-123", address="10.0.0.3"), "Too many login attempts"
    )
    # Case and surrounding spaces do not make it another username.
    assert_throttled(
        token_request(" ADA ", "wrong-3", address="10.0.0.4"), "Too many login attempts"
    )
    # Other accounts are not locked by guesses at this one.
    User.objects.create_user("bob", password="pw-bob-123")
    assert token_request("bob", "pw-bob-123", address="10.0.0.3").status_code == 200


def test_a_lone_surrogate_in_the_username_is_refused_by_the_serializer(settings, user) -> None:
    rates(settings, token_address="5/minute", token_username="5/minute")
    for username in ("\\ud800ada", "\\udfff"):
        body = f'{{"username": "{username}", "password": "x"}}'.encode()
        response = APIClient().post(
            "/api/token/", body, content_type="application/json", REMOTE_ADDR="10.0.0.1"
        )
        assert response.status_code == 400, response.content
        assert response.json()["username"][0].startswith("Surrogate characters are not allowed")


def test_a_username_sent_as_a_number_is_counted_as_its_text(settings, db) -> None:
    rates(settings, token_username="2/minute")
    User.objects.create_user("12345", password="pw-12345-abc")
    for address in ("10.0.0.1", "10.0.0.2"):
        body = {"username": 12345, "password": "wrong"}
        assert APIClient().post("/api/token/", body, REMOTE_ADDR=address).status_code == 400
    assert_throttled(
        token_request("12345", "pw-12345-abc", address="10.0.0.3"), "Too many login attempts"
    )


def test_a_token_request_without_a_username_is_refused_not_counted(settings, user) -> None:
    rates(settings, token_username="1/minute")
    for _ in range(2):
        response = APIClient().post("/api/token/", {"password": "x"}, REMOTE_ADDR="10.0.0.1")
        assert response.status_code == 400
        assert "username" in response.json()


def test_writes_are_throttled_per_user_and_reads_are_not(settings, api, sprint) -> None:
    rates(settings, writes="2/minute")
    created = api.post("/api/tasks/", {"name": "a", "sprint": sprint.pk})
    assert created.status_code == 201
    task = created.json()
    assert api.patch(f"/api/tasks/{task['id']}/", {"name": "b"}).status_code == 200
    assert_throttled(api.delete(f"/api/tasks/{task['id']}/"), "Too many changes in a short time")
    move = {"sprint": sprint.pk, "status": "testing", "position": 0, "version": 2}
    assert_throttled(
        api.post(f"/api/tasks/{task['id']}/move/", move), "Too many changes in a short time"
    )
    for _ in range(5):
        assert api.get("/api/tasks/").status_code == 200
        assert api.get(f"/api/tasks/{task['id']}/").status_code == 200

    other = User.objects.create_user("bob", password="pw-bob-123")
    bob = APIClient()
    bob.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=other).key}")
    assert bob.post("/api/tasks/", {"name": "c", "sprint": sprint.pk}).status_code == 201


def test_rates_are_read_from_the_environment() -> None:
    env = {
        **os.environ,
        "THROTTLE_TOKEN_PER_ADDRESS": "5/hour",
        "THROTTLE_TOKEN_PER_USERNAME": "off",
        "THROTTLE_WRITES_PER_USER": "7/second",
    }
    show = "import django; django.setup(); from django.conf import settings; "
    show += "print(sorted(settings.WATERCOOLER_THROTTLE_RATES.items()))"
    result = subprocess.run(
        [sys.executable, "-c", show],
        cwd=ROOT,
        env={**env, "DJANGO_SETTINGS_MODULE": "board.settings"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    expected = [("token-address", "5/hour"), ("token-username", None), ("writes", "7/second")]
    assert result.stdout.strip() == str(expected)


def test_a_malformed_rate_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    for bad in ("10", "10/fortnight", "0/minute", "many/minute"):
        monkeypatch.setenv("RATE", bad)
        with pytest.raises(ConfigurationError, match="not a rate"):
            env_rate("RATE", "1/minute")
    monkeypatch.setenv("RATE", " 12/Minute ")
    assert env_rate("RATE", None) == "12/minute"


def test_docs_name_every_rate_setting_with_its_default() -> None:
    """docs/api.md gives each setting with the default this process loaded (none set here)."""
    docs = (ROOT / "docs" / "api.md").read_text()
    names = {
        "token-address": "THROTTLE_TOKEN_PER_ADDRESS",
        "token-username": "THROTTLE_TOKEN_PER_USERNAME",
        "writes": "THROTTLE_WRITES_PER_USER",
    }
    assert not any(name in os.environ for name in names.values())
    assert set(django_settings.WATERCOOLER_THROTTLE_RATES) == set(names)
    for scope, name in names.items():
        default = django_settings.WATERCOOLER_THROTTLE_RATES[scope]
        assert re.search(rf"`{name}`[^\n]*`{re.escape(str(default))}`", docs), name
