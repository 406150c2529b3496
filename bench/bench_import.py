"""How fast is an import? Rows per second through cleansing, duplicate detection and the rules.

Run: ``python bench/bench_import.py [--n 100000] [--batch 500] [--crm] [--db URL]``.

With ``--crm`` it installs the CRM bundle (its lead entity and lead rules:
normalisation, scoring, grading, routing with follow-up writes) into a fresh
database; without it, only the CRM's lead entity definition (validation, no
rules). It then writes a CSV of ``n``
generated leads with Chinese headers, and imports it with
:func:`engine.store.importer.import_file` under the ``skip`` policy, the way
``tessera import lead leads.csv`` does. The generated rows carry the mess a
real list has: padded cells, upper-case e-mail domains, phones with spaces,
dashes and parentheses, company names with and without 有限公司 / Co., Ltd.;
about 3% repeat an earlier row's e-mail (in another case), 2% an earlier
company (another suffix) with the same person, and 1% are invalid (a bad
e-mail or a negative head count). The script checks the counts it expects
(created + skipped + rejected = n, every planted duplicate found, every
planted bad row rejected) so a fast wrong answer does not pass.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import platform as host
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from engine import Platform
from engine.store.importer import import_file

HEADER = ["姓名", "公司", "电话", "邮箱", "区域", "行业", "员工人数", "来源渠道"]
REGIONS = ["华东", "华北", "华南", "east_china", "southwest"]
INDUSTRIES = ["制造业", "信息技术", "finance", "retail", "医疗"]
SOURCES = ["官网表单", "展会", "referral", "campaign"]
SUFFIXES = ["有限公司", "公司", "股份有限公司", "", " Co., Ltd.", " Ltd", " Inc."]
SURNAMES = "赵钱孙李周吴郑王冯陈褚卫蒋沈韩杨"


def generate(path: Path, n: int, seed: int = 7) -> dict[str, int]:
    rnd = random.Random(seed)
    planted = {"email_dups": 0, "company_dups": 0, "invalid": 0}
    made: list[tuple[str, str, str]] = []
    with path.open("w", encoding="utf-8-sig", newline="") as f:
        out = csv.writer(f)
        out.writerow(HEADER)
        for i in range(n):
            roll = rnd.random()
            person = rnd.choice(SURNAMES) + rnd.choice(SURNAMES) + str(i)
            base = f"星辰{i}号科技"
            email = f"user{i}@Example{i % 97}.COM"
            phone = f"+86 (21) {5000_0000 + i:08d}"
            size = str(rnd.randint(1, 5000))
            if made and roll < 0.03:
                _, _, prev_email = rnd.choice(made)
                email = prev_email.upper()
                phone = ""
                planted["email_dups"] += 1
            elif made and roll < 0.05:
                prev_person, prev_base, _ = rnd.choice(made)
                person, base = prev_person, prev_base
                email, phone = "", ""
                planted["company_dups"] += 1
            elif roll < 0.06:
                if rnd.random() < 0.5:
                    email = f"broken{i}.example.com"
                else:
                    size = "-5"
                planted["invalid"] += 1
            else:
                made.append((person, base, email))
            company = f"  {base}{rnd.choice(SUFFIXES)} "
            out.writerow(
                [person, company, phone, email, rnd.choice(REGIONS), rnd.choice(INDUSTRIES),
                 size, rnd.choice(SOURCES)]
            )  # fmt: skip
    return planted


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--db", help="a database URL (default: a fresh SQLite file)")
    parser.add_argument("--crm", action="store_true", help="install the CRM with its lead rules")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        p = Platform(args.db or f"sqlite:///{folder / 'bench.db'}")
        crm = Path(__file__).resolve().parent.parent / "apps" / "crm"
        if args.crm:
            p.install(crm)
        else:
            import yaml

            lead = yaml.safe_load((crm / "entities" / "lead.yaml").read_text(encoding="utf-8"))
            props = lead["schema"]["properties"]
            for key, prop in list(props.items()):
                if prop.get("x-ref") not in (None, "lead") or prop.get("x-type") == "user":
                    del props[key]
            lead.pop("layout", None)
            lead.pop("actions", None)  # record actions (lead conversion) name other entities
            p.meta.save("entity", "lead", lead)
        path = folder / "leads.csv"
        t0 = time.perf_counter()
        planted = generate(path, args.n)
        t1, c1 = time.perf_counter(), time.process_time()
        result = import_file(p, "lead", path, None, batch_size=args.batch)
        t2, c2 = time.perf_counter(), time.process_time()
        stored = p.records("lead").count()
        p.close()
    seconds = t2 - t1
    dups = planted["email_dups"] + planted["company_dups"]
    print(
        f"import bench, {dt.date.today().isoformat()}, Python {sys.version.split()[0]}, "
        f"{host.machine()}, {args.n} rows, batch {args.batch}, {p.db.dialect}, "
        f"{'CRM bundle with lead rules' if args.crm else 'lead entity only'}"
    )
    print(f"generated CSV in {t1 - t0:.1f} s ({path.name})")
    cpu = c2 - c1
    print(
        f"{'rows':>8} {'created':>8} {'skipped':>8} {'rejected':>8} {'seconds':>8} {'rows/s':>8}"
        f" {'CPU s':>8} {'rows/CPU s':>10}"
    )
    print(
        f"{result.rows:>8} {result.created:>8} {result.skipped:>8} {result.rejected:>8} "
        f"{seconds:>8.1f} {result.rows / seconds:>8,.0f} {cpu:>8.1f} {result.rows / cpu:>10,.0f}"
    )
    print(f"planted: {dups} duplicates ({planted}), stored {stored}")
    ok = (
        result.rows == args.n
        and result.created + result.skipped + result.rejected == args.n
        and result.skipped >= dups
        and result.rejected >= planted["invalid"]
        and stored == result.created
    )
    print("checks:", "ok" if ok else "FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
