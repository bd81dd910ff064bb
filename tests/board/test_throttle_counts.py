"""How the throttles count: atomically, in one row per client, rows deleted by age only, and IPv6
clients counted per /64 network.

The race test sends its guesses from threads with their own database connections, so on
PostgreSQL (``make test-postgres``) they really are simultaneous.
"""

from __future__ import annotations

import collections
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.utils import timezone
from rest_framework.test import APIClient

from board.limits.clients import address_key
from board.limits.models import RequestCount
from tests.board.limits import assert_throttled, rates
from tests.board.threads import run_together


def guess(username: str, address: str) -> Any:
    body = {"username": username, "password": "wrong"}
    return APIClient().post("/api/token/", body, REMOTE_ADDR=address)


@pytest.mark.django_db(transaction=True)
def test_simultaneous_guesses_get_no_more_than_the_limit(settings) -> None:
    rates(settings, token_address="10/minute")
    User.objects.create_user("ada", password="pw-ada-123")
    outcomes = run_together([lambda: guess("ada", "10.0.0.1").status_code for _ in range(40)])
    assert collections.Counter(outcomes) == {400: 10, 429: 30}, outcomes


def test_an_address_over_its_limit_writes_nothing(settings, user) -> None:
    """Guessing at a new username with every request: once the address is over its limit, its
    requests change no count, and the usernames are not counted at all (no row each)."""
    rates(settings, token_address="5/minute", token_username="10/minute")
    answers = [guess(f"user{n}", "10.0.0.1").status_code for n in range(30)]
    assert answers == [400] * 5 + [429] * 25
    rows = sorted(RequestCount.objects.values_list("scope", "count"))
    assert rows == [("token-address", 5)] + [("token-username", 1)] * 5


def test_counts_of_ended_windows_are_deleted_by_age(settings, user) -> None:
    rates(settings, token_address="5/minute", token_username="5/minute")
    ended = timezone.now() - timedelta(seconds=1)
    for n in range(50):
        RequestCount.objects.create(
            scope="token-address", ident=f"10.1.0.{n}", count=9, expires=ended
        )
    running = timezone.now() + timedelta(seconds=30)
    RequestCount.objects.create(scope="token-address", ident="10.2.0.1", count=9, expires=running)
    assert guess("ada", "10.0.0.1").status_code == 400
    assert sorted(RequestCount.objects.values_list("scope", "ident")) == [
        ("token-address", "10.0.0.1"),
        ("token-address", "10.2.0.1"),
        ("token-username", RequestCount.objects.get(scope="token-username").ident),
    ]


def test_a_window_that_ended_counts_from_one_again(settings, user) -> None:
    rates(settings, token_address="2/minute")
    ended = timezone.now() - timedelta(seconds=1)
    RequestCount.objects.create(scope="token-address", ident="10.0.0.1", count=9, expires=ended)
    assert [guess("ada", "10.0.0.1").status_code for _ in range(3)] == [400, 400, 429]
    row = RequestCount.objects.get(scope="token-address")
    assert row.count == 2
    assert row.expires > timezone.now() + timedelta(seconds=50)


@pytest.mark.parametrize(
    ("address", "key"),
    [
        ("192.0.2.7", "192.0.2.7"),
        ("2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"),
        ("2001:DB8:1:2::9", "2001:db8:1:2::/64"),
        ("::ffff:192.0.2.7", "192.0.2.7"),
        ("fe80::1%eth0", "fe80::/64"),
    ],
)
def test_an_address_is_keyed_by_its_ipv4_address_or_ipv6_64(address: str, key: str) -> None:
    assert address_key(address) == key


def test_something_not_an_address_is_keyed_by_a_digest() -> None:
    key = address_key("not an address" * 20)
    assert key.startswith("?")
    assert len(key) <= 64
    assert key == address_key("not an address" * 20)
    assert key != address_key("another")


def test_ipv6_clients_are_counted_per_64_network(settings, user) -> None:
    rates(settings, token_address="3/minute")
    for address in ("2001:db8:0:7::1", "2001:db8:0:7::2", "2001:db8:0:7:1:2:3:4"):
        assert guess("ada", address).status_code == 400
    assert_throttled(guess("ada", "2001:db8:0:7:ffff::9"), "Too many login attempts")
    assert guess("ada", "2001:db8:0:8::1").status_code == 400  # the next /64 is someone else
