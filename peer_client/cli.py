"""``python -m peer_client``: the command line of the headless bot.

Exit codes: 0 after a clean leave (Ctrl-C, SIGTERM, or ``--once``); 1 when ``--once`` and the board
refused a move; 2 for anything that stops the bot from starting — bad arguments, a wrong password
or token, an unknown sprint or task, a board or signaling server that cannot be reached. Errors are
one line on stderr, starting with ``peer_client: error:``.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
import textwrap
from pathlib import Path
from typing import NoReturn

from peer_client.actions import (
    Action,
    BotOptions,
    parse_drag_option,
    parse_move_option,
    parse_script,
)
from peer_client.errors import ActionError, PeerClientError
from peer_client.printable import printable

PROG = "python -m peer_client"


class UsageError(Exception):
    """The command line is wrong; the message says how."""


class OneLineParser(argparse.ArgumentParser):
    """argparse, but an error is one line (no usage dump) and exits 2."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} (see --help)")


class HelpFormatter(argparse.HelpFormatter):
    """argparse's help, wrapped without breaking an option's name at its hyphens."""

    def _split_lines(self, text: str, width: int) -> list[str]:
        return textwrap.wrap(" ".join(text.split()), width, break_on_hyphens=False)


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog=PROG,
        formatter_class=HelpFormatter,
        description="Watercooler's headless peer: joins a sprint board next to the browser tabs, "
        "prints who is here and who drags what where, and can drag and move tasks itself.",
        epilog="Places are COLUMN or COLUMN:INDEX (index 0 = top); columns: backlog, "
        "not_started, in_progress, testing, done. Script files: see peer_client/actions.py or "
        "the README. Exit codes: 0 clean leave, 1 a move refused with --once, 2 cannot start.",
    )
    parser.add_argument("--board", required=True, metavar="URL", help="e.g. http://127.0.0.1:8000")
    parser.add_argument(
        "--sprint",
        required=True,
        type=int,
        metavar="ID",
        help="the sprint to join: the number in its page's address, /sprints/ID/",
    )
    auth = parser.add_argument_group("login (one of)")
    auth.add_argument("--user", metavar="NAME", help="log in as this user, with --password")
    auth.add_argument(
        "--password",
        metavar="PASSWORD",
        help="with --user; default: the WATERCOOLER_PASSWORD environment variable",
    )
    auth.add_argument(
        "--token", metavar="TOKEN", help="an API token (default: WATERCOOLER_TOKEN if set)"
    )
    acts = parser.add_argument_group(
        "actions (in this order: --wait-peers, --script, each --drag, each --move)"
    )
    acts.add_argument(
        "--wait-peers",
        type=int,
        default=0,
        metavar="N",
        help="before acting, wait until N other peers are linked (at most --wait-timeout)",
    )
    acts.add_argument(
        "--wait-timeout",
        type=float,
        default=15.0,
        metavar="SECONDS",
        help="the longest --wait-peers waits (default: %(default)s)",
    )
    acts.add_argument("--script", type=Path, metavar="FILE", help="a file of actions, one a line")
    acts.add_argument(
        "--drag",
        action="append",
        default=[],
        metavar="TASK:PLACE[,PLACE...]",
        help="pick TASK up, hover over each place, put it back (repeatable)",
    )
    acts.add_argument(
        "--move",
        action="append",
        default=[],
        metavar="TASK:COLUMN[:INDEX]",
        help="pick TASK up, hover, drop it there, save it through the board's API and tell the "
        "others (repeatable)",
    )
    acts.add_argument(
        "--step",
        type=float,
        default=0.3,
        metavar="SECONDS",
        help="pause between drag steps (default: %(default)s)",
    )
    acts.add_argument(
        "--once", action="store_true", help="act, then leave (default: keep watching)"
    )
    out = parser.add_argument_group("output and network")
    out.add_argument("--json", action="store_true", help="one JSON object per line")
    out.add_argument("--verbose", "-v", action="store_true", help="debug logs on stderr")
    out.add_argument(
        "--loopback-only",
        action="store_true",
        help="offer only 127.0.0.1 ICE candidates (no network card, or inside a network "
        "namespace; browsers need --allow-loopback-in-peer-connection)",
    )
    return parser


def options_from_args(argv: list[str] | None) -> BotOptions:
    """Parse the command line; raises UsageError or ActionError with a one-line message."""
    args = build_parser().parse_args(argv)
    token = args.token or (None if args.user else os.environ.get("WATERCOOLER_TOKEN"))
    if args.user and args.token:
        raise UsageError("give --user/--password or --token, not both")
    if not args.user and not token:
        raise UsageError("log in with --user NAME --password PASSWORD, or --token TOKEN")
    password = (
        args.password if args.password is not None else os.environ.get("WATERCOOLER_PASSWORD")
    )
    if args.user and password is None:
        raise UsageError("--user needs --password (or WATERCOOLER_PASSWORD)")
    if not args.board.startswith(("http://", "https://")):
        raise UsageError(f"--board {args.board!r} must be an http:// or https:// URL")
    if args.sprint < 1:
        raise UsageError("--sprint must be a positive number")
    if args.step < 0 or args.wait_timeout < 0:
        raise UsageError("--step and --wait-timeout cannot be negative")
    actions: list[Action] = []
    if args.wait_peers:
        actions.append(parse_script(f"wait-peers {args.wait_peers}")[0])
    if args.script is not None:
        try:
            text = args.script.read_text()
        except OSError as exc:
            raise UsageError(f"cannot read --script {args.script}: {exc.strerror}") from None
        actions += parse_script(text, str(args.script))
    actions += [parse_drag_option(text) for text in args.drag]
    actions += [parse_move_option(text) for text in args.move]
    return BotOptions(
        board=args.board,
        sprint=args.sprint,
        user=args.user,
        password=password,
        token=None if args.user else token,
        actions=actions,
        once=args.once,
        json=args.json,
        loopback_only=args.loopback_only,
        step=args.step,
        wait_timeout=args.wait_timeout,
        verbose=args.verbose,
    )


class PrintableFormatter(logging.Formatter):
    """Log lines with what peers and the board chose (names, reasons) escaped, as the bot's own
    output is (:mod:`peer_client.printable`)."""

    def formatMessage(self, record: logging.LogRecord) -> str:
        record.message = printable(record.message)
        return super().formatMessage(record)


def fail(message: str) -> int:
    print(f"peer_client: error: {printable(message)}", file=sys.stderr, flush=True)
    return 2


def main(argv: list[str] | None = None) -> int:
    """Run the bot; returns the exit code."""
    try:
        options = options_from_args(argv)
    except (UsageError, ActionError) as exc:
        return fail(str(exc))
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(PrintableFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(
        level=logging.DEBUG if options.verbose else logging.WARNING, handlers=[handler]
    )
    from peer_client.bot import run_bot  # imports aiortc: only once the arguments are good

    try:
        return asyncio.run(run_bot(options))
    except PeerClientError as exc:
        return fail(str(exc))
    except KeyboardInterrupt:  # Ctrl-C before the signal handlers were installed
        return 0
