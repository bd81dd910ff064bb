"""Our server before and after the optimisations: earlier revisions against this one, one run.

``python -m bench revisions`` (``make bench-revisions``) measures ``ours`` at each revision in
:data:`REVISIONS` with today's load generator, on this machine, in one sitting: runs interleaved
(run 1 of every revision, then run 2, ...) so a change in the machine's load hits all alike. An
earlier revision's ``signaling/`` is exported with ``git archive`` into ``bench/.servers`` and the
server runs from there; everything else (generator, plan, venv) is this checkout's. The results
feed the "Before and after" section of ``docs/benchmarks.md``.
"""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import tarfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any, Final

from bench import procstat
from bench.run import (
    RESULTS,
    Plan,
    fd_limit_levels,
    machine_facts,
    run_one,
    save,
    workloads,
)
from bench.servers import OURS_TREE_ENV, ROOT, SERVERS_DIR

REVISIONS_RESULTS: Final = RESULTS.with_name("revisions.json")
EXPORTS: Final = SERVERS_DIR / "revisions"
# What is compared: the same four workloads as the main run, our server only.
WORKLOADS: Final = ("idle", "relay", "storm", "fanout")


@dataclass(frozen=True)
class Revision:
    """One state of our server: ``commit`` None means this checkout as it is."""

    label: str
    commit: str | None
    description: str


REVISIONS: Final = (
    Revision(
        "before",
        "2fcca6f",
        "before any optimisation: aiohttp's WebSocketResponse with a task per socket, the "
        "standard library's json and logging, asyncio's event loop",
    ),
    Revision(
        "first round",
        "08d18ae",
        "after the first round (orjson, uvloop, direct log writes, lock-free counters, slotted "
        "connections, a running peer count)",
    ),
    Revision("now", None, "this checkout"),
)


class RevisionError(RuntimeError):
    """A revision that cannot be exported (unknown here, or without ``signaling/``)."""


def _git(*args: str) -> bytes:
    done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, timeout=120)
    if done.returncode != 0:
        message = done.stderr.decode(errors="replace").strip()
        raise RevisionError(f"git {' '.join(args)} failed: {message}")
    return done.stdout


def resolve(commit: str) -> str:
    """The full hash of ``commit``, or :class:`RevisionError` naming it (e.g. a shallow clone)."""
    try:
        return _git("rev-parse", "--verify", "--quiet", f"{commit}^{{commit}}").decode().strip()
    except RevisionError:
        raise RevisionError(
            f"revision {commit!r} is not in this repository (a shallow clone? "
            "`git fetch --unshallow` brings the history)"
        ) from None


def export_signaling(commit: str, exports: Path = EXPORTS) -> Path:
    """A directory holding ``signaling/`` as it was at ``commit`` (made once, then reused)."""
    full = resolve(commit)
    tree = exports / full[:12]
    marker = tree / ".exported"
    if marker.exists():
        return tree
    archive = _git("archive", "--format=tar", full, "signaling")
    tree.mkdir(parents=True, exist_ok=True)
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(tree, filter="data")
    if not (tree / "signaling" / "__main__.py").exists():
        raise RevisionError(f"revision {commit!r} has no signaling/__main__.py to run")
    marker.write_text(full + "\n")
    return tree


@contextmanager
def ours_from(tree: Path | None) -> Iterator[None]:
    """Within the block, servers named ``ours`` run from ``tree`` (None: this checkout)."""
    previous = os.environ.get(OURS_TREE_ENV)
    if tree is None:
        os.environ.pop(OURS_TREE_ENV, None)
    else:
        os.environ[OURS_TREE_ENV] = str(tree)
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop(OURS_TREE_ENV, None)
        else:
            os.environ[OURS_TREE_ENV] = previous


def _checkout_state() -> dict[str, Any]:
    return {
        "commit": _git("rev-parse", "--short", "HEAD").decode().strip(),
        "signaling_changes_uncommitted": bool(
            _git("status", "--porcelain", "--", "signaling").strip()
        ),
    }


def run_revisions(
    plan: Plan,
    revisions: tuple[Revision, ...] = REVISIONS,
    path: Path = REVISIONS_RESULTS,
    exports: Path = EXPORTS,
) -> dict[str, Any]:
    """Measure ``ours`` at every revision, runs interleaved; write and return the results.

    The results hold, per revision, ``workloads`` shaped as in the main results JSON (label →
    ``{"ours": [run, ...]}``), so the report reads both alike.
    """
    # SIGTERM unwinds like Ctrl-C, so every started server is stopped on the way out.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    plan = replace(plan, servers=("ours",), workloads=WORKLOADS)
    trees = {
        r.label: None if r.commit is None else export_signaling(r.commit, exports)
        for r in revisions
    }
    levels, fd_limit = fd_limit_levels(plan.idle_levels)
    results: dict[str, Any] = {
        "plan": asdict(plan) | {"idle_levels_used": list(levels)},
        "machine": machine_facts(fd_limit),
        "started": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "load_average_start": [round(x, 2) for x in procstat.load_average()],
        "nice": os.getpriority(os.PRIO_PROCESS, 0),
        "revisions": [
            {
                **asdict(r),
                **({"commit": resolve(r.commit)[:7]} if r.commit else _checkout_state()),
                "workloads": {},
            }
            for r in revisions
        ],
    }
    builders = workloads(plan, levels)
    for run in range(plan.runs):
        for revision, record in zip(revisions, results["revisions"], strict=True):
            with ours_from(trees[revision.label]):
                for name in plan.workloads:
                    for label, workload in builders[name]("ours"):
                        print(
                            f"[bench] run {run + 1}/{plan.runs} {label} ours@{record['commit']}",
                            flush=True,
                        )
                        try:
                            result = run_one("ours", workload)
                        except Exception as exc:  # one failed run must not lose the others
                            result = {"error": f"{type(exc).__name__}: {exc}"[:300]}
                            print(f"[bench]   failed: {result['error']}", file=sys.stderr)
                        record["workloads"].setdefault(label, {}).setdefault("ours", []).append(
                            result
                        )
                        save(results, path)
    results["load_average_end"] = [round(x, 2) for x in procstat.load_average()]
    results["finished"] = time.strftime("%Y-%m-%d %H:%M:%S %Z")
    save(results, path)
    return results
