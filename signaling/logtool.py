"""``python -m signaling.logs FILE``: read signaling logs and tell who was there and how each pair
linked (``signaling.logsummary``, ``signaling.logverdict``), failures first.

FILE may be a human or a JSON log, several files (one per instance: their lines are merged by
time), or ``-`` (the default) for standard input. Standard input alone is *followed*
(``tail -f signaling.log | python -m signaling.logs``): each pair's new verdict is printed as its
line arrives, an offer left unanswered is reported once ``--no-answer`` seconds pass even if the
log stays quiet meanwhile, and the whole story is printed when the input ends or on Ctrl-C.

Input is read as bytes and decoded as UTF-8 with bad bytes replaced, so no line stops the reader;
bad arguments are refused by argparse, naming the option.
"""

from __future__ import annotations

import argparse
import math
import os
import re
import selectors
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from datetime import time as clock_time
from typing import BinaryIO, Final, TextIO

from signaling.logreader import merged, parse_line
from signaling.logsummary import NO_ANSWER_SECONDS, News, Story
from signaling.logverdict import news, report

KEEP_ENDED_FOLLOWING: Final = 2000  # stays and pairs that ended, kept while following a log
IDLE_SECONDS: Final = 0.25  # how often a quiet followed log looks at the clock
MAX_NO_ANSWER_SECONDS: Final = 86_400.0

_SPAN: Final = re.compile(r"(\d+(?:\.\d+)?)([smhd])")
_MOMENT: Final = re.compile(r"(\d{4}-\d\d-\d\d)[T ](\d\d?:\d\d(?::\d\d(?:\.\d{1,6})?)?)Z?")
_TIME_OF_DAY: Final = re.compile(r"(\d\d?:\d\d(?::\d\d(?:\.\d{1,6})?)?)Z?")
_UNITS: Final = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_EARLIEST: Final = datetime.min.replace(tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Since:
    """What ``--since`` names: a span before the log's last line, a moment, or a time of day."""

    span: float | None = None
    moment: datetime | None = None
    time_of_day: clock_time | None = None

    def resolve(self, last: datetime | None) -> datetime:
        """The moment, given the time of the log's last line (None: an empty log)."""
        if self.moment is not None:
            return self.moment
        end = last or datetime.now(UTC)
        if self.time_of_day is not None:
            return datetime.combine(end.date(), self.time_of_day, tzinfo=UTC)
        assert self.span is not None
        try:
            return end - timedelta(seconds=self.span)
        except OverflowError:  # longer ago than any date: everything
            return _EARLIEST


def since(text: str) -> Since:
    """Parse ``--since``; argparse turns the error into one naming the option."""
    text = text.strip()
    if match := _SPAN.fullmatch(text):
        span = float(match[1]) * _UNITS[match[2]]
        return Since(span=span if math.isfinite(span) else math.inf)
    try:
        if match := _MOMENT.fullmatch(text):
            moment = datetime.fromisoformat(f"{match[1]}T{_two_digit_hour(match[2])}")
            return Since(moment=moment.replace(tzinfo=UTC))
        if match := _TIME_OF_DAY.fullmatch(text):
            return Since(time_of_day=clock_time.fromisoformat(_two_digit_hour(match[1])))
    except ValueError:
        pass
    raise argparse.ArgumentTypeError(
        f"cannot read {text[:40]!r} as a time (2026-12-06 18:36, 2026-12-06T18:36:00Z, 18:36) "
        "or a span (90s, 15m, 2h, 1d)"
    )


def _two_digit_hour(text: str) -> str:
    return text if text.index(":") == 2 else "0" + text


def seconds(text: str) -> float:
    """Parse ``--no-answer``: a finite number of seconds above 0, at most a day."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and 0 < value <= MAX_NO_ANSWER_SECONDS):
        raise argparse.ArgumentTypeError(
            f"{text[:40]!r} is not a number of seconds above 0 and at most "
            f"{MAX_NO_ANSWER_SECONDS:g}"
        )
    return value


def some_text(text: str) -> str:
    if not text.strip():
        raise argparse.ArgumentTypeError("must not be empty")
    return text


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m signaling.logs",
        description="Who was in each sprint when, and how each pair's link went: from signaling "
        "logs (human or JSON), failures first with their likely cause.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument(
        "files",
        nargs="*",
        default=["-"],
        metavar="FILE",
        help="logs, one per instance, merged by time; - is stdin, followed when it is alone",
    )
    parser.add_argument("--sprint", type=some_text, help="only this sprint")
    parser.add_argument(
        "--peer",
        type=some_text,
        help="only this person's pairs: the first characters of a peer id, or part of a display "
        "name (any case)",
    )
    parser.add_argument(
        "--since",
        type=since,
        help="only what happened since: 'YYYY-MM-DD HH:MM[:SS]' (or the JSON log's "
        "YYYY-MM-DDTHH:MM:SS.mmmZ), 'HH:MM[:SS]' (the log's last day) or a span before the log's "
        "last line such as 90s, 15m, 2h, 1d",
    )
    parser.add_argument(
        "--no-answer",
        type=seconds,
        default=NO_ANSWER_SECONDS,
        metavar="SECONDS",
        help="an offer unanswered this long counts as failed",
    )
    return parser


def lines_of(stream: BinaryIO) -> Iterator[str]:
    """The lines of ``stream`` as text, bad UTF-8 replaced (U+FFFD), never an error."""
    for raw in stream:
        yield raw.decode("utf-8", errors="replace")


def with_pauses(stream: BinaryIO, idle: float = IDLE_SECONDS) -> Iterator[str | None]:
    """The lines of a live stream (a pipe, a terminal), and None each time ``idle`` seconds pass
    without one. A stream that cannot be waited on (a file) is simply read."""
    selector = selectors.DefaultSelector()
    try:
        fd = stream.fileno()
        selector.register(fd, selectors.EVENT_READ)
    except (OSError, ValueError):  # no descriptor, or a regular file: it never makes us wait
        selector.close()
        yield from lines_of(stream)
        return
    with selector:
        partial = bytearray()
        while True:
            if not selector.select(idle):
                yield None
                continue
            chunk = os.read(fd, 1 << 16)
            if not chunk:
                break
            end = chunk.rfind(b"\n") + 1
            if not end:
                partial += chunk
                continue
            partial += chunk[:end]
            for raw in bytes(partial).splitlines(keepends=True):
                yield raw.decode("utf-8", errors="replace")
            partial = bytearray(chunk[end:])
        if partial:
            yield bytes(partial).decode("utf-8", errors="replace")


def follow(
    story: Story,
    items: Iterable[str | None],
    out: TextIO,
    args: argparse.Namespace,
    clock: Callable[[], float] = time.monotonic,
) -> None:
    """Take a live log's lines (None: a pause) and print each pair's new verdict as it comes.

    The log's time runs on while it is quiet: a pause puts it at the last line's time plus the
    ``clock`` seconds since that line arrived, so an offer nobody answers is told on time.
    """
    arrived = clock()
    for item in items:
        if item is None:
            if story.last is not None:
                quiet = timedelta(seconds=max(0.0, clock() - arrived))
                _tell(story, story.advance(story.last + quiet), out, args)
            continue
        entry = parse_line(item)
        if entry is not None:
            arrived = clock()
            _tell(story, story.add(entry), out, args)


def _tell(story: Story, changes: list[News], out: TextIO, args: argparse.Namespace) -> None:
    start = args.since.resolve(story.last) if changes and args.since else None
    for when, pair in changes:
        if story.concerns(pair, args.sprint, args.peer) and (start is None or when >= start):
            print(news(story, when, pair), file=out, flush=True)


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    args = build_parser().parse_args(argv)
    if out is None:
        out = sys.stdout
        if hasattr(out, "reconfigure"):
            out.reconfigure(errors="backslashreplace")  # a terminal that is not UTF-8
    following = args.files == ["-"]
    story = Story(args.no_answer, keep_ended=KEEP_ENDED_FOLLOWING if following else None)
    with ExitStack() as files:
        streams: list[BinaryIO] = []
        for name in args.files:
            if name == "-":
                streams.append(sys.stdin.buffer)
                continue
            try:
                streams.append(files.enter_context(open(name, "rb")))
            except OSError as exc:
                print(f"signaling.logs: cannot read {name}: {exc.strerror}", file=sys.stderr)
                return 2
        try:
            try:
                if following:
                    follow(story, with_pauses(streams[0]), out, args)
                else:
                    for source, entry in merged([lines_of(stream) for stream in streams]):
                        story.add(entry, source)
            except KeyboardInterrupt:
                pass  # Ctrl-C (while following, say): the story so far
            moment = args.since.resolve(story.last) if args.since else None
            out.write(report(story, sprint=args.sprint, peer=args.peer, since=moment))
            out.flush()
        except BrokenPipeError:  # | head: whoever read our output is gone
            if out is sys.stdout:
                os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 0
