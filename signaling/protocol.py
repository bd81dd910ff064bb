"""The signaling wire protocol: parse what clients send, build what the server sends.

Pure functions and small immutable message classes; no I/O and no aiohttp import, so every rule here
is tested synchronously. ``docs/protocol.md`` section 1 is the specification this module follows.

Parsing never trusts the input: anything that is not exactly a known message raises
:class:`~signaling.errors.ProtocolError` with a code and a message in plain words, and the caller
answers with an ``error`` message and keeps the connection.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Final, NamedTuple

import orjson

from signaling.errors import ProtocolError
from signaling.tickets import MAX_TICKET_LENGTH

MAX_PEER_ID_LENGTH: Final = 64


# Parsed messages are plain slotted dataclasses, not frozen ones: one is built per message and a
# frozen dataclass's __init__ sets each field through object.__setattr__, a call per field.


@dataclass(slots=True)
class Join:
    """``{"type":"join","ticket":T[,"resume":R]}``: the first message of every connection.

    ``ticket`` is kept as the client sent it, whatever its type: the ticket check names what is
    wrong with it, and a bad ticket closes the connection with 4401 (docs/protocol.md 1.2).
    """

    ticket: object
    resume: str | None = None


@dataclass(slots=True)
class Signal:
    """``{"type":"signal","to":PEER,"data":{...}}``: negotiation for one other peer."""

    to: str
    data: dict[str, Any]


@dataclass(slots=True)
class Relay:
    """``{"type":"relay","to":PEER,"data":{...}}``: a data-channel message with no direct link."""

    to: str
    data: dict[str, Any]


@dataclass(slots=True)
class Ping:
    """``{"type":"ping"}``: answered with ``{"type":"pong"}``."""


@dataclass(slots=True)
class LinkReport:
    """``{"type":"link","peer":P,"outcome":O,...}`` *(extension)*: how the sender's link with one
    other peer of its sprint went, for the logs and metrics only (docs/protocol.md 1.8)."""

    peer: str
    outcome: str  # one of LINK_OUTCOMES
    path: str | None = None  # "<local>/<remote>" candidate types, or "signaling"
    took_ms: int | None = None
    rtt_ms: float | None = None
    reason: str | None = None


LINK_OUTCOMES: Final = ("open", "relayed", "failed", "closed")
CANDIDATE_TYPES: Final = ("host", "srflx", "prflx", "relay")
MAX_LINK_MILLISECONDS: Final = 3_600_000
MAX_LINK_REASON: Final = 120


@dataclass(slots=True)
class Binary:
    """A binary frame: not part of the protocol (answered with ``binary-not-supported``)."""


ClientMessage = Join | Signal | Relay | Ping | LinkReport

MESSAGE_TYPES: Final[dict[type, str]] = {
    Join: "join",
    Signal: "signal",
    Relay: "relay",
    Ping: "ping",
    LinkReport: "link",
    Binary: "binary",
}
BINARY: Final = Binary()


def parse_client_message(text: str) -> ClientMessage:
    """Parse one text frame from a client, or raise :class:`ProtocolError` saying what is wrong."""
    try:
        raw = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        raise ProtocolError(f"message is not valid JSON: {exc}", code="bad-json") from None
    # A well-formed signal (every relayed message) in one test; anything else, including a
    # malformed signal, goes through the checks below, which say exactly what is wrong.
    if type(raw) is dict and raw.get("type") == "signal":
        to, data = raw.get("to"), raw.get("data")
        if type(to) is str and 0 < len(to) <= MAX_PEER_ID_LENGTH and type(data) is dict:
            return Signal(to, data)  # positional: no keyword matching per relayed message
    if not isinstance(raw, dict):
        raise ProtocolError(
            f"message must be a JSON object, got {_json_kind(raw)}", code="bad-message"
        )
    kind = raw.get("type")
    if not isinstance(kind, str):
        raise ProtocolError('message has no string "type" field', code="bad-message")
    if kind == "join":
        return Join(
            ticket=raw.get("ticket"), resume=_optional_str(raw, "resume", MAX_TICKET_LENGTH)
        )
    if kind == "signal":
        return Signal(to=_peer_field(raw), data=_data_field(raw))
    if kind == "relay":
        return Relay(to=_peer_field(raw), data=_data_field(raw))
    if kind == "ping":
        return Ping()
    if kind == "link":
        return _link_report(raw)
    raise ProtocolError(
        f"unknown message type {kind[:40]!r}; expected join, signal, relay, ping or link",
        code="unknown-type",
    )


def _link_report(raw: dict[str, Any]) -> LinkReport:
    peer = _required_str(raw, "peer", MAX_PEER_ID_LENGTH)
    outcome = raw.get("outcome")
    if outcome not in LINK_OUTCOMES:
        raise ProtocolError(
            f'"outcome" must be one of {", ".join(LINK_OUTCOMES)}', code="bad-message"
        )
    path = raw.get("path")
    if path is not None:
        local, slash, remote = path.partition("/") if isinstance(path, str) else ("", "", "")
        if path != "signaling" and not (
            slash and local in CANDIDATE_TYPES and remote in CANDIDATE_TYPES
        ):
            raise ProtocolError(
                '"path" must be "signaling" or "<local>/<remote>" candidate types '
                "(host, srflx, prflx, relay)",
                code="bad-message",
            )
    took = raw.get("took_ms")
    if took is not None and (type(took) is not int or not 0 <= took <= MAX_LINK_MILLISECONDS):
        raise ProtocolError(
            f'"took_ms" must be a whole number of milliseconds up to {MAX_LINK_MILLISECONDS}',
            code="bad-message",
        )
    rtt = raw.get("rtt_ms")
    if rtt is not None and (type(rtt) not in (int, float) or not 0 <= rtt <= MAX_LINK_MILLISECONDS):
        raise ProtocolError(
            f'"rtt_ms" must be a number of milliseconds up to {MAX_LINK_MILLISECONDS}',
            code="bad-message",
        )
    _check_link_consistency(str(outcome), path, took)
    reason = raw.get("reason")
    if reason is not None and (
        not isinstance(reason, str) or len(reason) > MAX_LINK_REASON or not reason.isprintable()
    ):
        raise ProtocolError(
            f'"reason" must be printable text of at most {MAX_LINK_REASON} characters',
            code="bad-message",
        )
    return LinkReport(
        peer=peer,
        outcome=str(outcome),
        path=path,
        took_ms=took,
        rtt_ms=None if rtt is None else round(float(rtt), 1) + 0.0,  # + 0.0: -0.0 becomes 0.0
        reason=reason,
    )


def _check_link_consistency(outcome: str, path: object, took: object) -> None:
    """A report that contradicts itself is refused, naming the field that does not fit."""
    if outcome == "open" and path == "signaling":
        raise ProtocolError(
            '"path" of an "open" link must be "<local>/<remote>" candidate types, not "signaling"',
            code="bad-message",
        )
    if outcome == "relayed" and path is not None and path != "signaling":
        raise ProtocolError('"path" of a "relayed" link must be "signaling"', code="bad-message")
    if outcome != "open" and took is not None:
        raise ProtocolError(
            '"took_ms" is the time to "open": only an "open" report carries it',
            code="bad-message",
        )


def _json_kind(value: object) -> str:
    names = {list: "an array", str: "a string", bool: "a boolean", type(None): "null"}
    for python_type, name in names.items():
        if isinstance(value, python_type):
            return name
    return "a number"


def _required_str(raw: dict[str, Any], field: str, max_length: int) -> str:
    value = raw.get(field)
    if not isinstance(value, str) or not value:
        raise ProtocolError(
            f'"{field}" must be a non-empty string, got {_json_kind(value)}'
            if field in raw
            else f'"{raw["type"]}" message needs a "{field}" field',
            code="bad-message",
        )
    if len(value) > max_length:
        raise ProtocolError(f'"{field}" is longer than {max_length} characters', code="bad-message")
    return value


def _optional_str(raw: dict[str, Any], field: str, max_length: int) -> str | None:
    if raw.get(field) is None:
        return None
    return _required_str(raw, field, max_length)


def _peer_field(raw: dict[str, Any]) -> str:
    return _required_str(raw, "to", MAX_PEER_ID_LENGTH)


def _data_field(raw: dict[str, Any]) -> dict[str, Any]:
    data = raw.get("data")
    if not isinstance(data, dict):
        raise ProtocolError(
            f'"data" must be a JSON object, got {_json_kind(data)}'
            if "data" in raw
            else f'"{raw["type"]}" message needs a "data" object',
            code="bad-message",
        )
    return data


# --- server -> client -------------------------------------------------------------------------


def encode(message: dict[str, Any]) -> str:
    """Serialise a server message compactly (one frame).

    orjson, because every relayed message is parsed and re-encoded, and the standard library's
    json does both in Python-level code per value (docs/benchmarks.md, History).
    """
    return orjson.dumps(message).decode()


def encode_bytes(message: dict[str, Any]) -> bytes:
    """:func:`encode` as UTF-8 bytes, ready to frame (relayed messages skip the str round trip)."""
    return orjson.dumps(message)


def user_dict(user_id: str, name: str) -> dict[str, str]:
    return {"id": user_id, "name": name}


def welcome(
    *,
    peer: str,
    sprint: str,
    peers: list[dict[str, Any]],
    ice_servers: list[dict[str, Any]],
    resume: str,
) -> dict[str, Any]:
    return {
        "type": "welcome",
        "peer": peer,
        "sprint": sprint,
        "peers": peers,
        "iceServers": ice_servers,
        "resume": resume,
    }


def peer_joined(peer: str, user: dict[str, str]) -> dict[str, Any]:
    return {"type": "peer-joined", "peer": peer, "user": user}


def peer_left(peer: str) -> dict[str, Any]:
    return {"type": "peer-left", "peer": peer}


def signal_bytes(sender: str, data: dict[str, Any]) -> bytes:
    """The ``signal`` from ``sender``, encoded (every relayed signal is built here); raises
    :class:`ProtocolError` for ``data`` that parsed but cannot be sent on (see
    :func:`relay_bytes`)."""
    try:
        return orjson.dumps({"type": "signal", "from": sender, "data": data})
    except orjson.JSONEncodeError as exc:
        raise _cannot_forward(exc) from None


def relay_bytes(sender: str, data: dict[str, Any]) -> bytes:
    """The ``relay`` from ``sender``, encoded; raises :class:`ProtocolError` for ``data`` that
    parsed but cannot be sent on: JSON nested deeper than the encoder goes (the parser takes
    more levels than it), which is the client's fault, not the server's."""
    try:
        return orjson.dumps({"type": "relay", "from": sender, "data": data})
    except orjson.JSONEncodeError as exc:
        raise _cannot_forward(exc) from None


def _cannot_forward(exc: orjson.JSONEncodeError) -> ProtocolError:
    return ProtocolError(f'"data" cannot be sent on: {exc}', code="bad-message")


def sender_of(frame: str) -> str | None:
    """The ``from`` of a relayed frame the server built (``signal`` or ``relay``), if any."""
    try:
        message = orjson.loads(frame)
    except orjson.JSONDecodeError:
        return None
    sender = message.get("from") if type(message) is dict else None
    return sender if type(sender) is str else None


def board_event(event: dict[str, Any]) -> dict[str, Any]:
    return {"type": "event", "event": event}


def error(code: str, message: str) -> dict[str, Any]:
    return {"type": "error", "code": code, "message": message}


PONG: Final = encode({"type": "pong"})


# --- describing negotiation for logs ----------------------------------------------------------

_CANDIDATE_TYPE = re.compile(r"\btyp (\w+)")


def _candidate_type(line: str) -> str | None:
    """The ``typ`` of one candidate line (cheaper than the regex, or than ``str.find``, whose
    argument parsing is slow in CPython 3.11, on this hot path)."""
    return line.partition(" typ ")[2].partition(" ")[0] or None


class SignalSummary(NamedTuple):
    """What a ``signal`` carries, for one log line: never the SDP itself."""

    kind: str  # offer | answer | candidate | end-of-candidates | other
    candidate_types: tuple[str, ...] = ()


def describe_signal(data: dict[str, Any]) -> SignalSummary:
    """Classify a signal's opaque ``data`` (docs/protocol.md 1.4) for logs and metrics."""
    description = data.get("description")
    if description is not None:
        if isinstance(description, dict) and description.get("type") in {"offer", "answer"}:
            sdp = description.get("sdp")
            types = _CANDIDATE_TYPE.findall(sdp) if isinstance(sdp, str) else []
            return SignalSummary(kind=str(description["type"]), candidate_types=tuple(types))
    elif type(candidate := data.get("candidate")) is dict:
        # The common case, one per trickled candidate, first and without the generic checks.
        line = candidate.get("candidate")
        if not line:
            return END_OF_CANDIDATES
        # _candidate_type, inline: one call less per candidate
        kind = line.partition(" typ ")[2].partition(" ")[0] if type(line) is str else None
        if not kind:
            return CANDIDATE_OF_NO_TYPE
        return _KNOWN_CANDIDATES.get(kind) or SignalSummary("candidate", (kind,))
    if "candidate" in data:
        candidate = data["candidate"]
        if candidate is None or (isinstance(candidate, dict) and not candidate.get("candidate")):
            return END_OF_CANDIDATES
        line = candidate.get("candidate") if isinstance(candidate, dict) else candidate
        typ = _candidate_type(line) if isinstance(line, str) else None
        return SignalSummary("candidate", (typ,)) if typ else CANDIDATE_OF_NO_TYPE
    return OTHER_SIGNAL


END_OF_CANDIDATES: Final = SignalSummary("end-of-candidates")
CANDIDATE_OF_NO_TYPE: Final = SignalSummary("candidate")
OTHER_SIGNAL: Final = SignalSummary("other")
# The candidate types of RFC 8445, summarised once: not a NamedTuple built per trickled candidate.
_KNOWN_CANDIDATES: Final = {
    kind: SignalSummary("candidate", (kind,)) for kind in ("host", "srflx", "prflx", "relay")
}
