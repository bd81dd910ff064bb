"""The bot's actions: what ``--move``, ``--drag`` and ``--script`` ask for, parsed. No I/O.

Places are written ``COLUMN`` or ``COLUMN:INDEX`` (index 0 = top, the default); columns are
``backlog``, ``not_started``, ``in_progress``, ``testing``, ``done`` (``in-progress`` and
``"In progress"`` work too).

Script lines (``#`` starts a comment; blank lines are skipped)::

    wait 1.5                    # pause, seconds
    wait-peers 2                # wait until 2 other peers are linked (at most --wait-timeout)
    move 12 testing:0           # pick #12 up, hover over the target, drop it, save it
    move 12 done:1 via testing  # ... hovering over other places on the way
    drag 12 testing done        # pick #12 up, hover over each place, put it back
"""

from __future__ import annotations

from dataclasses import dataclass, field

from peer_client.errors import ActionError
from peer_client.fields import COLUMNS
from peer_client.places import Place, column_named


@dataclass(frozen=True, slots=True)
class Move:
    task: int
    to: Place
    via: tuple[Place, ...] = ()


@dataclass(frozen=True, slots=True)
class Drag:
    task: int
    over: tuple[Place, ...]


@dataclass(frozen=True, slots=True)
class Wait:
    seconds: float


@dataclass(frozen=True, slots=True)
class WaitPeers:
    count: int


Action = Move | Drag | Wait | WaitPeers


def parse_place(text: str) -> Place:
    """``COLUMN`` or ``COLUMN:INDEX`` as a :class:`Place`; :class:`ActionError` if malformed."""
    name, _, index_text = text.partition(":")
    column = column_named(name)
    if column is None:
        raise ActionError(f"unknown column {name!r} (columns: {', '.join(COLUMNS)})")
    if not index_text:
        return Place(column, 0)
    try:
        index = int(index_text)
    except ValueError:
        raise ActionError(f"bad index {index_text!r} in {text!r}: use COLUMN:NUMBER") from None
    if index < 0:
        raise ActionError(f"bad index in {text!r}: indexes start at 0")
    return Place(column, index)


def parse_task(text: str) -> int:
    """A task id (``12`` or ``#12``)."""
    try:
        value = int(text.removeprefix("#"))
    except ValueError:
        raise ActionError(f"bad task id {text!r}: use the task's number") from None
    if value < 1:
        raise ActionError(f"bad task id {text!r}")
    return value


def parse_move_option(text: str) -> Move:
    """``--move TASK:COLUMN[:INDEX]``."""
    task, sep, place = text.partition(":")
    if not sep:
        raise ActionError(f"--move {text!r}: use TASK:COLUMN[:INDEX], e.g. 12:testing:0")
    return Move(parse_task(task), parse_place(place))


def parse_drag_option(text: str) -> Drag:
    """``--drag TASK:PLACE[,PLACE...]``."""
    task, sep, places = text.partition(":")
    if not sep or not places:
        raise ActionError(f"--drag {text!r}: use TASK:PLACE[,PLACE...], e.g. 12:testing,done:1")
    return Drag(parse_task(task), tuple(parse_place(p) for p in places.split(",") if p))


def parse_script(text: str, source: str = "script") -> list[Action]:
    """Parse a script (see the module docstring); errors name the line."""
    actions: list[Action] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        words = raw.split("#", 1)[0].split()
        if not words:
            continue
        try:
            actions.append(_script_line(words))
        except ActionError as exc:
            raise ActionError(f"{source} line {number}: {exc}") from None
    return actions


def _script_line(words: list[str]) -> Action:
    verb, args = words[0].lower(), words[1:]
    if verb == "wait" and len(args) == 1:
        try:
            seconds = float(args[0])
        except ValueError:
            raise ActionError(f"wait needs seconds, got {args[0]!r}") from None
        if not 0 <= seconds <= 3600:
            raise ActionError("wait takes 0 to 3600 seconds")
        return Wait(seconds)
    if verb == "wait-peers" and len(args) == 1 and args[0].isdigit():
        return WaitPeers(int(args[0]))
    if verb == "move" and (len(args) == 2 or (len(args) > 3 and args[2] == "via")):
        via = tuple(parse_place(p) for p in args[3:])
        return Move(parse_task(args[0]), parse_place(args[1]), via)
    if verb == "drag" and len(args) >= 2:
        return Drag(parse_task(args[0]), tuple(parse_place(p) for p in args[1:]))
    raise ActionError(
        f"cannot read {' '.join(words)!r}: expected wait SECONDS, wait-peers N, "
        "move TASK PLACE [via PLACE...], or drag TASK PLACE [PLACE...]"
    )


def tasks_named(actions: list[Action]) -> list[int]:
    """Every task id the actions touch, in order (to check them before joining)."""
    return [action.task for action in actions if isinstance(action, Move | Drag)]


@dataclass
class BotOptions:
    """Everything the command line decides."""

    board: str
    sprint: int
    user: str | None = None
    password: str | None = None
    token: str | None = None
    actions: list[Action] = field(default_factory=list)
    once: bool = False
    json: bool = False
    loopback_only: bool = False
    step: float = 0.3
    wait_timeout: float = 15.0
    verbose: bool = False
