"""The bot's command line: every way it refuses to start ends with one clear line and exit 2."""

from __future__ import annotations

from pathlib import Path

import pytest

from peer_client.actions import Drag, Move, Wait, WaitPeers, parse_script
from peer_client.cli import build_parser, options_from_args
from peer_client.errors import ActionError
from peer_client.places import Place
from tests.peer_client.board_stack import PASSWORD, BoardStack, run_bot
from tests.support.processes import free_port


def assert_refused(result: object, *expected: str) -> None:
    """Exit 2, nothing on stdout, exactly one line on stderr that says ``expected``."""
    code, stdout, stderr = result.returncode, result.stdout, result.stderr  # type: ignore[attr-defined]
    lines = stderr.strip().splitlines()
    assert code == 2, (code, stdout, stderr)
    assert len(lines) == 1, stderr
    assert lines[0].startswith("peer_client: error: ")
    for text in expected:
        assert text in lines[0], lines[0]
    assert stdout == ""


@pytest.mark.parametrize(
    ("args", "says"),
    [
        ([], "required"),
        (["--board", "http://x", "--sprint", "1"], "--user"),
        (["--board", "http://x", "--sprint", "one", "--token", "t"], "--sprint"),
        (["--board", "x", "--sprint", "1", "--token", "t"], "http://"),
        (["--board", "http://x", "--sprint", "1", "--user", "u"], "--password"),
        (["--board", "http://x", "--sprint", "1", "--token", "t", "--move", "5"], "TASK:COLUMN"),
        (["--board", "http://x", "--sprint", "1", "--token", "t", "--move", "5:doing"], "column"),
        (["--board", "http://x", "--sprint", "1", "--token", "t", "--bogus"], "--bogus"),
        (
            ["--board", "http://x", "--sprint", "1", "--token", "t", "--script", "/nonexistent"],
            "cannot read",
        ),
    ],
)
def test_bad_arguments(args: list[str], says: str) -> None:
    assert_refused(run_bot(*args), says)


def test_help_says_what_each_option_does_and_its_defaults() -> None:
    parser = build_parser()
    text = " ".join(parser.format_help().split())
    for action in parser._actions:
        assert action.help, f"{action.option_strings} has no help"
    assert "--wait-timeout SECONDS the longest --wait-peers waits (default: 15.0)" in text
    assert "--step SECONDS pause between drag steps (default: 0.3)" in text
    assert "in this order: --wait-peers, --script, each --drag, each --move" in text
    assert "--allow-loopback-in-peer-connection" in text, "names are not broken at hyphens"


def test_unreachable_board() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    result = run_bot("--board", url, "--sprint", "1", "--user", "demo", "--password", "demo")
    assert_refused(result, "cannot reach the board", url, ": Connection refused")
    assert "ssl" not in result.stderr, "plain http: no TLS words"


def test_wrong_password(shared_board: BoardStack) -> None:
    args = ["--board", shared_board.url, "--sprint", str(shared_board.sprint)]
    assert_refused(run_bot(*args, "--user", "demo", "--password", "nope"), "wrong password")


def test_bad_token(shared_board: BoardStack) -> None:
    args = ["--board", shared_board.url, "--sprint", str(shared_board.sprint)]
    assert_refused(run_bot(*args, "--token", "0" * 40), "refused the token")


def test_unknown_sprint(shared_board: BoardStack) -> None:
    args = ["--board", shared_board.url, "--sprint", "9999"]
    assert_refused(run_bot(*args, "--user", "demo", "--password", PASSWORD), "no sprint 9999")


def test_unknown_task(shared_board: BoardStack) -> None:
    command = shared_board.bot_command("--move", "9999:done", "--once")[3:]
    assert_refused(run_bot(*command), "unknown task 9999")


def test_script_errors_name_the_line(tmp_path: Path) -> None:
    script = tmp_path / "actions.txt"
    script.write_text("wait 0.1\nmove 5 sideways\n")
    result = run_bot(
        "--board", "http://x", "--sprint", "1", "--token", "t", "--script", str(script)
    )
    assert_refused(result, "line 2", "sideways")


def test_scripts_parse_to_actions() -> None:
    text = """
    # a comment
    wait 1.5
    wait-peers 2
    move 12 testing:1
    move 12 done via testing in-progress:2   # trailing comment
    drag 4 backlog done:3
    """
    assert parse_script(text) == [
        Wait(1.5),
        WaitPeers(2),
        Move(12, Place("testing", 1)),
        Move(12, Place("done", 0), (Place("testing", 0), Place("in_progress", 2))),
        Drag(4, (Place("backlog", 0), Place("done", 3))),
    ]
    with pytest.raises(ActionError, match="line 1"):
        parse_script("jump 4")


def test_command_line_actions_keep_their_order() -> None:
    options = options_from_args(
        [
            "--board",
            "http://b",
            "--sprint",
            "3",
            "--token",
            "t",
            "--wait-peers",
            "1",
            "--move",
            "7:done:2",
            "--drag",
            "7:testing,backlog:1",
        ]
    )
    assert options.actions == [
        WaitPeers(1),
        Drag(7, (Place("testing", 0), Place("backlog", 1))),
        Move(7, Place("done", 2)),
    ]
    assert options.token == "t"
