"""Turn pytest-benchmark JSON from the suite into tables, charts and a citable REPORT.md.

    python scripts/report.py                      # the newest run under results/runs/
    python scripts/report.py RUN.json [--out DIR] # a given run (or several, merged)
    python scripts/report.py A.json B.json --compare [--band 0.05]   # B against A

Outputs go next to the (last) input file unless --out says otherwise: table.csv,
table.md, the charts as .png and .svg, REPORT.md; with --compare, compare.md and
compare.csv.  The work is bench.report's; this is its command line.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bench.report.compare import write_compare
from bench.report.load import ReportError, newest_run, run_file
from bench.report.page import write_report
from bench.stats import BAND


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="report.py", description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="*", type=Path,
                        help="pytest-benchmark JSON files (default: the newest run)")
    parser.add_argument("--out", type=Path, help="folder for the outputs "
                        "(default: the folder of the last input file)")
    parser.add_argument("--compare", action="store_true",
                        help="compare exactly two runs, A then B, scenario by scenario")
    parser.add_argument("--band", type=float, default=BAND,
                        help="--compare: the equivalence band, as a share "
                             f"(default {BAND}: B/A within 1 ± {BAND * 100:g} %% agrees)")
    args = parser.parse_args(argv)
    try:
        if args.out is not None and args.out.exists() and not args.out.is_dir():
            raise ReportError(f"--out {args.out}: exists and is not a folder")
        if not 0 < args.band < 1:
            raise ReportError(f"--band: must be between 0 and 1, got {args.band}")
        if args.compare:
            if len(args.files) != 2:
                raise ReportError("--compare takes exactly two files: A.json B.json")
            path = write_compare(run_file(args.files[0]), run_file(args.files[1]), args.out,
                                 args.band)
            print(path.read_text())
        else:
            path = write_report([run_file(f) for f in args.files] or [newest_run()], args.out)
        print(f"wrote {path}")
    except ReportError as exc:
        print(f"report: error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"report: error: {exc.filename or ''}: {exc.strerror}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
