"""``python -m signaling.logs FILE``: read signaling logs and tell who was there and how each pair
linked (``signaling.logsummary``), failures first.

FILE may be a human or a JSON log, several files, or ``-`` (the default) for standard input: read
that way (``tail -f signaling.log | python -m signaling.logs``) each pair's outcome is printed as
its ``link`` line arrives, and the whole story when the input ends or on Ctrl-C.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import TextIO

from signaling.logreader import Entry, parse_line
from signaling.logsummary import NO_ANSWER_SECONDS, Story

_DURATION = re.compile(r"^(\d+(?:\.\d+)?)([smh])$")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m signaling.logs",
        description="Who was in each sprint when, and how each pair's link went: from signaling "
        "logs (human or JSON), failures first with their likely cause.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("files", nargs="*", default=["-"], metavar="FILE", help="- is stdin")
    parser.add_argument("--sprint", help="only this sprint")
    parser.add_argument("--peer", help="only this peer (an id or its first characters)")
    parser.add_argument(
        "--since",
        help="only what happened since: 'YYYY-MM-DD HH:MM[:SS]', 'HH:MM[:SS]' (the log's day) "
        "or a span before the log's last line such as 90s, 15m, 2h",
    )
    parser.add_argument(
        "--no-answer",
        type=float,
        default=NO_ANSWER_SECONDS,
        metavar="SECONDS",
        help="an offer unanswered this long counts as failed",
    )
    return parser


def since_time(text: str, story: Story) -> datetime:
    """The moment ``--since`` names; ValueError if it names none."""
    match = _DURATION.match(text.strip())
    if match:
        span = float(match[1]) * {"s": 1, "m": 60, "h": 3600}[match[2]]
        return (story.last or datetime.now(UTC)) - timedelta(seconds=span)
    for layout in ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"):
        try:
            return datetime.strptime(text, layout).replace(tzinfo=UTC)
        except ValueError:
            pass
    for layout in ("%H:%M:%S", "%H:%M"):
        try:
            clock = datetime.strptime(text, layout).time()
        except ValueError:
            continue
        day = (story.last or datetime.now(UTC)).date()
        return datetime.combine(day, clock, tzinfo=UTC)
    raise ValueError(f"--since: cannot read {text!r} as a time or a span like 15m")


def entries(lines: Iterable[str]) -> Iterable[Entry]:
    for line in lines:
        entry = parse_line(line)
        if entry is not None:
            yield entry


def read(story: Story, stream: TextIO, out: TextIO, live: argparse.Namespace | None) -> None:
    """Take every entry of ``stream``; with ``live`` (the filters), print outcomes as they come."""
    for entry in entries(stream):
        pair = story.add(entry)
        if live is not None and pair is not None and story.concerns(pair, live.sprint, live.peer):
            print(story.news(pair), file=out, flush=True)


def main(argv: Sequence[str] | None = None, out: TextIO = sys.stdout) -> int:
    args = build_parser().parse_args(argv)
    story = Story(no_answer_seconds=args.no_answer)
    try:
        for name in args.files:
            if name == "-":
                read(story, sys.stdin, out, live=args)
            else:
                try:
                    with open(name, encoding="utf-8", errors="replace") as stream:
                        read(story, stream, out, live=None)
                except OSError as exc:
                    print(f"signaling.logs: cannot read {name}: {exc.strerror}", file=sys.stderr)
                    return 2
    except KeyboardInterrupt:
        pass
    try:
        since = since_time(args.since, story) if args.since else None
    except ValueError as exc:
        print(f"signaling.logs: {exc}", file=sys.stderr)
        return 2
    out.write(story.report(sprint=args.sprint, peer=args.peer, since=since))
    return 0
