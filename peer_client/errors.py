"""Exceptions of the peer client, with one root.

::

    PeerClientError                 anything this package raises on purpose
    ├── BoardError                  the board's REST API did not give us what we need
    │   ├── BoardUnreachable        no answer (connection refused, DNS, timeout)
    │   ├── LoginFailed             wrong username/password, or a token the board refuses
    │   ├── NotFound                unknown sprint or task
    │   └── BoardRefused            any other unexpected answer (status and body in the message)
    ├── SignalingError              the signaling server refused us or cannot be reached
    └── ActionError                 a requested bot action cannot be done (unknown task, bad place)

A malformed message from another peer is *not* an exception: the protocol module reports it as a
:class:`~peer_client.protocol.MessageRejected` value, the session logs and drops it, and the peer is
kept (the peer sent something bad; our own code is fine). Bugs in our own code raise ordinary
exceptions.
"""

from __future__ import annotations


class PeerClientError(Exception):
    """Root of every error this package raises on purpose; ``str()`` is one readable sentence."""


class BoardError(PeerClientError):
    """The board's REST API could not be used."""


class BoardUnreachable(BoardError):
    """The board did not answer at all."""


class LoginFailed(BoardError):
    """The board refused the credentials."""


class NotFound(BoardError):
    """The sprint or task does not exist (or this user cannot see it)."""


class BoardRefused(BoardError):
    """The board answered, but not as expected."""


class SignalingError(PeerClientError):
    """The signaling server refused the join or could not be reached."""

    def __init__(self, message: str, close_code: int | None = None) -> None:
        super().__init__(message)
        self.close_code = close_code


class ActionError(PeerClientError):
    """A requested action names a task or place that does not exist."""
