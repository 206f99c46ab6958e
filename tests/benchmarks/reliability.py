"""Reliability: one crawl of the hostile fault site (tests/faultsite.py), judged table by table.

Prints the faults injected and survived, the fetch rows that carry a reason, the rows
lost (URLs the site answered that have no fetch row), duplicate rows, and the hits on
the forbidden servers (another port of 127.0.0.1, and 127.0.0.2): the last three must
be 0. Exit code 0 when every goal is met.

    python tests/benchmarks/reliability.py
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from faultsite import (  # noqa: E402
    PROFILE,
    SECRET,
    FaultSite,
    Tripwire,
    check_crawl,
    crawl_command,
)


def main() -> int:
    with tempfile.TemporaryDirectory() as folder, Tripwire() as tripwire:
        profile = Path(folder) / "faultsite.toml"
        profile.write_text(PROFILE)
        db = str(Path(folder) / "faults.duckdb")
        env = {**os.environ, "PYTHONPATH": str(ROOT), "RELNEWS_TEST_SECRET": SECRET}
        with FaultSite(tripwire) as site:
            print(f"reliability: crawling the fault site at {site.url}", flush=True)
            started = time.monotonic()
            result = subprocess.run(
                [sys.executable, "-m", "relnews", *crawl_command(site, db, str(profile))],
                capture_output=True, text=True, env=env, cwd=ROOT,
            )  # fmt: skip
            took = time.monotonic() - started
        check = check_crawl(db, site)
    print(f"crawl exit code       {result.returncode} ({took:.1f} s)")
    print(f"  {result.stdout.strip()}")
    print(f"faults injected       {check.faults_injected}")
    print(f"faults survived       {check.faults_survived}")
    for fault in check.failed_faults:
        print(f"  not survived: {fault}")
    print(f"fetch rows w/ reason  {check.rows_with_reason}")
    print(f"rows lost             {len(check.rows_lost)}  (goal 0) {check.rows_lost or ''}")
    print(f"duplicate rows        {check.duplicate_rows}  (goal 0)")
    print(f"forbidden hits        {check.forbidden_hits}  (goal 0)")
    print(f"forbidden fetched     {len(check.forbidden_fetched)}  (goal 0)")
    print(f"local data leaked     {len(check.leaked)}  (goal 0)")
    tracebacks = result.stderr.count("Traceback")
    print(f"tracebacks printed    {tracebacks}  (goal 0)")
    ok = check.ok and tracebacks == 0
    print(f"reliability: {'PASS' if ok else 'FAIL'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
