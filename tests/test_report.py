"""The report turns a real run into consistent tables, real charts and a citable REPORT.md."""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ElementTree
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from bench import run_to_run
from bench.report.charts import CHARTS
from bench.report.compare import compare_table
from bench.report.load import ReportError, load_run, newest_run
from bench.report.markdown import markdown_table
from bench.report.page import write_report
from bench.report.table import scenario_table
from tests.conftest import REPO

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
TABLE_COLUMNS = {"workload", "runner", "concurrency", "tasks", "median_s", "iqr_s", "noise",
                 "citable", "tasks_per_s", "speedup", "efficiency", "latency_p50_s",
                 "latency_p95_s", "latency_p99_s", "cpu_s", "peak_rss_mb", "pss_mb", "ok",
                 "failed", "tasks_run", "failure_rate", "server_load"}


@pytest.fixture(scope="module")
def report_dir(suite_run: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("report")
    write_report([suite_run], out)
    return out


def test_table_has_the_expected_columns_and_one_row_per_scenario(report_dir: Path) -> None:
    table = pd.read_csv(report_dir / "table.csv")
    assert set(table.columns) >= TABLE_COLUMNS
    assert len(table) == 12
    assert not table.duplicated(["workload", "runner", "concurrency", "tasks"]).any()


def test_table_names_its_runs_from_its_own_folder(suite_run: Path, report_dir: Path) -> None:
    """No machine's folders in a committed table: a run is named from the table's folder."""
    table = pd.read_csv(report_dir / "table.csv")
    for column in ("source", "session"):
        assert set(table[column]) == {os.path.relpath(suite_run.resolve(), report_dir.resolve())}


def test_table_values_are_consistent(suite_run: Path) -> None:
    table = scenario_table([load_run(suite_run)])
    sequential = table[table["runner"] == "sequential"]
    assert (sequential["speedup"] == 1.0).all()
    assert (table["ok"] + table["failed"] == table["tasks_run"]).all()
    # The ideal is built on the fastest task the run saw (or the wait), so no sequential
    # round can beat it: every task of a round took at least that long.
    assert (sequential["efficiency"] <= 1.0).all(), sequential[["workload", "efficiency"]]
    # Concurrent rounds neither: waits overlap at most C-fold, computing at most K-fold.  The
    # 5 % allows for a pool task's CPU time being a little under its fastest latency.
    assert (table["efficiency"] <= 1.05).all(), table[["workload", "runner", "efficiency"]]
    assert (table["tasks_per_s"] * table["median_s"] - table["tasks"]).abs().max() < 1e-6


def test_markdown_table_has_units_in_headers(report_dir: Path) -> None:
    header = (report_dir / "table.md").read_text().splitlines()[0]
    for column in ("median (ms)", "IQR (ms)", "noise (%)", "tasks/s", "speedup (x, 95% CI)",
                   "per-task speed (x)", "efficiency (%)", "wait p99 (ms)", "service p50 (ms)",
                   "CPU (s)", "runner PSS (MB)"):
        assert column in header


def test_every_chart_is_a_real_png_and_svg(report_dir: Path) -> None:
    for name in CHARTS:
        png = (report_dir / f"{name}.png").read_bytes()
        assert png.startswith(PNG_MAGIC) and len(png) > 10_000
        root = ElementTree.parse(report_dir / f"{name}.svg").getroot()
        assert root.tag.endswith("svg")


def test_report_md_is_citable(report_dir: Path, suite_run: Path) -> None:
    data = json.loads(suite_run.read_text())
    report = (report_dir / "REPORT.md").read_text()
    assert data["commit_info"]["id"] in report
    assert data["machine_info"]["cpu"]["brand_raw"] in report
    assert "## Fairness rules" in report and "warm" in report
    assert f"aiohttp {data['machine_info']['library_versions']['aiohttp']}" in report
    for name in CHARTS:
        assert f"]({name}.png)" in report


def test_compare_same_run_is_within_noise(suite_run: Path) -> None:
    table = scenario_table([load_run(suite_run)], run_to_run.NONE)
    compared = compare_table(table, table)
    assert len(compared) == 12
    assert (compared["ratio"] == 1.0).all()
    assert (compared["ratio_low"] <= 1.0).all() and (compared["ratio_high"] >= 1.0).all()
    assert not (compared["verdict"] == "differ").any()


def _slowed_copy(source: Path, target: Path, factor: float) -> None:
    """The same run with the first scenario's round times multiplied by `factor`."""
    data = json.loads(source.read_text())
    slowed = copy.deepcopy(data)
    stats = slowed["benchmarks"][0]["stats"]
    for key in ("min", "max", "mean", "median", "q1", "q3", "iqr"):
        stats[key] *= factor
    stats["data"] = [value * factor for value in stats["data"]]
    target.write_text(json.dumps(slowed))


def test_compare_flags_a_real_difference(suite_run: Path, tmp_path: Path) -> None:
    slowed = tmp_path / "slowed.json"
    _slowed_copy(suite_run, slowed, 3.0)
    result = subprocess.run([sys.executable, "scripts/report.py", str(suite_run), str(slowed),
                             "--compare", "--out", str(tmp_path)],
                            cwd=REPO, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    compared = pd.read_csv(tmp_path / "compare.csv")
    different = compared[compared["verdict"] == "differ"]
    assert len(different) == 1
    assert different["ratio"].iloc[0] == pytest.approx(3.0)
    assert different["ratio_low"].iloc[0] > 1.05
    assert "| differ " in (tmp_path / "compare.md").read_text()


def test_newest_run_is_the_latest_folder(tmp_path: Path) -> None:
    for stamp in ("20260101T000000Z", "20261231T235959Z", "20260601T120000Z"):
        (tmp_path / stamp).mkdir()
        (tmp_path / stamp / "benchmark.json").write_text("{}")
    assert newest_run(tmp_path).parent.name == "20261231T235959Z"
    with pytest.raises(ReportError, match="no runs under"):
        newest_run(tmp_path / "empty")


def _not_our_suite(path: Path) -> None:
    data: dict[str, Any] = {"benchmarks": [{"name": "test_x", "stats": {
        "median": 1, "iqr": 0, "q1": 1, "q3": 1, "rounds": 1}, "extra_info": {}}]}
    path.write_text(json.dumps(data))


BAD_INPUTS = {
    "missing": (None, "no such file"),
    "empty": (lambda p: p.write_text(""), "the file is empty"),
    "not_json": (lambda p: p.write_text("hello"), "not valid JSON"),
    "truncated": (lambda p: p.write_text('{"benchmarks": [{"name": '), "may be truncated"),
    "not_benchmark": (lambda p: p.write_text('{"a": 1}'), "not a pytest-benchmark JSON file"),
    "no_benchmarks": (lambda p: p.write_text('{"benchmarks": []}'), "holds no benchmarks"),
    "other_suite": (_not_our_suite, "not made by the concurrency-bench suite"),
}


@pytest.mark.parametrize("case", list(BAD_INPUTS))
def test_bad_input_is_one_line_and_exit_2(case: str, tmp_path: Path) -> None:
    make, message = BAD_INPUTS[case]
    path = tmp_path / "input.json"
    if make is not None:
        make(path)
    result = subprocess.run([sys.executable, "scripts/report.py", str(path), "--out",
                             str(tmp_path / "out")], cwd=REPO, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("report: error: ") and message in lines[0]


@pytest.mark.parametrize("args, message", [
    (["--compare", "a.json"], "--compare takes exactly two files"),
    (["--out", "pyproject.toml", "x.json"], "exists and is not a folder"),
])
def test_bad_arguments_are_one_line_and_exit_2(args: list[str], message: str) -> None:
    result = subprocess.run([sys.executable, "scripts/report.py", *args], cwd=REPO,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1


def _edited_copy(source: Path, target: Path, edit: Any) -> Path:
    data = json.loads(source.read_text())
    edit(data)
    target.write_text(json.dumps(data))
    return target


def test_a_failed_scenario_has_a_row_but_no_rate(suite_run: Path, tmp_path: Path) -> None:
    def fail_first(data: dict[str, Any]) -> None:
        info = data["benchmarks"][0]["extra_info"]
        info["ok"], info["failed"] = 0, info["tasks_run"]
        info["failure_kinds"] = {"connection": info["tasks_run"]}

    path = _edited_copy(suite_run, tmp_path / "failed.json", fail_first)
    table = scenario_table([load_run(path)])
    failed = table[table["failed_scenario"]]
    assert len(failed) == 1
    assert failed[["tasks_per_s", "speedup", "efficiency"]].isna().all().all()
    write_report([path], tmp_path)
    markdown = (tmp_path / "table.md").read_text()
    assert "✗ FAILED" in markdown
    report = (tmp_path / "REPORT.md").read_text()
    assert "Failed scenarios" in report and "nan" not in report


def test_injected_faults_give_goodput_and_no_efficiency(suite_run: Path, tmp_path: Path) -> None:
    def inject(data: dict[str, Any]) -> None:
        info = data["benchmarks"][0]["extra_info"]
        info["ok"], info["failed"] = info["tasks_run"] // 2, info["tasks_run"] - info[
            "tasks_run"] // 2
        info["faults_injected"] = True

    path = _edited_copy(suite_run, tmp_path / "faults.json", inject)
    row = scenario_table([load_run(path)]).query("faults_injected").iloc[0]
    assert row["tasks_per_s"] == pytest.approx(row["ok"] / row["rounds"] / row["median_s"])
    assert pd.isna(row["efficiency"]) and not row["failed_scenario"]


def test_no_baseline_gives_dashes_and_a_note_not_nan(suite_run: Path, tmp_path: Path) -> None:
    def drop_sequential(data: dict[str, Any]) -> None:
        data["benchmarks"] = [b for b in data["benchmarks"]
                              if b["extra_info"]["runner"] != "sequential"]

    path = _edited_copy(suite_run, tmp_path / "nobase.json", drop_sequential)
    write_report([path], tmp_path)
    report = (tmp_path / "REPORT.md").read_text()
    assert "nan" not in report and "nan" not in (tmp_path / "table.md").read_text()
    assert "No sequential baseline in this run" in report
    assert "add sequential to --runner" in report


def test_report_opens_with_a_summary_and_states_the_settings(report_dir: Path) -> None:
    report = (report_dir / "REPORT.md").read_text()
    assert report.index("## Which model?") < report.index("## Summary")
    assert report.index("## Summary") < report.index("## Fairness rules")
    assert "is fastest" in report or "Tie within noise" in report
    assert "## Workloads" in report and "Knobs: n=50000" in report
    assert "the caller's wait per task, from the round handing the task to the" in report
    assert "queues left out" in report
    assert "(tasks x rounds)" in report


def test_a_run_folder_stands_for_its_benchmark_json(suite_run: Path, tmp_path: Path) -> None:
    result = subprocess.run([sys.executable, "scripts/report.py", str(suite_run.parent),
                             "--out", str(tmp_path)], cwd=REPO, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "REPORT.md").exists()


def test_cpu_in_cores_is_per_second_of_the_rounds_not_of_the_median(suite_run: Path,
                                                                   tmp_path: Path) -> None:
    # One busy thread whose rounds are skewed (1 s, 1 s, 1 s, 5 s): 2 CPU seconds per round
    # on average over a 2 s mean round is one core, not the 2 cores CPU / median would say.
    def skew(data: dict[str, Any]) -> None:
        bench = data["benchmarks"][0]
        bench["stats"]["data"] = [1.0, 1.0, 1.0, 5.0]
        bench["stats"]["median"] = 1.0
        bench["stats"]["rounds"] = 4
        bench["extra_info"].update(cpu_s=2.0, server_cpu_s=None, others_cpu_s=0.4,
                                   pass_index=1, others_cores=None)  # a run from before

    path = _edited_copy(suite_run, tmp_path / "skewed.json", skew)
    name = json.loads(path.read_text())["benchmarks"][0]["name"]
    table = scenario_table([load_run(path)])
    row = table[table["name"] == name].iloc[0]
    assert row["client_cpu_load"] == pytest.approx(1.0)
    assert row["neighbours"] == pytest.approx(0.2)
    # Runs that record others' CPU over the metered window (rounds and the harness's moments
    # between them) show that, not others' CPU over the rounds alone.
    def windowed(data: dict[str, Any]) -> None:
        skew(data)
        data["benchmarks"][0]["extra_info"]["others_cores"] = 0.15

    path = _edited_copy(suite_run, tmp_path / "windowed.json", windowed)
    table = scenario_table([load_run(path)])
    assert table[table["name"] == name].iloc[0]["neighbours"] == pytest.approx(0.15)


def test_speedup_interval_holds_the_ratio_of_medians_and_narrows_with_agreement() -> None:
    from bench.report.table import speedup_interval

    base = [[1.00, 1.01, 0.99, 1.02, 0.98, 1.00]]
    twice_as_fast = [[0.50, 0.51, 0.49, 0.50, 0.52, 0.48]]
    found = speedup_interval(base, twice_as_fast)
    assert found.low <= 2.0 <= found.high and found.high - found.low < 0.2
    noisy = [[0.3, 0.7, 0.5, 0.9, 0.4, 0.6]]
    wide = speedup_interval(base, noisy)
    assert wide.high - wide.low > found.high - found.low
    rerun = speedup_interval(base, twice_as_fast, 0.05)  # a rerun's spread widens it
    assert rerun.low < found.low and rerun.high > found.high
    assert not speedup_interval(base, [[0.5]]).known  # one round: none


def test_compare_band_is_checked() -> None:
    from scripts.report import main

    assert main(["a.json", "b.json", "--compare", "--band", "0"]) == 2


def test_the_drift_probe_reads_the_machine() -> None:
    from bench import drift

    reading = drift.probe("start")
    assert reading["when"] == "start"
    assert 0 < reading["cpu_ms"] < 1000 and 0 < reading["loopback_rtt_ms"] < 1000
    assert reading["sleep_overshoot_ms"] > -drift.SLEEP_S * 1000 / 10
    summary = drift.summary([reading, {**reading, "cpu_ms": reading["cpu_ms"] * 2}])
    assert summary["cpu_spread"] == 2.0


def _scale_rounds(bench: dict[str, Any], factor: float) -> None:
    stats = bench["stats"]
    stats["data"] = [value * factor for value in stats["data"]]
    for key in ("median", "iqr", "q1", "q3", "min", "max", "mean"):
        if key in stats:
            stats[key] *= factor


def test_a_speedup_beyond_the_ideal_speedup_is_marked_with_per_task_speed(
        suite_run: Path, tmp_path: Path) -> None:
    # The cpu rows set against sequential's, whatever the machine did during the run: the
    # processes row ten times as fast (its speedup interval then lies far above
    # min(C, cores), which side-by-side running cannot give), the threads row as fast.
    def too_fast(data: dict[str, Any]) -> None:
        cpu = [b for b in data["benchmarks"] if b["extra_info"]["workload"] == "cpu"]
        seq = next(b for b in cpu if b["extra_info"]["runner"] == "sequential")
        for bench in cpu:
            runner = bench["extra_info"]["runner"]
            if runner in ("processes", "threads"):
                bench["stats"]["data"] = list(seq["stats"]["data"])
                for key in ("median", "iqr", "q1", "q3", "min", "max", "mean"):
                    if key in seq["stats"]:
                        bench["stats"][key] = seq["stats"][key]
                if runner == "processes":
                    _scale_rounds(bench, 1 / 10)

    path = _edited_copy(suite_run, tmp_path / "fast.json", too_fast)
    table = scenario_table([load_run(path)])
    cpu = table[table["workload"] == "cpu"].set_index("runner")
    assert cpu.loc["processes", "over_cores"] and not cpu.loc["threads", "over_cores"]
    assert cpu.loc["processes", "speedup_bound"] == pytest.approx(2.0, rel=0.2)
    write_report([path], tmp_path)
    assert "‼" in (tmp_path / "table.md").read_text()
    report = (tmp_path / "REPORT.md").read_text()
    assert "‼ Speedup above the ideal speedup" in report and "cpu processes" in report
    # Waits overlap up to C-fold: the sleep rows' ideal is C, not min(C, cores).  (The rule,
    # not the real run's speedups: a busy moment during sequential's rounds once put a
    # sleep row's whole interval above C=3 in a make test beside make bench.)
    sleep = table[table["workload"] == "sleep"]
    assert (sleep["speedup_bound"] == sleep["concurrency"]).all()


def test_the_ideal_speedup_does_not_follow_the_calibrations_drift(
        suite_run: Path, tmp_path: Path) -> None:
    # By the time the processes rows were recorded, the calibration had seen a faster task
    # (their task_s, and the ideal built on it, 0.8 of sequential's): the bound is still
    # min(C, cores), not 1 / 0.8 times it.
    def faster_calibration(data: dict[str, Any]) -> None:
        for bench in data["benchmarks"]:
            info = bench["extra_info"]
            if info["workload"] == "cpu" and info["runner"] == "processes":
                info["task_s"] *= 0.8
                info["ideal_s"] *= 0.8

    path = _edited_copy(suite_run, tmp_path / "drift.json", faster_calibration)
    table = scenario_table([load_run(path)])
    rows = table[(table["workload"] == "cpu") & (table["runner"] == "processes")]
    # N tasks in ceil(N / min(C, cores)) task times, against N for sequential.
    expected = [n / -(-n // min(c, cores)) for n, c, cores in zip(
        rows["tasks"], rows["concurrency"], rows["cores"], strict=True)]
    assert len(rows)
    assert list(rows["speedup_bound"]) == pytest.approx(expected)


def test_pure_python_cpu_in_one_gil_process_is_bound_by_one_core(
        suite_run: Path, tmp_path: Path) -> None:
    # The threads cpu rows 1.5 times as fast as sequential (fixed rounds, so the interval
    # is narrow whatever the machine did): below min(C, cores) = 2, but one GIL process
    # runs pure Python on one core at a time, so that is no parallel gain.
    steady = [0.70, 0.71, 0.69, 0.70]

    def threads_faster(data: dict[str, Any], gil: bool) -> None:
        for bench in data["benchmarks"]:
            info = bench["extra_info"]
            if info["workload"] != "cpu":
                continue
            info["gil_enabled"] = gil
            if info["runner"] in ("sequential", "threads"):
                bench["stats"]["data"] = list(steady)
                for key, value in (("median", 0.70), ("min", 0.69), ("max", 0.71),
                                   ("mean", 0.70), ("q1", 0.695), ("q3", 0.705),
                                   ("iqr", 0.01)):
                    bench["stats"][key] = value
                if info["runner"] == "threads":
                    _scale_rounds(bench, 1 / 1.5)

    def cpu_threads(path: Path) -> pd.DataFrame:
        table = scenario_table([load_run(path)])
        return table[(table["workload"] == "cpu") & (table["runner"] == "threads")]

    on = _edited_copy(suite_run, tmp_path / "gil.json", lambda d: threads_faster(d, True))
    rows = cpu_threads(on)
    assert len(rows) and ((rows["speedup"] - 1.5).abs() < 0.05).all()
    assert (rows["speedup_bound"] == 1.0).all() and rows["over_cores"].all()
    table = scenario_table([load_run(on)])
    # Processes run Python on both cores; waits are not GIL-bound: their bounds stay.
    assert (table.loc[table["runner"] == "processes", "speedup_bound"] > 1.5).all()
    sleep = table[(table["workload"] == "sleep") & (table["runner"] != "sequential")]
    assert len(sleep) and (sleep["speedup_bound"] > 1.5).all()
    # With the GIL off, threads run Python side by side: the bound is min(C, cores) again.
    off = _edited_copy(suite_run, tmp_path / "nogil.json", lambda d: threads_faster(d, False))
    rows = cpu_threads(off)
    assert (rows["speedup_bound"] > 1.5).all() and not rows["over_cores"].any()


def test_a_cpu_reading_above_the_machines_cores_is_a_meter_error(
        suite_run: Path, tmp_path: Path) -> None:
    def impossible(data: dict[str, Any]) -> None:
        bench = data["benchmarks"][0]
        bench["extra_info"]["cpu_s"] = bench["stats"]["mean"] * 3 * data["machine_info"][
            "usable_cores"]

    path = _edited_copy(suite_run, tmp_path / "meter.json", impossible)
    table = scenario_table([load_run(path)])
    assert table["meter_error"].sum() == 1
    write_report([path], tmp_path)
    assert "✗ meter" in (tmp_path / "table.md").read_text()
    assert "CPU reading above the machine's cores" in (tmp_path / "REPORT.md").read_text()


def test_gil_threads_paying_more_cpu_per_task_than_sequential_are_marked_and_decide_nothing(
        suite_run: Path, tmp_path: Path) -> None:
    """Pure-Python CPU on one GIL costs its CPU per task whatever runs it: a threads row
    at twice sequential's CPU per task (the bias seen under the suite) is ✗ CPU, says why
    in the summary, and keeps a claim from deciding on it; at sequential's CPU per task it
    is not marked.  (The real run's own rows may carry the bias on a busy machine, so both
    cases are set from its sequential row.)"""
    from bench.claims.kit import unfit
    from bench.report.summary import summary_lines

    def threads_at(factor: float) -> Any:
        def edit(data: dict[str, Any]) -> None:
            rows = [b["extra_info"] for b in data["benchmarks"]
                    if b["extra_info"]["workload"] == "cpu"]
            alone = next(r["cpu_s"] / r["tasks"] for r in rows if r["runner"] == "sequential")
            for row in rows:  # every other model at sequential's CPU per task
                if row["runner"] != "sequential":
                    row["cpu_s"] = alone * row["tasks"] * (
                        factor if row["runner"] == "threads" else 1.0)
        return edit

    same = scenario_table([load_run(_edited_copy(suite_run, tmp_path / "same.json",
                                                 threads_at(1.0)))])
    assert not same["inflated_cpu"].any()
    assert "CPU per task" not in str(unfit(same[same["runner"] == "threads"].iloc[0].to_dict()))
    path = _edited_copy(suite_run, tmp_path / "inflated.json", threads_at(2.0))
    table = scenario_table([load_run(path)])
    inflated = table[table["inflated_cpu"]]
    assert list(inflated["runner"]) == ["threads"] and list(inflated["workload"]) == ["cpu"]
    assert "✗ CPU" in markdown_table(table)
    assert any("CPU per task above sequential's in this run" in line
               for line in summary_lines([load_run(path)], table))
    assert "✗ CPU per task above sequential's" in str(unfit(inflated.iloc[0].to_dict()))


def test_passes_merge_by_scenario_even_when_pytest_renamed_repeated_ids(
        suite_run: Path, tmp_path: Path) -> None:
    """pytest tells repeated test ids apart by a number it appends; the passes of one
    scenario must still merge into one row, by the record's scenario id."""
    def edit(data: dict[str, Any]) -> None:
        first = data["benchmarks"][0]
        second = json.loads(json.dumps(first))
        first["name"] = first["name"].rstrip("]") + "0]"
        second["name"] = second["name"].rstrip("]") + "1]"
        second["extra_info"]["pass_index"] = 2
        data["benchmarks"] = [first, second]

    path = _edited_copy(suite_run, tmp_path / "renamed.json", edit)
    table = scenario_table([load_run(path)])
    assert len(table) == 1 and table.iloc[0]["passes"] == 2


@pytest.mark.parametrize("build, label", [
    ({"python": "3.13.0", "free_threaded_build": True, "gil_enabled": True}, "3.13.0t GIL on"),
    ({"python": "3.13.5", "free_threaded_build": True, "gil_enabled": True, "origin": "source",
      "settings": {"PYTHON_GIL": "1"}}, "3.13.5t (source) PYTHON_GIL=1"),
    ({"python": "3.13.5", "free_threaded_build": True, "gil_enabled": True, "origin": "source",
      "settings": {}}, "3.13.5t (source) GIL on"),  # an extension switched it on
    ({"python": "3.14.10", "origin": "Debian", "settings": {"PYTHON_JIT": "1"}},
     "3.14.10 (Debian) PYTHON_JIT=1"),
    ({"python": "3.11.7"}, "3.11.7"),  # a run from before origins were recorded
])
def test_an_interpreter_column_names_version_origin_and_settings(build: dict[str, Any],
                                                                 label: str) -> None:
    from bench.report.load import Run

    assert Run(Path("x.json"), {"machine_info": {"python_build": build}}).interpreter == label


def test_the_report_commands_help_prints_its_band() -> None:
    """A percent sign in an argparse help string must be escaped, or --help fails or
    prints the option's internals."""
    result = subprocess.run([sys.executable, "scripts/report.py", "--help"],
                            capture_output=True, text=True, cwd=REPO, check=False)
    assert result.returncode == 0, result.stderr
    assert "within 1 ± 5 % agrees" in " ".join(result.stdout.split())
    assert "option_strings" not in result.stdout


def test_a_workload_without_a_docstring_is_still_described(
        monkeypatch: pytest.MonkeyPatch) -> None:
    import types
    from dataclasses import dataclass
    from typing import ClassVar

    from bench.report.summary import _described
    from workloads import WORKLOADS, Workload

    @dataclass(frozen=True)
    class Bare(Workload):
        name: ClassVar[str] = "bare_for_report"

        def call(self) -> None:
            return None

        async def acall(self, client: object) -> None:
            return None

        def check(self, result: object) -> None:
            pass

    Bare.__doc__ = None  # a dataclass writes its signature there otherwise
    Bare.__module__ = "bare_module_for_report"  # a user's file with no docstring either
    monkeypatch.setitem(sys.modules, "bare_module_for_report",
                        types.ModuleType("bare_module_for_report"))
    WORKLOADS["bare_for_report"] = Bare
    try:
        assert "with no docstring" in _described("bare_for_report")
        Bare.__doc__ = "Counts sheep.\n\nAt length."
        assert _described("bare_for_report") == "Counts sheep."
    finally:
        del WORKLOADS["bare_for_report"]
    assert "not registered where this report was made" in _described("bare_for_report")
    assert _described("sleep")  # a built-in: its module's first line
