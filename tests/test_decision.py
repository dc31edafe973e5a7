"""The top of a report and the run's progress: a winner only where intervals separate, an
old run still renders, and a long run says where it is."""

from __future__ import annotations

import re
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pandas as pd
import pytest

from bench.plugin import Progress
from bench.report.decision import beyond_markdown, decision_markdown
from bench.report.page import write_report
from tests.conftest import REPO


def model(runner: str, median: float, half: float, concurrency: int = 2,
          **fields: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "claim": "", "interpreter": "3.11.7", "workload": "cpu", "params": "n=1000000",
        "tasks": 16, "server": "", "runner": runner, "start_method": None, "client": "",
        "concurrency": 1 if runner == "sequential" else concurrency, "median_s": median,
        "ci_low_s": median * (1 - half), "ci_high_s": median * (1 + half),
        "speedup": 0.7 / median, "speedup_low": 0.7 / median * 0.95,
        "speedup_high": 0.7 / median * 1.05, "client_cpu_load": 1.0, "runner_pss_mb": 12.0,
        "wait_p99_s": median, "failed": 0, "tasks_run": 96, "failed_scenario": False,
        "citable": True, "precise": True, "disturbed": False, "meter_error": False,
        "setup_s": 0.02}
    row.update(fields)
    return row


def block(*rows: dict[str, Any]) -> str:
    return "\n".join(decision_markdown(pd.DataFrame(list(rows))))


def test_two_models_whose_intervals_overlap_tie() -> None:
    text = block(model("sequential", 0.7, 0.02, start_method=float("nan")),
                 model("threads", 0.70, 0.03),
                 model("asyncio", 0.71, 0.03))
    assert "Tie within noise: sequential has the lowest median" in text
    assert "overlaps that of threads, asyncio" in text
    assert "is fastest" not in text


def test_a_lead_under_the_equivalence_band_is_a_tie_even_beyond_both_intervals() -> None:
    """4 % ahead with intervals of ±0.5 %: separate within this run, but a lead that
    --compare would call no change, and that back-to-back runs do not keep."""
    text = block(model("asyncio", 0.700, 0.005), model("threads", 0.728, 0.005))
    assert "Tie within noise: asyncio has the lowest median" in text
    assert "or lies below it by less than 5 %" in text
    text = block(model("asyncio", 0.700, 0.005), model("threads", 0.770, 0.005))
    assert "**asyncio** is fastest, 1.10x ahead of threads beyond both intervals by more " \
        "than 5 %" in text


def test_a_winner_is_named_only_beyond_both_intervals_with_its_costs() -> None:
    text = block(model("sequential", 0.7, 0.02),
                 model("processes", 0.36, 0.02, start_method="fork", client_cpu_load=1.97,
                       runner_pss_mb=78.0, setup_s=0.021),
                 model("threads", 0.72, 0.03))
    assert "**processes (fork)** is fastest, 1.94x ahead of sequential" in text
    assert "costs 1.97 cores of client CPU, 78.0 MB for its runner, 21.0 ms to start" in text


def test_each_model_shows_once_at_its_best_concurrency() -> None:
    text = block(model("sequential", 0.7, 0.02), model("threads", 0.72, 0.02, concurrency=2),
                 model("threads", 0.69, 0.02, concurrency=16))
    rows = [line for line in text.splitlines() if line.startswith("| threads")]
    assert len(rows) == 1 and rows[0].startswith("| threads | 16 |")


def test_an_unfit_winner_says_so() -> None:
    text = block(model("sequential", 0.7, 0.02),
                 model("processes", 0.36, 0.02, citable=False, disturbed=True))
    assert "| processes ⚠ ⚡ |" in text
    assert "Its row is marked ⚠ ⚡: rerun before deciding on it" in text


def significant_digits(token: str) -> int:
    number = token.rstrip("x").replace(",", "")
    if "." in number:
        return len(number.replace(".", "").lstrip("0"))
    return len(number.lstrip("0").rstrip("0"))


def test_no_figure_has_more_than_three_significant_digits() -> None:
    text = block(model("sequential", 7.12345, 0.0123, tasks_run=12345),
                 model("threads", 3.456789, 0.0123, runner_pss_mb=1234.5))
    numbers = [token for token in re.split(r"[\s()|/-]+", text)
               if re.fullmatch(r"[\d,]*\.?\d+x?", token)]
    assert numbers
    for token in numbers:
        if token not in ("12345", "16"):  # counts of tasks are counts, not measurements
            assert significant_digits(token) <= 3, token


def test_a_run_from_before_the_decision_block_still_renders(tmp_path: Path) -> None:
    """A reference run of 2026-11-27 (no caller's wait, per-task speed, runner memory,
    failure examples or build flags in its records) renders with its decision block."""
    old = REPO / "tests" / "data" / "old-run-dask.json"
    write_report([old], tmp_path)
    report = (tmp_path / "REPORT.md").read_text()
    assert report.index("## Which model?") < report.index("## Summary")
    assert "| processes (fork) | 2 |" in report
    assert "nan" not in report.split("## Results")[0]


def test_beyond_this_machine_reads_each_models_own_cpu() -> None:
    table = pd.DataFrame([
        model("sequential", 0.7, 0.02, cores=2, speedup_bound=1.0),
        model("threads", 0.72, 0.02, cores=2, client_cpu_load=1.0, speedup_bound=2.0),
        model("processes", 0.36, 0.02, cores=2, client_cpu_load=1.95, speedup_bound=2.0),
        model("asyncio", 0.05, 0.02, cores=2, client_cpu_load=0.1, speedup_bound=64.0,
              workload="sleep"),
        model("procs-threads", 0.4, 0.02, cores=2, client_cpu_load=1.01, speedup_bound=2.0,
              pool_workers=2),
        model("uvloop", 0.5, 0.02, cores=2, client_cpu_load=0.7, speedup_bound=2.0)])
    text = "\n".join(beyond_markdown(table))
    assert "Measured on 2 cores" in text
    assert "- threads: 1.00 cores of client CPU at C=2 -- one core, fully used" in text
    assert ("- processes: 1.95 cores of client CPU at C=2, 1.94x of an ideal 2.00x here -- "
            "2 worker processes and the client's own, every core here busy") in text
    assert "min(2, K)" in text
    assert "- asyncio: 0.100 cores of client CPU at C=2 -- the client mostly waits" in text
    # A runner of worker processes is never read as one process, whatever its CPU.
    assert ("- procs-threads: 1.01 cores of client CPU at C=2, 1.75x of an ideal 2.00x here "
            "-- 2 worker processes and the client's own, with room left") in text
    # Between waiting and one full core: a line too, with the headroom its one core leaves.
    assert "- uvloop: 0.700 cores of client CPU at C=2 -- one process, busy but not yet" in text
    assert "at most about 1.43x this rate of work" in text


class Reporter:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def write_line(self, line: str) -> None:
        self.lines.append(line)


def test_a_long_run_prints_where_it_is_and_an_estimate_left() -> None:
    reporter = Reporter()
    config = SimpleNamespace(pluginmanager=SimpleNamespace(get_plugin=lambda name: reporter))
    progress = Progress(config, total=20)  # type: ignore[arg-type]
    progress.EVERY_S = 0.0
    for done in range(1, 6):
        progress.last -= 1.0
        progress.finished(6.0)
        if done == 1:
            assert reporter.lines[-1].endswith("an estimate once more have run")
    assert reporter.lines[-1].startswith("[concurrency-bench] scenario 5 of 20, ")
    assert reporter.lines[-1].endswith("about 1:30 left")  # 15 more at 6 s each


def test_the_estimate_learns_that_later_passes_are_mostly_skipped() -> None:
    reporter = Reporter()
    config = SimpleNamespace(pluginmanager=SimpleNamespace(get_plugin=lambda name: reporter))
    # Ten scenarios of one workload, each a first pass and two later passes.
    plan = [("cpu", f"s{k}", index) for index in (1, 2, 3) for k in range(10)]
    progress = Progress(config, total=30, plan=plan)  # type: ignore[arg-type]
    for _ in range(10):
        progress.finished(6.0)  # every first pass: 6 s
    assert progress.left() == 20 * 6.0  # no later pass seen yet: each as long as its first
    for seconds in (0.01, 0.01, 0.01, 3.0):  # three skipped, one run
        progress.finished(seconds)
    # 16 later passes left, each expected to take the mean of those so far.
    assert progress.left() == pytest.approx(16 * (3.03 / 4))


def test_the_estimate_uses_each_workloads_own_first_passes() -> None:
    config = SimpleNamespace(pluginmanager=SimpleNamespace(get_plugin=lambda name: None))
    plan = [("sleep", "a", 1), ("sleep", "b", 1), ("cpu", "c", 1), ("cpu", "d", 1)]
    progress = Progress(config, total=4, plan=plan)  # type: ignore[arg-type]
    progress.finished(1.0)
    progress.finished(1.0)
    progress.finished(10.0)
    assert progress.left() == 10.0  # the cpu one left, like the cpu one that ran
