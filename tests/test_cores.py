"""`--cores K`: the client and its workers pinned to K cores, the server left alone."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

import pytest

from bench.pinning import pinned
from bench.report.page import write_report
from tests.conftest import run_suite

CORES = len(os.sched_getaffinity(0))


@pytest.mark.skipif(CORES < 2, reason="needs at least 2 usable cores")
def test_pinning_holds_every_thread_for_the_duration_and_puts_the_masks_back() -> None:
    before = os.sched_getaffinity(0)
    seen: list[set[int]] = []
    with pinned(1):
        assert len(os.sched_getaffinity(0)) == 1
        worker = threading.Thread(target=lambda: seen.append(os.sched_getaffinity(0)))
        worker.start()
        worker.join()
    assert seen == [{sorted(before)[0]}]  # a thread started while pinned inherits the mask
    assert os.sched_getaffinity(0) == before


def test_more_cores_than_the_machine_lets_us_use_is_one_line_and_exit_2() -> None:
    result = run_suite("--benchmark-only", "--workload", "cpu", "--cores", str(CORES + 1))
    assert result.returncode != 0
    assert f"--cores: must be between 1 and {CORES}" in result.stdout + result.stderr


@pytest.mark.skipif(CORES < 2, reason="needs at least 2 usable cores")
def test_cores_runs_each_scenario_on_k_cores_and_the_report_shows_the_scaling(
        tmp_path: Path) -> None:
    out = tmp_path / "run.json"
    result = run_suite("--benchmark-only", "--workload", "cpu", "--runner",
                       "sequential,processes", "--concurrency", "2", "--tasks", "4",
                       "--cores", "1,2", "--rounds", "3", f"--benchmark-json={out}", "-q")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    infos = [b["extra_info"] for b in json.loads(out.read_text())["benchmarks"]]
    assert sorted((i["runner"], i["pinned_cores"]) for i in infos) == [
        ("processes", 1), ("processes", 2), ("sequential", 1), ("sequential", 2)]
    assert all(i["cores"] == i["pinned_cores"] for i in infos)  # the ideal used K
    write_report([out], tmp_path)
    report = (tmp_path / "REPORT.md").read_text()
    assert "## Scaling with cores" in report
    assert "| cpu | processes (" in report and "gain K=2 over K=1" in report
    assert "processes (fork) on 2 cores" in report or "on 2 cores" in report
