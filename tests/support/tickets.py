"""Tickets for tests of the signaling server and its session core: one secret for both."""

from __future__ import annotations

from typing import Any

from signaling.tickets import mint_ticket

SECRET = "test-secret-" + "x" * 20


def ticket(sprint: str = "1", user: str = "u1", name: str = "Ann", **extra: Any) -> str:
    """A ticket for ``user`` (shown as ``name``) to join ``sprint``, minted with :data:`SECRET`."""
    return mint_ticket(SECRET, sprint=sprint, user_id=user, name=name, **extra)
