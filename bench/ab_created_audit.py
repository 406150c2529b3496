"""Old against new: create_many's audit entries from Python or from one SQL statement.

Run: ``python bench/ab_created_audit.py [--n 20000] [--rounds 6] [--batch 5000]``.

Alternates, in one process, ``create_many`` of the same leads with the SQLite
statement that builds a batch's creation entries from the stored rows
(``engine.store.created_audit``, on by default) and with it switched off (one
JSON text and one parameter set per record, the path before it), each on a
fresh database file. Prints the CPU µs per record of every round and the
medians, so a noisy, shared machine still gives a fair comparison.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from leads import LEAD_DEFINITION, generate_leads

from engine import Platform
from engine.store import created_audit


def one_run(leads: list, batch: int, sql: bool, returning: str) -> float:
    """CPU µs per record of create_many over ``leads`` on a fresh SQLite file."""
    created_audit.ENABLED = sql
    with tempfile.TemporaryDirectory() as folder:
        p = Platform(f"sqlite:///{Path(folder) / 'ab.db'}")
        p.meta.save("entity", "lead", LEAD_DEFINITION)
        p.users.add("bench", roles=["admin"])
        service = p.records("lead", user="bench")
        start = time.process_time()
        for i in range(0, len(leads), batch):
            service.create_many(leads[i : i + batch], returning=returning)
        spent = time.process_time() - start
        p.close()
    created_audit.ENABLED = True
    return spent / len(leads) * 1e6


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--batch", type=int, default=5_000)
    parser.add_argument("--ids", action="store_true", help="create_many(..., returning='ids')")
    args = parser.parse_args()
    leads = generate_leads(args.n, seed=1)
    returning = "ids" if args.ids else "records"
    old, new = [], []
    for r in range(args.rounds):
        order = (False, True) if r % 2 == 0 else (True, False)
        for sql in order:
            (new if sql else old).append(one_run(leads, args.batch, sql, returning))
        print(f"round {r + 1}: python entries {old[-1]:6.1f}  sql entries {new[-1]:6.1f} µs/record")
    print(
        f"median CPU µs per record, {args.n} leads, returning {returning}: "
        f"python entries {statistics.median(old):.1f} (min {min(old):.1f}), "
        f"sql entries {statistics.median(new):.1f} (min {min(new):.1f})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
