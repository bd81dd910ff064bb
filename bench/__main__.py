"""``python -m bench run`` measures the servers (``--workloads instructions``: instructions per
relayed message under callgrind); ``p2p`` times the peer-to-peer path; ``report`` writes
docs/benchmarks.md from what they wrote."""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path

from bench.run import RESULTS


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="run the workloads and write the results JSON")
    run.add_argument("--quick", action="store_true", help="tiny sizes, one run")
    run.add_argument("--results", type=Path, default=RESULTS)
    run.add_argument("--servers", nargs="+", help="subset: ours y-webrtc peerjs")
    run.add_argument("--baseline", metavar="REVISION", help="also run ours as it was then")
    run.add_argument("--workloads", nargs="+", help="idle relay storm fanout ... instructions")
    run.add_argument("--runs", type=int, help="runs of each workload (default 3)")
    p2p = commands.add_parser("p2p", help="the peer-to-peer path (inside tools/in_netns.sh)")
    p2p.add_argument("--quick", action="store_true", help="one short round")
    p2p.add_argument("--results", type=Path, default=RESULTS.with_name("p2p.json"))
    report = commands.add_parser("report", help="write docs/benchmarks.md and plots from results")
    report.add_argument("--results", type=Path, default=RESULTS)
    report.add_argument("--doc", type=Path, default=None, help="default docs/benchmarks.md")
    args = parser.parse_args(argv)
    if args.command == "run":
        from bench.run import Plan, run_all

        plan = Plan.quick() if args.quick else Plan()
        workloads = tuple(args.workloads or plan.workloads)
        servers = tuple(args.servers or plan.servers)
        plan = replace(plan, servers=servers, workloads=workloads, baseline=args.baseline)
        run_all(replace(plan, runs=args.runs or plan.runs), args.results)
    elif args.command == "p2p":
        from bench.p2p import run_p2p

        run_p2p(args.results, quick=args.quick)
    else:
        from bench.report import DOC, write_report

        print(write_report(args.results, args.doc or DOC))
    return 0


if __name__ == "__main__":
    sys.exit(main())
