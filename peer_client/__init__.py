"""Watercooler's Python peer: the aiortc library and the headless bot (``python -m peer_client``).

Joins a sprint the way a browser tab does — the board's REST API for the tasks and a signaling
ticket, the signaling websocket for introductions, one WebRTC data channel per other viewer — and
speaks docs/protocol.md section 2 on it.

Modules, one job each:

=============== ==================================================================================
``protocol``    the protocol's numbers, and the check every message passes (pure, no I/O)
``messages``    the data-channel messages as values (pure, no I/O)
``places``      places on the board, and how they map to the board's API (pure, no I/O)
``message_ids`` envelope ids: numbering, duplicates and order per sender (pure, no I/O)
``presence``    how people look: colours and initials (pure, no I/O)
``state``       tasks by version, others' drags, pending drops (pure, no I/O)
``actions``     the bot's actions and script files, parsed (pure, no I/O)
``signaling``   the reconnecting signaling websocket (backoff with jitter, resume, fresh tickets)
``mesh``        the links to every peer: who offers, offering again, the shared relay budget
``peer_link``   one aiortc ``RTCPeerConnection`` to one peer, in-order negotiation, relay fallback
``ice``         ICE servers from welcome, browsers' candidates, the selected candidate pair
``link_report`` when a pair's link is reported to signaling, and what it says (pure, no I/O)
``board_api``   the board's REST API (login, sprint, ticket, tasks, move)
``session``     :class:`BoardSession`: everything together, with a browser-like event API
``inbox``       what peers say to the session: checked, handled once and in order, applied
``own_drag``    the card the session holds, and the moves it makes with it
``outbox``      each message the session sends, numbered and checked
``roster``      who is present (pure, no I/O)
``emitter``     the session's listeners
``loopback``    ``--loopback-only``: make aioice offer 127.0.0.1
``bot``/``cli`` the command line
=============== ==================================================================================

Library use::

    board = BoardClient("http://127.0.0.1:8000")
    await board.login("sam", "demo")
    session = await BoardSession.from_board(board, sprint_id)
    session.on("presence", lambda people: print([p.name for p in people]))
    session.on("drag", lambda e: print(e.person.name, e.kind, e.task, e.place))
    session.on("task-updated", lambda e: print(e.task["id"], e.task["status"], e.source))
    await session.join()
    await session.move(task_id, Place("testing", 0), over=[Place("done", 0)], step=0.3)
    await session.close()   # bye, channels and websocket closed; safe to call twice
    await board.close()

The bot::

    python -m peer_client --board URL (--user NAME --password PW | --token T) --sprint ID
        [--move TASK:COLUMN[:INDEX]] [--drag TASK:PLACE[,PLACE...]] [--script FILE]
        [--wait-peers N] [--step S] [--once] [--json] [--loopback-only]

Watches by default and prints one line per event (``--json``: JSON lines). Ctrl-C leaves cleanly
and exits 0; bad arguments, a wrong password, an unknown sprint or task, or an unreachable server
end with one line on stderr and exit 2. ``--loopback-only`` is for machines without a network card
and loopback-only network namespaces (see README, "The bot").
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from peer_client.board_api import BoardClient
    from peer_client.places import Place
    from peer_client.session import BoardSession

__all__ = ["BoardClient", "BoardSession", "Place"]
_HOMES = {"BoardClient": "board_api", "BoardSession": "session", "Place": "places"}


def __getattr__(name: str) -> Any:
    # Imported on first use, so `python -m peer_client --help` does not pay for aiortc.
    if name in _HOMES:
        return getattr(importlib.import_module(f"peer_client.{_HOMES[name]}"), name)
    raise AttributeError(f"module 'peer_client' has no attribute {name!r}")
