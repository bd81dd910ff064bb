"""``python -m bench run`` measures the servers; ``p2p`` times the peer-to-peer path;
``instructions`` counts instructions per relayed message under callgrind; ``report`` writes
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
    instructions = commands.add_parser("instructions", help="each server under callgrind")
    for command in (run, instructions):
        command.add_argument("--quick", action="store_true", help="tiny sizes, one run")
        command.add_argument("--results", type=Path, default=None)
        command.add_argument("--servers", nargs="+", help="subset: ours y-webrtc peerjs")
        command.add_argument("--baseline", metavar="REVISION", help="also run ours as it was then")
    run.add_argument("--workloads", nargs="+", help="subset: idle relay storm fanout cluster ...")
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
        run_all(plan, args.results or RESULTS)
    elif args.command == "instructions":
        from bench.instructions import InstructionPlan, run_instructions

        counted = InstructionPlan.quick() if args.quick else InstructionPlan()
        servers = tuple(args.servers or counted.servers)
        counted = replace(counted, servers=servers, baseline=args.baseline)
        run_instructions(counted, args.results or RESULTS.with_name("instructions.json"))
    elif args.command == "p2p":
        from bench.p2p import run_p2p

        run_p2p(args.results, quick=args.quick)
    else:
        from bench.report import DOC, write_report

        print(write_report(args.results, args.doc or DOC))
    return 0


if __name__ == "__main__":
    sys.exit(main())
