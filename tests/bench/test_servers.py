"""bench/servers.py: our server at a baseline revision, exported from git to run beside ours."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bench.servers import CURRENT_FLAGS, ROOT, BaselineError, command_for, export_baseline


def test_the_baseline_runs_signaling_as_exported_from_its_revision(tmp_path: Path) -> None:
    head = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    (tmp_path / "stale").mkdir()  # what an earlier export left goes
    assert export_baseline("HEAD", tmp_path) == head[:7]
    assert not (tmp_path / "stale").exists()
    where = subprocess.run(
        [sys.executable, "-c", "import signaling; print(signaling.__file__)"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert Path(where.strip()).is_relative_to(tmp_path)  # not this checkout's signaling/


def test_ours_before_starts_from_the_exported_tree_with_our_flags() -> None:
    ours, _, here = command_for("ours", 8000)
    before, env, there = command_for("ours-before", 8000)
    # The same command, less the options only this checkout has (a baseline may not know them).
    assert ours == [*before, *CURRENT_FLAGS]
    assert env["WATERCOOLER_SECRET"]
    assert (here, there.name) == (ROOT, "ours-before")


def test_a_revision_that_is_not_here_is_refused_by_name(tmp_path: Path) -> None:
    with pytest.raises(BaselineError, match="revision 'no-such-rev' is not in this repository"):
        export_baseline("no-such-rev", tmp_path)
