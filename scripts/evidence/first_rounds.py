"""Are passes' first rounds cold?  Each pass's first counted round against its scenario's median.

Every pass rebuilds its runner (new pools, loops, sessions) and warms it with an uncounted
round before it counts.  Were that warm-up missing, the first counted round of every pass
after the first would carry the runner's cold start.  This reads pytest-benchmark JSON files
and prints, per scenario, its median over all passes and the slowest first counted round of
any pass against it; rows at or above LIMIT are marked.

    python scripts/evidence/first_rounds.py results/reference/benchmark.json [more.json ...]
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
from collections import defaultdict
from pathlib import Path

LIMIT = 1.5


def first_rounds(path: Path) -> list[tuple[str, int, float, float]]:
    """(scenario, passes, median of all rounds, slowest pass-first round / median)."""
    data = json.loads(path.read_text())
    passes: dict[str, list[list[float]]] = defaultdict(list)
    for bench in data["benchmarks"]:
        name = re.sub(r"-pass\d+\]$", "]", str(bench["name"]))
        passes[name].append(list(bench["stats"]["data"]))
    found = []
    for name, rounds in passes.items():
        everything = [value for one in rounds for value in one]
        median = statistics.median(everything)
        worst = max(one[0] for one in rounds if one) / median
        found.append((name, len(rounds), median, worst))
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="+", type=Path)
    args = parser.parse_args(argv)
    over = 0
    for path in args.files:
        try:
            rows = first_rounds(path)
        except (OSError, ValueError, KeyError) as exc:
            print(f"first_rounds: error: {path}: {exc}", file=sys.stderr)
            return 2
        print(f"\n{path}\n\n| scenario | passes | median (ms) | slowest first round / median |")
        print("|---|---|---|---|")
        for name, count, median, worst in rows:
            mark = " ✗" if worst >= LIMIT else ""
            over += worst >= LIMIT
            print(f"| {name} | {count} | {median * 1000:.3g} | {worst:.2f}{mark} |")
    print(f"\n{over} scenario(s) with a pass's first counted round at or above {LIMIT}x the "
          "median.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
