"""The board's REST API, as much of it as a peer needs (docs/api.md).

Log in for a token, read a sprint (with its signaling ticket), fetch a fresh ticket, list the
sprint's and the backlog's tasks, and move a task. Every failure becomes one
:class:`~peer_client.errors.BoardError` whose message is a sentence a person can act on.

Keep-alive: a connection kept from an earlier request may have been closed by the board meanwhile
(gunicorn closes idle ones after its ``--keep-alive`` seconds) without us having noticed yet. A
request that fails on such a reused connection before any answer came is sent once more, on a
fresh connection. That is safe for a move too: it carries the version it was made against, so a
repeat of a move the board did save is refused (409), and a 409 whose current task is ours — one
version on, in the column we asked for — means the first one was saved (:meth:`BoardClient.move`).
"""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any, Literal
from urllib.parse import urljoin

import aiohttp

from peer_client.errors import BoardRefused, BoardUnreachable, LoginFailed, NotFound
from peer_client.places import Place, move_request
from peer_client.signaling import Ticket, describe

PAGE_SIZE = 500

log = logging.getLogger("peer_client.board_api")

# What a connection the board closed under us looks like, before any answer: it hung up (EOF) or
# reset while we wrote. A failure to connect at all (ClientConnectorError) is not one of them.
_LOST_BEFORE_ANSWER = (
    aiohttp.ServerDisconnectedError,
    aiohttp.ClientOSError,
    aiohttp.ClientConnectionResetError,
)


@dataclass(frozen=True, slots=True)
class Answer:
    """The board's answer to one request: status, JSON body (None if none), and whether it took
    a second attempt on a fresh connection (the first one's fate unknown)."""

    status: int
    data: Any
    retried: bool = False


async def _note_reuse(
    session: aiohttp.ClientSession, context: SimpleNamespace, params: object
) -> None:
    """Trace hook: this request went out on a connection kept from an earlier one."""
    if isinstance(context.trace_request_ctx, SimpleNamespace):
        context.trace_request_ctx.reused = True


@dataclass(frozen=True, slots=True)
class MoveResult:
    """What the board said to a move.

    ``outcome`` is ``"moved"`` (200, ``task`` is the moved task), ``"conflict"`` (409, ``task`` is
    the current one and ``detail`` says why) or ``"refused"`` (400, a board rule; ``detail`` has
    the rule's message and ``task`` is None).
    """

    outcome: Literal["moved", "conflict", "refused"]
    task: dict[str, Any] | None
    detail: str = ""


class BoardClient:
    """An authenticated client of one board (``base_url`` like ``http://127.0.0.1:8000``)."""

    def __init__(self, base_url: str, token: str | None = None, *, timeout: float = 10.0) -> None:
        self.base_url = base_url.rstrip("/") + "/"
        self.token = token
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._http: aiohttp.ClientSession | None = None

    def _session(self) -> aiohttp.ClientSession:
        if self._http is None:
            trace = aiohttp.TraceConfig()
            trace.on_connection_reuseconn.append(_note_reuse)
            self._http = aiohttp.ClientSession(timeout=self._timeout, trace_configs=[trace])
        return self._http

    async def close(self) -> None:
        """Close the HTTP connection pool. Idempotent."""
        http, self._http = self._http, None
        if http is not None:
            await http.close()

    async def _request(
        self, method: str, path: str, body: dict[str, Any] | None = None
    ) -> tuple[int, Any]:
        answer = await self._answer(method, path, body)
        return answer.status, answer.data

    async def _answer(self, method: str, path: str, body: dict[str, Any] | None = None) -> Answer:
        """One request; sent once more on a fresh connection if a reused one failed before any
        answer (see the module docstring)."""
        url = urljoin(self.base_url, path.lstrip("/"))
        headers = {"Accept": "application/json"}
        if self.token:
            headers["Authorization"] = f"Token {self.token}"
        context = SimpleNamespace(reused=False)
        try:
            try:
                response = await self._session().request(
                    method, url, json=body, headers=headers, trace_request_ctx=context
                )
            except _LOST_BEFORE_ANSWER as exc:
                if not context.reused or isinstance(exc, aiohttp.ClientConnectorError):
                    raise
                log.info(
                    "%s %s: kept connection lost before an answer (%s); again", method, path, exc
                )
                return await self._fresh(method, url, body, headers)
            async with response:
                return Answer(response.status, await _json_of(response))
        except (aiohttp.ClientError, OSError, TimeoutError) as exc:
            raise BoardUnreachable(
                f"cannot reach the board at {self.base_url}: {describe(exc)}"
            ) from None

    async def _fresh(
        self, method: str, url: str, body: dict[str, Any] | None, headers: dict[str, str]
    ) -> Answer:
        """The second attempt, on a connection of its own (the pool may hold more stale ones)."""
        connector = aiohttp.TCPConnector(force_close=True)
        async with (
            aiohttp.ClientSession(timeout=self._timeout, connector=connector) as once,
            once.request(method, url, json=body, headers=headers) as response,
        ):
            return Answer(response.status, await _json_of(response), retried=True)

    def _check_auth(self, status: int) -> None:
        if status in (401, 403):
            raise LoginFailed("the board refused the token (log in again, or check --token)")

    async def login(self, username: str, password: str) -> str:
        """Exchange a username and password for an API token (kept for later requests)."""
        status, data = await self._request(
            "POST", "/api/token/", {"username": username, "password": password}
        )
        if status == 200 and isinstance(data, dict) and isinstance(data.get("token"), str):
            self.token = data["token"]
            return self.token
        if status == 400:
            raise LoginFailed(f"the board refused the login for {username!r}: wrong password?")
        raise BoardRefused(f"login answered HTTP {status}; is {self.base_url} a Watercooler board?")

    async def sprint(self, sprint_id: int) -> dict[str, Any]:
        """The sprint detail, with ``links.signaling`` = ``{url, ticket, expires}``."""
        status, data = await self._request("GET", f"/api/sprints/{sprint_id}/")
        self._check_auth(status)
        if status == 404:
            raise NotFound(f"there is no sprint {sprint_id} on the board")
        if status != 200 or not isinstance(data, dict):
            raise BoardRefused(f"sprint {sprint_id} answered HTTP {status}")
        return data

    async def ticket(self, sprint_id: int) -> Ticket:
        """A fresh signaling ticket for the sprint."""
        status, data = await self._request("GET", f"/api/sprints/{sprint_id}/ticket/")
        self._check_auth(status)
        if status == 404:
            raise NotFound(f"there is no sprint {sprint_id} on the board")
        if status != 200 or not isinstance(data, dict):
            raise BoardRefused(f"the ticket of sprint {sprint_id} answered HTTP {status}")
        return ticket_from(data)

    async def task(self, task_id: int) -> dict[str, Any] | None:
        """One task as the board holds it now (unchecked), or None if there is no such task."""
        status, data = await self._request("GET", f"/api/tasks/{task_id}/")
        self._check_auth(status)
        if status == 404:
            return None
        if status != 200 or not isinstance(data, dict):
            raise BoardRefused(f"task {task_id} answered HTTP {status}")
        return data

    async def tasks(self, sprint_id: int) -> list[dict[str, Any]]:
        """The sprint's tasks and the backlog's (every page)."""
        tasks = await self._all(f"/api/tasks/?sprint={sprint_id}&page_size={PAGE_SIZE}")
        return tasks + await self._all(f"/api/tasks/?backlog=true&page_size={PAGE_SIZE}")

    async def backlog(self) -> list[dict[str, Any]]:
        """Every task of the backlog (every page)."""
        return await self._all(f"/api/tasks/?backlog=true&page_size={PAGE_SIZE}")

    async def _all(self, path: str) -> list[dict[str, Any]]:
        results: list[dict[str, Any]] = []
        next_path: str | None = path
        while next_path:
            status, data = await self._request("GET", next_path)
            self._check_auth(status)
            if status != 200 or not isinstance(data, dict):
                raise BoardRefused(f"listing tasks answered HTTP {status}")
            results.extend(task for task in data.get("results", []) if isinstance(task, dict))
            following = data.get("next")
            next_path = following if isinstance(following, str) and following else None
        return results

    async def move(self, task_id: int, place: Place, sprint: int, version: int) -> MoveResult:
        """``POST /api/tasks/{id}/move/``: one request, one transaction.

        If the request had to be sent again, the board may have saved the first one: a 409 whose
        current task is ours (see :func:`saved_by_us`) is the move done."""
        body = {**move_request(place, sprint), "version": version}
        answer = await self._answer("POST", f"/api/tasks/{task_id}/move/", body)
        status, data = answer.status, answer.data
        self._check_auth(status)
        if status == 200 and isinstance(data, dict):
            return MoveResult("moved", data)
        if status == 409 and isinstance(data, dict) and isinstance(data.get("task"), dict):
            current = data["task"]
            if answer.retried and saved_by_us(current, place, sprint, version):
                log.info("move of task %d: the first attempt was saved", task_id)
                return MoveResult("moved", current)
            return MoveResult("conflict", current, str(data.get("detail", "")))
        if status == 400:
            return MoveResult("refused", None, rule_message(data))
        if status == 404:
            raise NotFound(f"there is no task {task_id} on the board")
        raise BoardRefused(f"moving task {task_id} answered HTTP {status}")


def saved_by_us(current: dict[str, Any], place: Place, sprint: int, version: int) -> bool:
    """Is ``current`` (a 409's task) the move we asked for, saved: one version past the one we
    moved from, in the column we asked for? (Its position may have shifted since, as other cards
    moved, without a new version.)"""
    target = move_request(place, sprint)
    return (
        current.get("version") == version + 1
        and current.get("sprint") == target["sprint"]
        and current.get("status") == target["status"]
    )


async def _json_of(response: aiohttp.ClientResponse) -> Any:
    """The answer's JSON body, or None if it has none (or not JSON)."""
    with contextlib.suppress(aiohttp.ContentTypeError, ValueError):
        return await response.json()
    return None


def ticket_from(data: dict[str, Any]) -> Ticket:
    """``{url, ticket, expires}`` from the board as a :class:`Ticket`."""
    url, ticket = data.get("url"), data.get("ticket")
    if not isinstance(url, str) or not isinstance(ticket, str):
        raise BoardRefused("the board's signaling link has no url and ticket")
    return Ticket(url, ticket)


def rule_message(data: object) -> str:
    """One line from DRF field errors (``{"field": ["message", ...]}``)."""
    if isinstance(data, dict):
        parts = []
        for field, messages in data.items():
            text = " ".join(messages) if isinstance(messages, list) else str(messages)
            parts.append(text if field in ("detail", "non_field_errors") else f"{field}: {text}")
        return "; ".join(parts) or "refused"
    return str(data) if data else "refused"
