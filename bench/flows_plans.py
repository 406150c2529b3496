"""The approval step by its plan against the general runtime, alternately in one process.

Runs the Tessera side of ``bench_flows.py`` (same flow, deals, decisions and
inbox rounds) with ``Runtime.use_plans`` off and on, ``--rounds`` pairs, and
prints the CPU milliseconds per completion of each run and their medians:
a ratio from one process on a shared machine, steadier than two runs apart.

    python bench/flows_plans.py [--n 600] [--rounds 5]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_flows as b

from engine.flows import runtime


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=600, help="approval instances per run")
    parser.add_argument("--rounds", type=int, default=5, help="pairs of runs")
    args = parser.parse_args()
    original = runtime.Runtime.__init__
    cpu: dict[bool, list[float]] = {False: [], True: []}
    try:
        for _ in range(args.rounds):
            for plans in (False, True):

                def init(self, *a, _plans=plans, **k) -> None:
                    original(self, *a, **k)
                    self.use_plans = _plans

                runtime.Runtime.__init__ = init
                res = b.run_tessera(args.n, tempfile.mkdtemp(), False)
                cpu[plans].append(res.complete_cpu / res.completions * 1000)
    finally:
        runtime.Runtime.__init__ = original
    for plans in (False, True):
        name = "plans  " if plans else "general"
        runs = " ".join(f"{x:.3f}" for x in cpu[plans])
        print(f"{name} CPU ms per completion {runs}  median {statistics.median(cpu[plans]):.3f}")
    print(f"plans / general: {statistics.median(cpu[True]) / statistics.median(cpu[False]):.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
