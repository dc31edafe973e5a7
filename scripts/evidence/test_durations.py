"""What `make test` takes from a fresh clone, and which tests take it.

Clones what is committed here into a folder only this user may enter (`mktemp -d`, as
.ci/run does), runs `make test` there -- the virtual environment made anew, the tests with a
JUnit XML report -- and writes the whole wall time, the CPU every process it started used,
each test file's summed time and the slowest tests to a JSON file beside this script
(docs/testing.md shows it from a generated block).  `--junit` reads a report a run
already made instead.

    python scripts/evidence/test_durations.py [--junit FILE.xml --wall-s S] [--out FILE.json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ElementTree
from collections import defaultdict
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
OUT = Path(__file__).with_suffix(".json")
SLOWEST = 12  # tests listed one by one


def _children_cpu_s() -> float:
    """User and system CPU of every finished child process of this one and their own
    waited-for children, so far."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_tests(folder: Path, junit: Path) -> tuple[float, float, int]:
    """`make test` in a fresh clone inside `folder`, timed from the clone on: its wall
    time, the CPU it used (every process it started), and its exit status."""
    start, cpu = time.perf_counter(), _children_cpu_s()
    subprocess.run(["git", "clone", "--quiet", str(REPO), str(folder / "p")], check=True)
    done = subprocess.run(["make", "test", f"TEST_ARGS=--junitxml={junit}"],
                          cwd=folder / "p", check=False)
    return time.perf_counter() - start, _children_cpu_s() - cpu, done.returncode


def durations(junit: Path) -> list[dict[str, Any]]:
    """Every test case: its file, its name, its time (setup, call and teardown) and
    whether it passed."""
    cases = []
    for case in ElementTree.parse(junit).getroot().iter("testcase"):
        # "tests.test_db" or "tests.test_db.TestSomething": the module is the first part
        # named test_*.
        parts = case.get("classname", "").split(".")
        ends = next((i for i, part in enumerate(parts) if part.startswith("test_")),
                    len(parts) - 1)
        module = ".".join(parts[:ends + 1])
        failed = any(child.tag in ("failure", "error") for child in case)
        skipped = any(child.tag == "skipped" for child in case)
        cases.append({"file": module.replace(".", "/") + ".py", "test": case.get("name", ""),
                      "seconds": float(case.get("time", 0.0)),
                      "outcome": "failed" if failed else "skipped" if skipped else "passed"})
    return cases


def summary(cases: list[dict[str, Any]], wall_s: float,
            cpu_s: float | None = None) -> dict[str, Any]:
    files: dict[str, float] = defaultdict(float)
    for case in cases:
        files[case["file"]] += case["seconds"]
    slowest = sorted(cases, key=lambda case: -case["seconds"])[:SLOWEST]
    return {"wall_s": round(wall_s, 1), "test_seconds": round(sum(files.values()), 1),
            "cpu_s": None if cpu_s is None else round(cpu_s, 1),
            "tests": len(cases),
            "outcomes": {kind: sum(case["outcome"] == kind for case in cases)
                         for kind in ("passed", "failed", "skipped")},
            "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python "
                       f"{platform.python_version()}",
            "made": time.strftime("%Y-%m-%d", time.gmtime()),
            "files": {name: round(seconds, 1) for name, seconds
                      in sorted(files.items(), key=lambda item: -item[1])},
            "slowest": [{"test": f"{case['file']}::{case['test']}",
                         "seconds": round(case["seconds"], 1)} for case in slowest]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--junit", type=Path, help="a JUnit XML a test run already wrote")
    parser.add_argument("--wall-s", type=float, help="that run's wall time, in seconds")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    if args.junit is not None:
        if args.wall_s is None or not args.junit.exists():
            parser.error("--junit needs an existing file and --wall-s")
        found = summary(durations(args.junit), args.wall_s)
    else:
        with tempfile.TemporaryDirectory() as folder:
            junit = Path(folder) / "junit.xml"
            wall, cpu, status = run_tests(Path(folder), junit)
            if not junit.exists():
                print(f"the tests wrote no report (exit {status})", file=sys.stderr)
                return 1
            found = summary(durations(junit), wall, cpu)
    args.out.write_text(json.dumps(found, indent=1) + "\n")
    print(f"wrote {args.out}: {found['wall_s']} s wall, {found['test_seconds']} s of tests")
    return 0


if __name__ == "__main__":
    sys.exit(main())
