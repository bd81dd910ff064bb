"""Signaling log lines for the log reader's tests, written by the server's own formatter
(``signaling.logs.EventLog``), human or JSON, at chosen moments."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from signaling.logs import EventLog

START = datetime(2026, 12, 6, 10, 0, 0, tzinfo=UTC).timestamp()


class LogWriter:
    """``log.line("join", 1.5, sprint="7", ...)``: the line the server writes 1.5 s after START."""

    def __init__(self, *, json: bool = False) -> None:
        self._log = EventLog()
        self._log.json = json

    def line(self, event: str, at: float, **fields: Any) -> str:
        return self._log.line(event, logging.INFO, fields, START + at) + "\n"

    def join(self, at: float, peer: str, name: str, sprint: str = "7") -> str:
        return self.line("join", at, sprint=sprint, peer=peer, user=name.lower(), name=name)

    def leave(self, at: float, peer: str, name: str, sprint: str = "7") -> str:
        return self.line(
            "leave",
            at,
            sprint=sprint,
            peer=peer,
            user=name.lower(),
            name=name,
            reason="closed (1001)",
        )

    def signal(
        self, at: float, sender: str, to: str, kind: str, candidates: str = "", sprint: str = "7"
    ) -> str:
        fields: dict[str, Any] = {"sprint": sprint, "from": sender, "to": to, "kind": kind}
        fields["bytes"] = 900
        if candidates:
            fields["candidates"] = candidates
        return self.line("signal", at, **fields)

    def link(self, at: float, by: str, other: str, outcome: str, **fields: Any) -> str:
        a, b = sorted([by, other])
        return self.line(
            "link",
            at,
            sprint=fields.pop("sprint", "7"),
            a=a,
            b=b,
            outcome=outcome,
            **fields,
            by="a" if by == a else "b",
        )


human = LogWriter()
json_log = LogWriter(json=True)
