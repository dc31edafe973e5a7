"""The evidence scripts decide what their figures say, and refuse what they cannot read."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from scripts.evidence import dask_gap, harness_overhead, plain_drift

REFERENCE = Path(__file__).resolve().parent.parent / "scripts/evidence/dask_gap"


def test_harness_verdict_follows_the_interval_not_the_point() -> None:
    steady = [1.0, 1.01, 0.99, 1.0, 1.02, 0.98, 1.0, 1.01]
    assert "within 1.3x" in harness_overhead.verdict("asyncio", [1.1 * t for t in steady],
                                                     steady)
    assert "above 1.3x" in harness_overhead.verdict("asyncio", [2.0 * t for t in steady],
                                                    steady)
    # Chaotic rounds on both sides: the point estimate is near 1, the interval is not.
    chaotic = [1.7, 16.0, 4.7, 9.1, 2.8, 5.7, 2.1, 12.0]
    plain = [5.6, 2.3, 3.3, 3.6, 2.4, 5.5, 3.0, 4.4]
    line = harness_overhead.verdict("threads", chaotic, plain)
    assert "inconclusive: the interval straddles 1.3x" in line


def test_harness_verdict_without_enough_rounds_is_inconclusive() -> None:
    assert "inconclusive" in harness_overhead.verdict("threads", [1.0], [1.0])


def _turn(side: str, seq: float, thr: float) -> dict[str, object]:
    rounds = {"sequential": [seq] * 6, "threads": [thr] * 6}
    return {"side": side, "rounds": {"cpu": rounds, "http": rounds}}


def test_plain_drift_compares_the_two_sides_spread_from_run_to_run() -> None:
    steady = [_turn("suite", 1.0, 0.5), _turn("plain", 1.0, 0.5), _turn("plain", 1.0, 0.5),
              _turn("suite", 1.0, 0.55)]
    moving = [_turn("suite", 1.0, 0.5), _turn("plain", 1.0, 0.4), _turn("plain", 1.0, 0.6),
              _turn("suite", 1.0, 0.5)]
    text = plain_drift.report(steady, max_rounds=10)
    assert "| 4 | suite | cpu | 1000.0 | 550.0 | 1.818 | 6+6 |" in text
    assert "passes of 6+4 rounds" in text
    assert "- cpu: the suite's speedups moved more from run to run than the plain" in text
    assert "- cpu: the suite's speedups moved less" in plain_drift.report(moving, 10)
    assert plain_drift.plan(10) == [6, 4] and plain_drift.plan(16) == [6, 4, 4, 2]


def test_plain_drift_refuses_a_single_run(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        plain_drift.main(["--runs", "1"])
    assert exited.value.code == 2
    assert "--runs must be at least 2" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exited:
        plain_drift.main(["--max-rounds", "5"])
    assert exited.value.code == 2


def test_dask_gap_reads_the_committed_probe() -> None:
    rows = dask_gap.rows_of(REFERENCE / "default-1.json")
    by_runner = {row["runner"]: row for row in rows}
    assert set(by_runner) == set(dask_gap.RUNNERS)
    assert by_runner["sequential"]["speedup"] == 1
    share = str(by_runner["dask"]["dask / processes speedup"])
    low, high = (float(x) for x in share.split("(")[1].rstrip(")").split("-"))
    point = float(share.split()[0])
    assert low <= point <= high


def test_dask_gap_refuses_a_run_without_dask(tmp_path: Path) -> None:
    data = json.loads((REFERENCE / "default-1.json").read_text())
    data["benchmarks"] = [b for b in data["benchmarks"] if b["extra_info"]["runner"] != "dask"]
    path = tmp_path / "no-dask.json"
    path.write_text(json.dumps(data))
    with pytest.raises(SystemExit, match="has no dask rows"):
        dask_gap.rows_of(path)


def test_test_durations_sums_each_file_and_lists_the_slowest(tmp_path: Path) -> None:
    from scripts.evidence import test_durations

    junit = tmp_path / "junit.xml"
    junit.write_text(
        '<testsuites><testsuite name="pytest">'
        '<testcase classname="tests.test_a" name="test_one" time="2.5"/>'
        '<testcase classname="tests.test_a" name="test_two" time="1.0"><skipped/></testcase>'
        '<testcase classname="tests.test_b" name="test_three" time="4.0"><failure/></testcase>'
        '</testsuite></testsuites>')
    out = tmp_path / "durations.json"
    assert test_durations.main(["--junit", str(junit), "--wall-s", "3.2", "--out",
                                str(out)]) == 0
    found = json.loads(out.read_text())
    assert found["files"] == {"tests/test_b.py": 4.0, "tests/test_a.py": 3.5}
    assert found["outcomes"] == {"passed": 1, "failed": 1, "skipped": 1}
    assert found["slowest"][0] == {"test": "tests/test_b.py::test_three", "seconds": 4.0}
    assert found["wall_s"] == 3.2 and found["test_seconds"] == 7.5


def test_gil_threads_counts_the_suite_turns_within_ten_percent_of_plain() -> None:
    from scripts.evidence import gil_threads

    def turn(side: str, threads: float) -> dict[str, object]:
        return {"side": side, "concurrency": 2, "python": "python3",
                "sequential": {"wall": 1.0, "cpu": 1.0},
                "threads": {"wall": threads, "cpu": threads}}

    page = gil_threads.render([turn("plain", 1.0), turn("suite", 1.05), turn("suite", 2.0),
                               turn("plain", 1.0)])
    assert "| 2 | suite | 2 | 1.525 (1.050-2.000) | 1.525 (1.050-2.000) | 1 of 2 |" in page
    assert "| 2 | plain | 2 | 1.000 (1.000-1.000) | 1.000 (1.000-1.000) | 2 of 2 |" in page


def _gil_turn(side: str, ratio: float) -> dict[str, object]:
    return {"side": side, "concurrency": 2, "sequential": {"wall": 1.0, "cpu": 1.0},
            "threads": {"wall": ratio, "cpu": ratio}}


def test_gil_threads_contrast_puts_an_interval_on_the_suite_over_the_plain_script() -> None:
    from scripts.evidence import gil_threads
    plain = [_gil_turn("plain", r) for r in (0.95, 1.0, 1.05, 0.98, 1.02, 1.01)]
    doubled = [_gil_turn("suite", 2 * r) for r in (0.95, 1.0, 1.05, 0.98, 1.02, 1.01)]
    lines = gil_threads.contrast(plain + doubled)
    wall = next(line for line in lines if line.startswith("| 2 | wall"))
    low, high = (float(x) for x in wall.split("|")[4].split("-"))
    assert 1.8 < low <= 2.0 <= high < 2.2
    same = [_gil_turn("suite", r) for r in (1.0, 0.97, 1.03, 0.99, 1.04, 0.96)]
    wall = next(line for line in gil_threads.contrast(plain + same)
                if line.startswith("| 2 | wall"))
    low, high = (float(x) for x in wall.split("|")[4].split("-"))
    assert low < 1.0 < high
