"""The figures of README.md and docs/: generated from the committed reference runs.

    python scripts/docs.py            # rewrite every generated block in place
    python scripts/docs.py --check    # exit 1 naming each block that differs from its data

A generated block stands between `<!-- generated: NAME -->` and `<!-- end: NAME -->`; its
text is what BLOCKS[NAME] makes from results/reference (and bench/run_to_run.json), so a
figure typed by hand into one is undone by the next run and caught by `--check` (and by
`pytest tests -k docs`).  Outside the blocks the pages carry no measured figure; the
test that checks so also checks every design constant they name against the code.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from bench import run_to_run
from bench.claims import c16_database, verdicts
from bench.options import option_table
from bench.report.claims import number
from bench.report.decision import decision_markdown
from bench.report.interpreters import interpreters_markdown
from bench.report.load import Run, load_run
from bench.report.markdown import markdown_table
from bench.report.provenance import footnote
from bench.report.rerun import check_markdown, saturation_check_markdown
from bench.report.service import service_markdown
from bench.report.table import scenario_table

REPO = Path(__file__).resolve().parents[2]
REFERENCE = REPO / "results" / "reference"
PAGES = (REPO / "README.md", *sorted((REPO / "docs").glob("*.md")))
BLOCK = re.compile(r"(<!-- generated: (?P<name>[\w-]+) -->\n)(?P<body>.*?)"
                   r"(<!-- end: (?P=name) -->)", re.DOTALL)


@functools.cache
def _runs(folder: str) -> tuple[Run, ...]:
    """The reference runs of one folder: its benchmark.json, or every interpreter's file."""
    path = REFERENCE / folder
    files = [path / "benchmark.json"] if (path / "benchmark.json").exists() else sorted(
        file for file in path.glob("*.json"))
    return tuple(load_run(file) for file in files)


@functools.cache
def _table(folder: str) -> pd.DataFrame:
    return scenario_table(list(_runs(folder)))


def _link(folder: str, name: str = "REPORT.md") -> str:
    return f"[results/reference/{folder}{'/' if folder else ''}{name}]" \
           f"(../results/reference/{folder}{'/' if folder else ''}{name})"


def _commit(folder: str) -> str:
    ids = sorted({str(run.commit.get("id", ""))[:7] for run in _runs(folder)} - {""})
    return ", ".join(ids) or "unrecorded"


DECISION_NOTE = ("Per workload, each model at the concurrency where its median round was "
                 "lowest: median and speedup over sequential with their 95 % intervals "
                 "(which carry what a rerun moves), client CPU in cores, the memory its "
                 "runner added, the caller's p99 wait.  Marks: ⚠ noisy, ⌛ short of its "
                 "precision, ⚡ disturbed, ✗ failed or meter error.")


def _decision(folder: str) -> str:
    """The report's decision block, less its heading and its report-page preamble."""
    lines = decision_markdown(_table(folder))
    return "\n".join([DECISION_NOTE, *lines[3:]]).strip() + "\n"


# README's picture: the default reference's main chart, drawn from the run the block quotes
# (tests/test_docs.py reads the run out of the chart's metadata).
DECISION_CHART = "speedup_efficiency.png"


def decision_block() -> str:
    """README's decision: the default reference's main chart and "Which model?" block."""
    return (f"From `make bench` at commit {_commit('')} on the machine in "
            f"[results/reference/REPORT.md](results/reference/REPORT.md):\n\n"
            f"![Speedup over sequential per workload and concurrency, with 95 % intervals "
            f"(top), and efficiency against the ideal time (bottom)]"
            f"(results/reference/{DECISION_CHART})\n\n" + _decision(""))


def chart_source(folder: str) -> str:
    """What a chart of a reference folder should say it was drawn from."""
    return footnote(list(_runs(folder)))


def options_block() -> str:
    """Every option the suite takes, with its help and default, as `--help` lists them."""
    lines = ["| option | what it sets |", "|---|---|"]
    for option in option_table():
        flag = option.flag if option.action == "store_true" else f"{option.flag} {option.metavar}"
        # argparse's %% shown as %; a | would end the cell
        cells = [f"`{flag}`", option.help.replace("%%", "%")]
        lines.append("| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |")
    return "\n".join(lines) + "\n"


def reference_table_block() -> str:
    return (f"`make bench` at commit {_commit('')}; every row of {_link('')}:\n\n"
            + markdown_table(_table("")) + "\n")


def _claims(folder: str, matrix: bool = False, only: str = "",
            service: bool = False) -> list[str]:
    found = [v for v in verdicts(_table(folder), matrix=matrix, service=service)
             if not only or v.claim.key == only]
    return [f"| {number(v)} | {v.claim.statement} | **{v.verdict}** | {v.evidence} | "
            f"{_link(folder, 'claims.md')} at {_commit(folder)} |"
            for v in found if v.verdict != "not measured"]


def claims_block() -> str:
    """Every claim's verdict, from the claims run, the database claim's runs (batches and
    served) and the interpreters run."""
    lines = ["| # | claim | verdict | evidence | from |", "|---|---|---|---|---|",
             *_claims("claims"), *_claims("claims-db", only=c16_database.KEY),
             *_claims("service-db-apps", only=c16_database.KEY, service=True),
             *_claims("interpreters", matrix=True)]
    return "\n".join(lines) + "\n"


def database_block() -> str:
    """The db workload's decision, from its reference run."""
    return f"From {_link('db')} at commit {_commit('db')}:\n\n" + _decision("db")


def database_claim_block() -> str:
    """Claim 16's verdict with its evidence and what else its check found."""
    found = [v for v in verdicts(_table("claims-db")) if v.claim.key == c16_database.KEY]
    if not found or found[0].verdict == "not measured":
        return "No run of claim 16 is committed.\n"
    verdict = found[0]
    return (f"From {_link('claims-db', 'claims.md')} at commit {_commit('claims-db')}: "
            f"**{verdict.verdict}**.\n\n- {verdict.evidence}\n- {verdict.details}\n")


def _saturation(folder: str) -> str:
    """A service report's saturation tables and sentences, less its heading and its
    every-rate table."""
    lines = service_markdown(_table(folder))
    body = lines[lines.index("") + 1:]
    end = next(index for index, line in enumerate(body)
               if line.startswith("| model | in flight at most | offered"))
    return "\n".join(body[:end]).strip()


def database_served_block() -> str:
    """Claim 16's served side: its verdict from the real deployments' service run and the
    saturation table it reads."""
    found = [v for v in verdicts(_table("service-db-apps"), service=True)
             if v.claim.key == c16_database.KEY]
    if not found or found[0].verdict == "not measured":
        return "No service run of claim 16 is committed.\n"
    verdict = found[0]
    return (f"From {_link('service-db-apps')} at commit {_commit('service-db-apps')}: "
            f"**{verdict.verdict}**.\n\n- {verdict.evidence}\n- {verdict.details}\n\n"
            f"{_saturation('service-db-apps')}\n")


def interpreters_block() -> str:
    text = interpreters_markdown(list(_runs("interpreters")), _table("interpreters"))
    text = text.replace("## Interpreters\n\n![interpreters](interpreters.png)\n\n", "")
    return f"From {_link('interpreters')} at commit {_commit('interpreters')}:\n\n{text}"


def libraries_block() -> str:
    return (f"From {_link('libraries')} at commit {_commit('libraries')}:\n\n"
            + _decision("libraries"))


def dask_block() -> str:
    return f"From {_link('dask')} at commit {_commit('dask')}:\n\n" + _decision("dask")


def spread_block() -> str:
    """The run-to-run terms the report adds, from bench/run_to_run.json."""
    spread = run_to_run.load()
    pooled = f" in {spread.sessions} sessions (each SD pooled within a session)" \
        if spread.sessions > 1 else ""
    lines = [f"Measured from {spread.runs} back-to-back `make bench` runs{pooled} (commits "
             f"{', '.join(spread.commits)}) on {spread.machine}:", "",
             "| workload | a median's rerun SD | a speedup's rerun SD |", "|---|---|---|"]
    for workload in spread.median:
        lines.append(f"| {workload} | {spread.median[workload]:.1%} | "
                     f"{spread.speedup.get(workload, float('nan')):.1%} |")
    if spread.saturation:
        lines += ["", f"And from {spread.service_runs} back-to-back `make service` runs "
                  "(pooled the same way), what a rerun moves a saturation:", "",
                  "| workload | a saturation's rerun SD | the ratio of two models' |",
                  "|---|---|---|"]
        lines += [f"| {workload} | {sd:.1%} | "
                  + (f"{spread.saturation_ratio[workload]:.1%}"
                     if workload in spread.saturation_ratio else
                     f"- (not measured: {max(spread.saturation_ratio.values()):.1%}, the "
                     "largest, is used)" if spread.saturation_ratio else "-") + " |"
                  for workload, sd in spread.saturation.items()]
    return "\n".join(lines) + "\n"


def calibration_block() -> str:
    """How often the published intervals held on another run: on the runs the term was
    measured from (each run's term from the others only), and on later runs it never saw."""
    folder = REFERENCE / "run-to-run"
    parts = []
    for name, leave_one_out, what in (
            ("runs", True, "The runs the term was measured from, each judged with a term "
                           "measured from the others only:"),
            ("check", False, "Later runs the term never saw, with the committed term:")):
        paths = sorted((folder / name).glob("*.json"))
        if len(paths) >= 3:
            body = check_markdown(paths, leave_one_out).split("\n", 2)[2]
            parts.append(f"{what}\n\n{body.strip()}\n")
    return "\n".join(parts) or "No back-to-back runs are committed.\n"


SERVICE_CHECK = REPO / "scripts" / "evidence" / "service_overlap" / "check"


def service_rerun_block() -> str:
    """Whether later back-to-back service runs' brackets, widened by the committed term,
    overlap (bench.report.rerun.saturation_check_markdown)."""
    paths = sorted(SERVICE_CHECK.glob("*.json"))
    if len(paths) < 2:
        return "No later back-to-back service runs are committed.\n"
    return saturation_check_markdown(paths).split("\n", 2)[2]


def deployments_block() -> str:
    """"Which deployment holds the load?": each workload's saturation table and sentence
    from the committed `make service` run of the real deployments."""
    text = _saturation("service")
    return (f"From `make service` at commit {_commit('service')}, in "
            f"{_link('service')} (every rate's row, the CPU split and the chart there):"
            f"\n\n{text}\n")


def deployments_freethreaded_block() -> str:
    """One gunicorn gthread worker on a GIL build and on a free-threaded build."""
    return (f"From {_link('service-freethreaded')} at commit "
            f"{_commit('service-freethreaded')}:\n\n{_saturation('service-freethreaded')}\n")


TEST_DURATIONS = REPO / "scripts" / "evidence" / "test_durations.json"


def _cpu_sentence(found: dict[str, Any]) -> str:
    """How busy the cores were: a run that keeps them busy is bound by the work it does,
    and more workers would not shorten it."""
    cpu, cores = found.get("cpu_s"), int(found["machine"].split(", ")[1].split()[0])
    if not cpu:
        return ""
    return (f"  Every process it started used {cpu:,.0f} s of CPU (user and system), "
            f"{cpu / (found['wall_s'] * cores):.0%} of the {cores} cores over the wall time.")


def test_durations_block() -> str:
    """What a fresh clone's `make test` took, and its slowest files and tests
    (scripts/evidence/test_durations.py)."""
    if not TEST_DURATIONS.exists():
        return "No timed `make test` is committed.\n"
    found = json.loads(TEST_DURATIONS.read_text())
    minutes, seconds = divmod(round(found["wall_s"]), 60)
    counts = ", ".join(f"{count} {kind}" for kind, count in found["outcomes"].items() if count)
    lines = [f"A fresh clone's `make test` on {found['machine']} ({found['made']}): "
             f"{minutes}:{seconds:02d} of wall time from the clone on, the environment "
             f"included; {counts}; {found['test_seconds']:,.0f} s of tests over the two "
             "workers." + _cpu_sentence(found), "", "| test file | seconds (summed) |",
             "|---|---|"]
    lines += [f"| {name} | {seconds:,.1f} |" for name, seconds in found["files"].items()
              if seconds >= 10]
    lines += ["", "| slowest tests | seconds |", "|---|---|"]
    lines += [f"| `{case['test']}` | {case['seconds']:,.1f} |" for case in found["slowest"]]
    return "\n".join(lines) + "\n"


BLOCKS: dict[str, Callable[[], str]] = {
    "deployments": deployments_block,
    "deployments-freethreaded": deployments_freethreaded_block,
    "decision": decision_block,
    "options": options_block,
    "reference-table": reference_table_block,
    "claims": claims_block,
    "interpreters": interpreters_block,
    "libraries": libraries_block,
    "dask": dask_block,
    "database": database_block,
    "database-claim": database_claim_block,
    "database-served": database_served_block,
    "spread": spread_block,
    "service-rerun": service_rerun_block,
    "calibration": calibration_block,
    "test-durations": test_durations_block,
}


def render(text: str) -> str:
    """`text` with every generated block made anew."""
    def fill(match: re.Match[str]) -> str:
        name = match["name"]
        if name not in BLOCKS:
            raise KeyError(f"unknown generated block {name!r}")
        return f"{match.group(1)}{BLOCKS[name]()}{match.group(4)}"

    return BLOCK.sub(fill, text)


def stale(path: Path) -> list[str]:
    """The blocks of `path` whose text is not what their data makes."""
    text = path.read_text()
    fresh = render(text)
    return [] if fresh == text else [m["name"] for m in BLOCK.finditer(text)
                                      if m.group(0) not in fresh]
