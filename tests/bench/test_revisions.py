"""``python -m bench revisions``: ours at an earlier revision beside ours now, at tiny scale.

The earlier revision here is this checkout's HEAD exported with ``git archive`` (it exists even in
a shallow clone); what is checked is that the server really runs from the exported tree, that
every revision gets every workload, and that the report compares them.
"""

from __future__ import annotations

import subprocess
from dataclasses import replace
from pathlib import Path

import pytest

from bench.report_revisions import revisions_section
from bench.revisions import Revision, RevisionError, export_signaling, ours_from, run_revisions
from bench.run import Plan
from bench.servers import ROOT, start_server


def _head() -> str:
    return subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.strip()


def test_a_revision_is_exported_once_with_its_signaling_package(tmp_path: Path) -> None:
    tree = export_signaling(_head()[:7], tmp_path)
    assert (tree / "signaling" / "__main__.py").is_file()
    assert (tree / ".exported").read_text().strip() == _head()
    assert not (tree / "board").exists()  # only signaling/ is taken from the revision
    (tree / "signaling" / "touched").write_text("")
    assert export_signaling(_head(), tmp_path) == tree  # reused, not exported again
    assert (tree / "signaling" / "touched").exists()


def test_an_unknown_revision_is_named(tmp_path: Path) -> None:
    with pytest.raises(RevisionError, match="'0000000' is not in this repository"):
        export_signaling("0000000", tmp_path)


def test_ours_runs_from_the_exported_tree_and_only_inside_the_block(tmp_path: Path) -> None:
    tree = export_signaling(_head(), tmp_path)
    with ours_from(tree), start_server("ours", pin=False) as server:
        assert Path(f"/proc/{server.pid}/cwd").resolve() == tree.resolve()
    with start_server("ours", pin=False) as server:
        assert Path(f"/proc/{server.pid}/cwd").resolve() == ROOT.resolve()


def test_every_revision_runs_every_workload_and_the_report_compares_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("bench.report.PLOTS", tmp_path / "plots")  # not over docs/benchmarks
    plan = replace(
        Plan.quick(),
        idle_levels=(20,),
        relay_rooms=2,
        relay_rates=(100,),
        storm_sizes=(2,),
        storm_peers=20,
        fan_out_events=5,
    )
    revisions = (
        Revision("then", _head()[:9], "an exported copy"),
        Revision("now", None, "this checkout"),
    )
    results = run_revisions(plan, revisions, tmp_path / "revisions.json", tmp_path / "exports")
    assert [r["label"] for r in results["revisions"]] == ["then", "now"]
    assert results["revisions"][0]["commit"] == _head()[:7]
    for record in results["revisions"]:
        work = record["workloads"]
        assert set(work) == {"idle", "relay", "storm2", "fanout"}
        assert all("error" not in run for runs in work.values() for run in runs["ours"])
        assert work["idle"]["ours"][0]["held_open"] == 20
        (step,) = work["relay"]["ours"][0]["steps"]
        assert step["received"] == step["sent"] > 0
    section = "\n".join(revisions_section(results))
    assert (tmp_path / "plots" / "before-after-relay-cpu.png").stat().st_size > 0
    assert "| figure | then (`" in section
    assert "relay: server CPU per message at 100 msg/s" in section
    assert "join storm, rooms of 2: joins/s" in section
    assert "Idle connections still open after the hold at 20 (per run): then: 20; now: 20." in (
        section
    )
