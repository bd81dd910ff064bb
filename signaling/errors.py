"""Exceptions of the signaling server.

The tree separates "a client or the board sent something bad" (answer with an error or a close code,
keep serving) from "our own code is wrong" (any other exception: a bug, let it raise)::

    SignalingError                 root; never raised itself
    ├── ProtocolError              bad client message; answer {"type":"error"}, keep the socket
    ├── RoutingError               a valid message that cannot be delivered (unknown peer, ...)
    ├── AdmissionError             a join is refused; close the socket with ``close_code``
    │   ├── TicketRejected         4401: missing, bad, expired or wrong-audience ticket
    │   └── CapacityExceeded       4409: room full, or the server's room/connection limit reached
    └── HookRejected               401: a hook request whose token or body does not check out

Each carries a short ``code`` (a slug, used in metrics and ``error`` messages) and a plain-words
``message`` for the person reading the client's console or the server's log.
"""

from __future__ import annotations


class SignalingError(Exception):
    """Root of every error the signaling server expects and handles."""

    code: str = "error"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code


class ProtocolError(SignalingError):
    """A client sent a message that is not valid JSON or not a valid protocol message."""

    code = "bad-message"


class RoutingError(SignalingError):
    """A valid message that cannot be delivered; nothing was sent to anyone."""

    code = "unknown-peer"


class AdmissionError(SignalingError):
    """A join that is refused; the connection closes with ``close_code``."""

    close_code: int = 4400


class TicketRejected(AdmissionError):
    """The ticket is missing, malformed, wrongly signed, expired or for another audience."""

    code = "bad-ticket"
    close_code = 4401


class CapacityExceeded(AdmissionError):
    """The sprint's room is full, or the server holds as many rooms or connections as allowed."""

    code = "room-full"
    close_code = 4409


class HookRejected(SignalingError):
    """A hook request whose bearer token, claims or body do not check out."""

    code = "bad-hook"
