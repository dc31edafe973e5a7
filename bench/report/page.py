"""REPORT.md, top to bottom: each section a small function of the page; and the files
a report writes beside it.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from bench.claims import MISSING, verdicts
from bench.report.charts import write_charts
from bench.report.claims import claims_markdown, number
from bench.report.cores import cores_markdown
from bench.report.decision import beyond_markdown, decision_markdown
from bench.report.interpreters import interpreters_markdown
from bench.report.load import Run, load_run, write_text
from bench.report.markdown import declared_notes, markdown_table, write_tables
from bench.report.mode_charts import (
    write_claims_chart,
    write_interpreters_chart,
    write_service_chart,
)
from bench.report.provenance import fairness, footnote, provenance
from bench.report.service import is_service, service_markdown
from bench.report.summary import (
    COLUMN_NOTES,
    failure_lines,
    overhead_markdown,
    summary_lines,
    workload_lines,
)
from bench.report.table import scenario_table


@dataclass(frozen=True)
class Page:
    """What every section of REPORT.md reads: the runs, their table, the charts drawn, and
    the interpreters and claims sections made with their charts."""

    runs: list[Run]
    table: pd.DataFrame
    charts: list[Path] = field(default_factory=list)
    claims: str = ""


def _results_section(page: Page) -> list[str]:
    table = page.table
    noisy = int((~table["citable"]).sum())
    return ["## Results", "",
            f"{len(table)} scenarios; {noisy} marked ⚠ as too noisy to cite; "
            f"{int(table['failed'].sum())} of {int(table['tasks_run'].sum())} tasks failed "
            "(over all counted rounds).",
            "", markdown_table(table), "",
            COLUMN_NOTES.format(declared="; ".join(declared_notes(table))), ""]


def _charts_section(page: Page) -> list[str]:
    lines = ["## Charts", ""]
    for chart in page.charts:
        if chart.suffix == ".png" and chart.stem not in ("claims", "interpreters"):
            lines += [f"![{chart.stem}]({chart.name})", ""]
    return lines


# REPORT.md, top to bottom: each section is a small function of the page, tested alone.
SECTIONS: tuple[Callable[[Page], list[str]], ...] = (
    lambda page: ["# concurrency-bench report", ""],
    lambda page: decision_markdown(page.table),
    lambda page: beyond_markdown(page.table),
    lambda page: cores_markdown(page.table),
    lambda page: ["## Summary", "", *summary_lines(page.runs, page.table), "",
                  *provenance(page.runs), ""],
    lambda page: ["## Fairness rules", "", *fairness(page.runs[-1], page.table), ""],
    lambda page: ["## Workloads", "", *workload_lines(page.table), "", page.claims],
    _results_section,
    lambda page: failure_lines(page.table),
    lambda page: overhead_markdown(page.table),
    _charts_section,
)


def report_markdown(runs: list[Run], table: pd.DataFrame, charts: list[Path],
                    claims: str = "") -> str:
    page = Page(runs, table, charts, claims)
    return "\n".join(line for section in SECTIONS for line in section(page))


def _claims(table: pd.DataFrame, out: Path, note: str, *, matrix: bool = False,
            service: bool = False) -> tuple[str, list[Path]]:
    """The claims section and chart.  A service run that measured none of its claims'
    scenarios gets neither, and no claims files; an interpreters run always lists its
    claims, since what each needs (a free-threaded build, subinterpreters) is the news."""
    found = verdicts(table, matrix=matrix, service=service)
    if service and all(v.verdict == MISSING for v in found):
        return "", []
    text = claims_markdown(found, None if service else table, service=service)
    write_text(out / "claims.md", text)
    # The chart draws the claims measured (all of them where none was, to show the gaps).
    drawn = [v for v in found if v.verdict != MISSING] or found
    titles = {v.claim.key: "\n".join(textwrap.wrap(
        f"{number(v)}. {v.claim.statement} [{v.verdict}]", 60)) for v in drawn}
    return text, write_claims_chart(table, titles, out, note)


def _service_report(runs: list[Run], table: pd.DataFrame, out: Path, note: str) -> Path:
    """Service mode: its own page (the batch figures do not apply)."""
    charts = write_service_chart(table, out, note)
    claims, _ = _claims(table, out, note, service=True)
    return write_text(out / "REPORT.md", "\n".join(
        ["# concurrency-bench report: service mode", "", *service_markdown(table),
         *cores_markdown(table),
         *(f"![{chart.stem}]({chart.name})" for chart in charts if chart.suffix == ".png"),
         "", claims, "## Summary", "", *provenance(runs), "", "## Workloads", "",
         *workload_lines(table), ""]))


def write_report(paths: list[Path], out: Path | None) -> Path:
    runs = [load_run(path) for path in paths]
    out = out or paths[-1].parent
    out.mkdir(parents=True, exist_ok=True)
    table = scenario_table(runs)
    write_tables(table, out)
    note = footnote(runs)
    if is_service(table):
        return _service_report(runs, table, out, note)
    matrix = table[table["claim"] == ""]
    charts = write_charts(matrix, out, note) if not matrix.empty else []
    claims = ""
    several = table["interpreter"].nunique() > 1
    if (table["claim"] != "").any() or several:
        claims, drawn = _claims(table, out, note, matrix=not (table["claim"] != "").any())
        charts += drawn
    if several:
        charts = write_interpreters_chart(table, out, note) + charts
        claims = interpreters_markdown(runs, table) + claims
    return write_text(out / "REPORT.md", report_markdown(runs, table, charts, claims))
