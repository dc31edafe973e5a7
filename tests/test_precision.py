"""Rounds until the median is precise enough, in alternating passes, within the caps."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.options import parse_settings
from bench.precision import FIRST_PASS_ROUNDS, RoundPlan, Tracker
from bench.report.load import load_run
from bench.report.table import scenario_table
from bench.scenario import scenarios_for
from bench.stats import half_width
from tests.conftest import run_suite


def test_the_interval_narrows_as_rounds_agree() -> None:
    spread = [1.0 + 0.01 * (i % 5 - 2) for i in range(30)]
    width = half_width(spread)
    assert width is not None and width <= 0.02


def test_plan_passes_and_rounds() -> None:
    plan = RoundPlan(max_rounds=30)
    assert plan.passes == 7
    assert [plan.rounds_in(k) for k in range(1, 8)] == [6, 4, 4, 4, 4, 4, 4]
    assert sum(plan.rounds_in(k) for k in range(1, plan.passes + 1)) == 30
    forced = RoundPlan(forced=3)
    assert forced.passes == 1 and forced.rounds_in(1) == 3


def test_tracker_stops_when_precise_or_capped() -> None:
    tracker = Tracker(RoundPlan(target=0.03, max_rounds=14, max_seconds=100))
    tracker.add("a", [1.0] * FIRST_PASS_ROUNDS)
    assert (tracker.enough("a") or "").startswith("precise")
    tracker.add("b", [1.0, 2.0, 0.5, 3.0, 1.5, 0.7])  # far from ±3 %
    assert tracker.enough("b") is None
    tracker.add("b", [1.0, 2.0, 0.5, 3.0, 1.5, 0.7, 2.2, 0.4])
    assert tracker.enough("b") == "capped at 14 rounds"
    timed = Tracker(RoundPlan(max_seconds=5))
    timed.add("c", [1.0, 2.0, 0.5, 3.0, 1.5, 0.7])
    assert (timed.enough("c") or "").startswith("capped at 5 s")


def test_passes_alternate_between_the_runners_of_a_workload() -> None:
    settings = parse_settings({"runner": "sequential,threads", "concurrency": "2",
                               "max_rounds": "14"})
    specs = scenarios_for("sleep", settings)
    assert [(s.pass_index, s.runner, s.rounds, s.warmup_rounds) for s in specs] == [
        (1, "sequential", 6, 1), (1, "threads", 6, 1), (2, "sequential", 4, 1),
        (2, "threads", 4, 1), (3, "sequential", 4, 1), (3, "threads", 4, 1)]
    # Each pass rebuilds its runner, so each warms its own before counting.
    assert len({s.key for s in specs}) == 2  # the passes of one scenario share a key


def test_a_run_in_passes_gives_one_row_per_scenario(tmp_path: Path) -> None:
    out = tmp_path / "run.json"
    # A tiny target no run can meet: every scenario runs every pass, to the round cap.
    result = run_suite("--benchmark-only", "--workload", "sleep,cpu", "--runner",
                       "sequential,threads", "--precision", "0.001", "--max-rounds", "10",
                       f"--benchmark-json={out}", "-q", "-p", "no:cacheprovider")
    assert result.returncode == 0, result.stdout + result.stderr
    data = json.loads(out.read_text())
    # A second pass for every scenario, unless its first was already within the target
    # (sleep rounds on a quiet machine can be: 6 rounds within ±0.1 %).
    first = [b["stats"]["data"] for b in data["benchmarks"] if "-pass2" not in b["name"]]
    short = sum(1 for rounds in first if (half_width(rounds) or 1.0) > 0.001)
    assert len(first) == 4  # workloads x runners
    assert len(data["benchmarks"]) == 4 + short
    table = scenario_table([load_run(out)])
    assert len(table) == 4
    twice = table[table["passes"] == 2]
    assert len(twice) == short
    assert (twice["rounds"] == 10).all() and (twice["ok"] == twice["tasks"] * 10).all()
    assert table["ci_low_s"].le(table["median_s"]).all()
    assert table["ci_high_s"].ge(table["median_s"]).all()
    assert not table["name"].str.contains("pass").any()
    for bench in data["benchmarks"]:
        info = bench["extra_info"]
        assert info["others_cpu_s"] >= 0 and info["load_avg"] >= 0 and info["steal_s"] >= 0
        assert info["warmup_rounds"] >= 1  # every pass warms its own runner
    # The report says so, from the records; and the run names the rules it kept.
    from bench.report.page import write_report

    write_report([out], tmp_path)
    report = (tmp_path / "REPORT.md").read_text()
    assert "warm-up round(s) before every pass" in report
    assert "**Same kind of thread**" in report and "**Drift probe**" in report


def test_the_overhead_probe_runs_in_the_first_pass_only(tmp_path: Path) -> None:
    out = tmp_path / "run.json"
    result = run_suite("--benchmark-only", "--workload", "sleep", "--runner", "processes",
                       "--concurrency", "2", "--tasks", "4", "--sleep-ms", "1",
                       "--precision", "0.001", "--max-rounds", "10",
                       f"--benchmark-json={out}", "-q", "-p", "no:cacheprovider")
    assert result.returncode == 0, result.stdout + result.stderr
    probes = {b["extra_info"]["pass_index"]: b["extra_info"]["task_overhead_s"]
              for b in json.loads(out.read_text())["benchmarks"]}
    assert sorted(probes) == [1, 2]
    assert probes[1] is not None and probes[1] > 0 and probes[2] is None
    assert scenario_table([load_run(out)])["task_overhead_s"].iloc[0] == probes[1]


@pytest.mark.parametrize("raw, message", [
    ({"precision": "0"}, "--precision: must be between 0.001 and 0.5"),
    ({"max_rounds": "5"}, "--max-rounds: must be between 6 and 1000"),
    ({"max_seconds": "-1"}, "--max-seconds: must be between"),
])
def test_bad_precision_options(raw: dict[str, str], message: str) -> None:
    from bench.options import OptionError

    with pytest.raises(OptionError, match=message):
        parse_settings(raw)
