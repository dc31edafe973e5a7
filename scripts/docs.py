"""The figures of README.md and docs/, made anew from the committed reference runs.

    python scripts/docs.py            # rewrite every generated block in place
    python scripts/docs.py --check    # exit 1 naming each block that differs from its data

The blocks and what makes them are bench.report.docs'; this is its command line.
"""

from __future__ import annotations

import argparse
import sys

from bench.report.docs import PAGES, REPO, render, stale


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args(argv)
    failed = False
    for path in PAGES:
        if args.check:
            for name in stale(path):
                print(f"{path.relative_to(REPO)}: block {name} differs from its data")
                failed = True
        else:
            text = path.read_text()
            fresh = render(text)
            if fresh != text:
                path.write_text(fresh)
                print(f"wrote {path.relative_to(REPO)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
