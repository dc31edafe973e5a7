"""One typed schema from runner to page: record fields declare their columns, the run
records how it showed its runners, and old runs read with defaults."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from bench.claims import kit
from bench.record import SUM, ScenarioRecord, columns
from bench.report.load import load_run
from bench.report.markdown import markdown_table
from bench.report.page import SECTIONS, Page
from bench.report.table import _merge_passes, scenario_table
from bench.runinfo import SCHEMA_VERSION, RunInfo
from tests.conftest import REPO

OLD_RUN = REPO / "tests" / "data" / "old-run-dask.json"


def test_every_declared_field_has_a_known_merge_and_a_unique_column() -> None:
    found = columns()
    rows = [column.row or name for name, column in found]
    assert len(rows) == len(set(rows))
    assert {column.merge for _, column in found} <= {
        "first", "sum", "per_round", "per_task", "samples", "max", "min", "median", "counts",
        "first_each"}
    headers = [column.header for _, column in found if column.header]
    assert len(headers) == len(set(headers))
    assert dict(found)["ok"].merge == SUM


def test_a_new_run_records_its_schema_runner_styles_and_baseline(suite_run: Path) -> None:
    run = load_run(suite_run)
    info = run.info
    assert info.schema_version == SCHEMA_VERSION
    assert info.runners["sequential"].baseline and not info.runners["threads"].baseline
    assert info.runners["threads"].colour.startswith("#")
    assert info.python_build.python and info.python_build.origin
    assert info.fairness.rules  # the rules the run kept


def test_an_old_run_reads_with_defaults() -> None:
    info = load_run(OLD_RUN).info
    assert info.schema_version == 1 and info.runners == {}
    assert info.python_build.origin == ""  # not recorded: the report says so
    assert RunInfo.from_machine({"unknown_key": 1}).extra == {"unknown_key": 1}


def test_the_report_shows_runners_as_the_run_recorded_them(suite_run: Path,
                                                            tmp_path: Path) -> None:
    """A run whose record names threads the baseline, in black, first: today's registry
    must not relabel it."""
    data = json.loads(suite_run.read_text())
    styles = data["machine_info"]["runners"]
    styles["threads"].update(colour="#000000", order=-1)
    styles["sequential"]["baseline"], styles["threads"]["baseline"] = False, True
    edited = tmp_path / "benchmark.json"
    edited.write_text(json.dumps(data))
    table = scenario_table([load_run(edited)])
    try:
        assert kit.colour("threads") == "#000000" and kit.baseline_name() == "threads"
        first = table[table["claim"] == ""].groupby("workload", sort=False).head(1)
        assert set(first["runner"]) == {"threads"}
        threads = table[table["runner"] == "threads"]
        assert (threads["speedup"].dropna() == 1.0).all()  # read against itself
    finally:
        scenario_table([load_run(suite_run)])  # the registry's styles back


def _passes(**values: Any) -> pd.DataFrame:
    base = ScenarioRecord("cpu", "threads", 4, 2, 4, 0, 0.1).as_dict()
    rows = []
    for index, (rounds, ok, switches) in enumerate(((2, 8, 100.0), (6, 24, 300.0)), start=1):
        rows.append({**base, **values, "pass_index": index, "rounds": rounds, "ok": ok,
                     "ctx_switches": switches, "rounds_data": [0.1] * rounds,
                     "kinds": {}, "examples": {}, "setup_samples": [], "open_pss_samples": [],
                     "lag_rounds": [], "failed": 0, "tasks_run": ok})
    return pd.DataFrame(rows)


def test_a_declared_metric_merges_and_shows_without_code_of_its_own() -> None:
    """ctx_switches is declared per round: the passes weigh it by their rounds, and the
    full table shows it under its header."""
    merged = _merge_passes(_passes())
    assert merged["ctx_switches"] == pytest.approx((2 * 100 + 6 * 300) / 8)
    assert merged["ok"] == 32


def test_every_section_renders_alone(suite_run: Path) -> None:
    runs = [load_run(suite_run)]
    page = Page(runs, scenario_table(runs))
    rendered = [section(page) for section in SECTIONS]
    assert all(isinstance(lines, list) for lines in rendered)
    assert rendered[0][0] == "# concurrency-bench report"
    assert any(line.startswith("## Which model?") for line in rendered[1])
    text = markdown_table(page.table)
    assert "switches / round" in text  # a declared metric the new run has


def test_an_old_run_has_no_column_for_a_metric_it_did_not_record() -> None:
    runs = [load_run(OLD_RUN)]
    assert "switches / round" not in markdown_table(scenario_table(runs))


def test_context_switches_count_every_thread_and_worker(suite_run: Path) -> None:
    """A task that sleeps in a thread of its own leaves its core at least once (a voluntary
    switch), in whichever thread or worker process it runs: a round of N such sleeps has at
    least N switches.  (An event loop's tasks share one wait, so no such bound holds.)"""
    benches = json.loads(suite_run.read_text())["benchmarks"]
    blocking = {"sequential", "threads", "processes"}
    sleeps = [b["extra_info"] for b in benches if b["extra_info"]["workload"] == "sleep"
              and b["extra_info"]["runner"] in blocking]
    assert {info["runner"] for info in sleeps} == blocking
    for info in sleeps:
        assert info["ctx_switches"] >= info["tasks"], info["runner"]
