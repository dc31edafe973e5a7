"""Every verdict branch, fed small synthetic tables; and one real quick claims run."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from bench.claims import (
    CLAIMS,
    FAILS,
    HOLDS,
    INCONCLUSIVE,
    LIMITS,
    MISSING,
    c1_gather_waits,
    c2_failure_isolation,
    c3_inflight_cost,
    c4_scaling,
    c5_cpu,
    c6_gil_release,
    c7_hybrid,
    c8_blocking,
    c9_cold,
    c10_free_threaded_threads,
    c11_free_threaded_cost,
    c12_subinterpreters,
    c13_model_or_library,
    c14_distributed_task_size,
    c16_database,
    registry,
    verdicts,
)
from bench.claims.registry import CLAIMS_RUN, Claim, NoSizes, register_claim
from bench.report.claims import setup_costs_markdown
from tests.conftest import REPO

VERDICTS = {HOLDS, LIMITS, FAILS, INCONCLUSIVE}
NOISY = {"citable": False, "noise": 0.25}  # a row the report marks ⚠: it cannot decide


def rounds(median: float, spread: float = 0.01) -> list[float]:
    return [median * (1 + spread * k) for k in (-3, -2, -1, 0, 0, 1, 2, 3)]


def row(claim: str, runner: str, median: float, **fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "claim": claim, "runner": runner, "workload": "sleep", "tasks": 10, "concurrency": 2,
        "median_s": median, "q1_s": median * 0.99, "q3_s": median * 1.01,
        "rounds_data": rounds(median), "ideal_s": 0.0, "extra": {}, "cores": 2,
        "failure_rate": 0.0, "pss_mb": 50.0, "start_method": None, "blocking": False,
        "loop_lag_p99_s": float("nan"), "setup_s": 0.001, "teardown_s": 0.001,
        "timed_setup": claim == "c9_cold",
    }
    base.update(fields)
    base["tasks_per_s"] = base["tasks"] / median
    return base


def table(*rows: dict[str, Any]) -> pd.DataFrame:
    frame = pd.DataFrame(list(rows))
    baseline = frame[frame["runner"] == "sequential"].groupby(["claim", "workload"])[
        "median_s"].first().rename("baseline_s")
    frame = frame.join(baseline, on=["claim", "workload"])
    frame["speedup"] = frame["baseline_s"] / frame["median_s"]
    return frame


def gather(aio: float, seq: float = 3.0, **aio_fields: Any) -> pd.DataFrame:
    return table(row("c1_gather_waits", "sequential", seq, ideal_s=3.0, tasks=3),
                 row("c1_gather_waits", "asyncio", aio, ideal_s=1.0, tasks=3, **aio_fields),
                 row("c1_gather_waits", "threads", aio, ideal_s=1.0, tasks=3))


@pytest.mark.parametrize("aio, fields, expected", [
    (1.02, {}, HOLDS), (1.6, {}, LIMITS), (2.5, {}, FAILS), (3.0, {}, FAILS),
    (1.10, {}, INCONCLUSIVE),  # the interval straddles the 1.10 line
    (1.02, NOISY, INCONCLUSIVE),  # a ⚠ row cannot decide
    # ⌛ capped: its interval already carries the imprecision, and decides here ...
    (1.02, {"precise": False, "ci_half": 0.06}, HOLDS),
    # ... but not across the line, where the ⌛ is named among the reasons
    (1.10, {"precise": False, "ci_half": 0.06}, INCONCLUSIVE),
    (1.02, {"disturbed": True, "neighbours": 0.6}, INCONCLUSIVE),  # ⚡
])
def test_gather_waits(aio: float, fields: dict[str, Any], expected: str) -> None:
    found = c1_gather_waits.check(gather(aio, **fields))
    assert found.verdict == expected, found.evidence
    assert "95 % CI" in found.evidence and "1.10x line" in found.evidence


def test_an_inconclusive_verdict_says_why_and_what_would_settle_it() -> None:
    found = c1_gather_waits.check(gather(1.02, **NOISY))
    assert "asyncio: ⚠ noise 25%" in found.details
    assert "To settle:" in found.details


def isolation(buckets: dict[str, int]) -> pd.DataFrame:
    return table(row("c2_failure_isolation", "gather_return_exceptions", 0.3, tasks=10,
                     extra={"buckets": buckets}))


@pytest.mark.parametrize("buckets, expected", [
    ({"delivered_ok": 9, "delivered_failed": 1}, HOLDS),
    ({"delivered_failed": 1, "cancelled": 9}, FAILS),
    ({"delivered_ok": 7, "delivered_failed": 3}, INCONCLUSIVE),  # the server failed too
])
def test_failure_isolation(buckets: dict[str, int], expected: str) -> None:
    assert c2_failure_isolation.check(isolation(buckets)).verdict == expected


def inflight(aio_start: float, aio_kb: float, **aio_fields: Any) -> pd.DataFrame:
    def samples(kb: float) -> dict[str, Any]:
        return {"memory_per_task_kb": kb,
                "memory_samples_kb": [kb * f for f in (0.97, 0.98, 0.99, 1.0, 1.02, 1.03)]}

    return table(
        row("c3_inflight_cost", "asyncio", aio_start * 1000, tasks=1000, extra=samples(aio_kb),
            **aio_fields),
        row("c3_inflight_cost", "threads", 50e-6 * 1000, tasks=1000, extra=samples(10.0)))


@pytest.mark.parametrize("aio_start, aio_kb, fields, expected", [
    (2e-6, 1.0, {}, HOLDS), (2e-6, 10.0, {}, LIMITS), (50e-6, 10.0, {}, FAILS),
    (25e-6, 1.0, {}, INCONCLUSIVE),  # start-up 2.0x: the interval straddles the line
    (2e-6, 1.0, NOISY, INCONCLUSIVE),
])
def test_inflight_cost(aio_start: float, aio_kb: float, fields: dict[str, Any],
                       expected: str) -> None:
    found = c3_inflight_cost.check(inflight(aio_start, aio_kb, **fields))
    assert found.verdict == expected, found.evidence


def test_inflight_memory_without_samples_cannot_decide() -> None:
    frame = inflight(2e-6, 1.0)
    frame["extra"] = [{"memory_per_task_kb": 1.0}, {"memory_per_task_kb": 10.0}]
    found = c3_inflight_cost.check(frame)
    assert found.verdict == INCONCLUSIVE and "no interval" in found.evidence


def sweep(asyncio_top: float, threads_growth: bool, asyncio_failures: float = 0.0,
          **top_fields: Any) -> pd.DataFrame:
    """tasks=1 and median 1/level give throughput = level; `asyncio_top` scales the 10,000
    level against its 1,000 level's throughput (10 keeps scaling, 0.5 collapses)."""
    rows = []
    levels = (1, 10, 100, 1000, 10_000)
    for workload in ("sleep", "http"):
        for level in levels:
            aio = 1 / level if level < 10_000 else 1 / (1000 * asyncio_top)
            thr = 1 / level if threads_growth or level <= 100 else 1 / 100
            top = top_fields if level == 10_000 else {}
            rows.append(row("c4_scaling", "asyncio", aio, workload=workload, tasks=1,
                            concurrency=level,
                            failure_rate=asyncio_failures if level == 10_000 else 0.0, **top))
            rows.append(row("c4_scaling", "threads", thr, workload=workload, tasks=1,
                            concurrency=level))
    return table(*rows)


@pytest.mark.parametrize("asyncio_top, threads_growth, failures, fields, expected", [
    (10.0, False, 0.0, {}, HOLDS),   # asyncio keeps scaling, threads flatten at 100
    (10.0, True, 0.0, {}, LIMITS),   # threads scale to 10,000 as well
    (10.0, False, 0.2, {}, FAILS),   # asyncio loses tasks at 10,000
    (0.5, False, 0.0, {}, LIMITS),   # asyncio completes 10,000 but slows down there
    (10.0, False, 0.0, NOISY, INCONCLUSIVE),  # its top level too noisy to say it keeps pace
    (0.8, False, 0.0, {}, INCONCLUSIVE),  # 80 % of its best: on the line
])
def test_scaling(asyncio_top: float, threads_growth: bool, failures: float,
                 fields: dict[str, Any], expected: str) -> None:
    found = c4_scaling.check(sweep(asyncio_top, threads_growth, failures, **fields))
    assert found.verdict == expected, found.evidence


def speedups(claim: str, aio: float, thr: float, proc: float,
             **thr_fields: Any) -> pd.DataFrame:
    return table(row(claim, "sequential", 1.0, concurrency=1), row(claim, "asyncio", 1 / aio),
                 row(claim, "threads", 1 / thr, **thr_fields),
                 row(claim, "processes", 1 / proc))


@pytest.mark.parametrize("aio, thr, proc, fields, expected", [
    (1.0, 1.0, 1.9, {}, HOLDS), (1.0, 1.9, 1.9, {}, LIMITS), (1.5, 1.9, 1.0, {}, FAILS),
    (1.0, 1.10, 1.9, {}, INCONCLUSIVE),  # threads on the 'no gain' line
    (1.0, 1.0, 1.9, NOISY, INCONCLUSIVE),
    (1.5, 1.9, 1.0, NOISY, FAILS),  # two parts fail: the third cannot change that
])
def test_cpu_bound(aio: float, thr: float, proc: float, fields: dict[str, Any],
                   expected: str) -> None:
    found = c5_cpu.check(speedups("c5_cpu", aio, thr, proc, **fields))
    assert found.verdict == expected, found.evidence


@pytest.mark.parametrize("thr, fields, expected", [
    (1.9, {}, HOLDS), (1.3, {}, LIMITS), (1.0, {}, FAILS), (1.5, {}, INCONCLUSIVE),
    (1.9, {"failed_scenario": True}, INCONCLUSIVE)])
def test_gil_release(thr: float, fields: dict[str, Any], expected: str) -> None:
    found = c6_gil_release.check(speedups("c6_gil_release", 1.0, thr, 1.9, **fields))
    assert found.verdict == expected, found.evidence


def hybrid(hybrid_s: float, hybrid_lag: float, **hybrid_fields: Any) -> pd.DataFrame:
    rows = []
    for workload in ("cpu", "mixed"):
        rows.append(row("c7_hybrid", "asyncio", 1.0, workload=workload, loop_lag_p99_s=0.06,
                        lag_rounds=rounds(0.06)))
        rows.append(row("c7_hybrid", "hybrid", hybrid_s, workload=workload,
                        loop_lag_p99_s=hybrid_lag, lag_rounds=rounds(hybrid_lag),
                        **hybrid_fields))
    return table(*rows)


@pytest.mark.parametrize("hybrid_s, lag, fields, expected", [
    (0.5, 0.001, {}, HOLDS), (1.0, 0.001, {}, LIMITS), (0.5, 0.05, {}, FAILS),
    (1.0, 0.05, {}, FAILS), (0.5, 0.001, NOISY, INCONCLUSIVE),
    (1 / 1.1, 0.001, {}, INCONCLUSIVE)])
def test_hybrid(hybrid_s: float, lag: float, fields: dict[str, Any], expected: str) -> None:
    found = c7_hybrid.check(hybrid(hybrid_s, lag, **fields))
    assert found.verdict == expected, found.evidence


def blocking(bad_s: float, bad_lag: float, **bad_fields: Any) -> pd.DataFrame:
    rows = []
    for workload in ("sleep", "http"):
        rows.append(row("c8_blocking", "asyncio", 0.04, workload=workload, tasks=32,
                        concurrency=16, ideal_s=0.04, loop_lag_p99_s=0.0002))
        rows.append(row("c8_blocking", "asyncio", bad_s, workload=workload, tasks=32,
                        concurrency=16, ideal_s=0.04, blocking=True, loop_lag_p99_s=bad_lag,
                        lag_rounds=[] if bad_lag != bad_lag else rounds(bad_lag),
                        **bad_fields))
    return table(*rows)


@pytest.mark.parametrize("bad_s, lag, fields, expected", [
    (0.64, 0.6, {}, HOLDS), (0.64, float("nan"), {}, HOLDS), (0.04, 0.0002, {}, FAILS),
    (0.08, 0.6, {}, INCONCLUSIVE),  # twice the awaiting round: on the line
    (0.64, 0.6, NOISY, INCONCLUSIVE)])
def test_blocking(bad_s: float, lag: float, fields: dict[str, Any], expected: str) -> None:
    found = c8_blocking.check(blocking(bad_s, lag, **fields))
    assert found.verdict == expected, found.evidence


def scripts(per_call: dict[int, float], speedup: dict[int, float],
            **aio_fields: Any) -> pd.DataFrame:
    """Claim 9's one-off script rows: at each delay (ms), sequential takes 0.3 s of
    start-up plus the calls one after another; asyncio `speedup[delay]` times as fast."""
    rows = []
    for delay, seconds in per_call.items():
        for calls in (1, 2, 4):
            seq = 0.3 + seconds * calls
            base = {"workload": "script", "params": f"delay_ms={delay}", "tasks": calls}
            rows.append(row("c9_cold", "sequential", seq, **base))
            rows.append(row("c9_cold", "asyncio", seq / speedup[delay], **base, **aio_fields))
    return table(*rows)


@pytest.mark.parametrize("per_call, speedup, fields, expected", [
    ({10: 0.01, 1000: 1.0}, {10: 1.0, 1000: 1.0}, {}, HOLDS),  # never faster
    ({10: 0.01, 1000: 1.0}, {10: 1.05, 1000: 3.0}, {}, LIMITS),  # worth it at 1 s a call
    ({1000: 1.0}, {1000: 3.0}, {}, FAILS),
    ({10: 0.01}, {10: 1.2}, {}, HOLDS),  # faster, but saves too little to notice
    ({1000: 1.0}, {1000: 1.10}, {}, INCONCLUSIVE),  # on the line
    ({1000: 1.0}, {1000: 3.0}, NOISY, INCONCLUSIVE),
])
def test_one_off_script(per_call: dict[int, float], speedup: dict[int, float],
                        fields: dict[str, Any], expected: str) -> None:
    found = c9_cold.check(scripts(per_call, speedup, **fields))
    assert found.verdict == expected, found.evidence
    assert "fresh interpreter" in found.evidence  # the scope is stated


def test_in_process_cold_rows_do_not_decide_but_are_listed() -> None:
    frame = scripts({10: 0.01}, {10: 1.0})
    cold = [row("c9_cold", "asyncio", 0.06 * calls, tasks=calls, workload="http",
                params="delay_ms=50", setup_s=0.02, teardown_s=0.001) for calls in (1, 4)]
    both = pd.concat([frame, table(*cold)], ignore_index=True)
    assert c9_cold.check(both).verdict == HOLDS
    listed = setup_costs_markdown(both)
    assert "| asyncio | 4 | 240 ms | 20.0 ms | 1.00 ms | yes |" in listed


def test_missing_claims_say_so() -> None:
    empty = table(row("other", "sequential", 1.0))
    assert {verdict.verdict for verdict in verdicts(empty)} == {MISSING}


def test_claims_register_by_number_and_own_their_sizes() -> None:
    assert [claim.number for claim in CLAIMS] == list(range(1, len(CLAIMS) + 1))
    for claim in CLAIMS:
        assert type(claim.quick) is type(claim.sizes), claim.key
        full, quick = claim.scenarios(claim.sizes), claim.scenarios(claim.quick)
        assert bool(full) == bool(quick), claim.key  # --quick keeps every claim's shape
        assert {s.runner for s in quick} == {s.runner for s in full}, claim.key
        assert all(s.claim == claim.key for s in full), claim.key
        if full:
            assert not isinstance(claim.sizes, NoSizes), claim.key


def test_register_claim_refuses_a_bad_key_a_taken_number_and_half_sizes(
        monkeypatch: pytest.MonkeyPatch) -> None:
    def check(table: Any) -> Any:
        return None

    def panel(ax: Any, table: Any) -> None:
        return None

    with pytest.raises(ValueError, match="is not c<number>_<name>"):
        register_claim("cpu_claim", "a statement", panel)(check)
    with pytest.raises(ValueError, match="taken by c5_cpu"):
        register_claim("c5_again", "a statement", panel)(check)
    with pytest.raises(ValueError, match="quick sizes"):
        register_claim("c99_half", "a statement", panel, sizes=c5_cpu.FULL)(check)
    monkeypatch.setattr(registry, "REGISTERED", dict(registry.REGISTERED))
    assert register_claim("c99_new", "a statement", panel)(check) is check
    assert registry.REGISTERED["c99_new"].number == 99
    assert "c99_new" not in [claim.key for claim in CLAIMS]  # the test's own copy only


def test_real_quick_claims_run_gives_a_verdict_per_claim(tmp_path: Path) -> None:
    out = tmp_path / "claims.json"
    run = subprocess.run([sys.executable, "-m", "pytest", "bench/claims_suite.py",
                          "--benchmark-only", "--quick", "-q", f"--benchmark-json={out}"],
                         cwd=REPO, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
    report = subprocess.run([sys.executable, "scripts/report.py", str(out)], cwd=REPO,
                            capture_output=True, text=True, timeout=300)
    assert report.returncode == 0, report.stderr
    text = (tmp_path / "claims.md").read_text()
    verdict_cells = [line.split("|")[3].strip().strip("*") for line in text.splitlines()
                     if line.startswith("| ") and line.split("|")[1].strip().isdigit()]
    assert len(verdict_cells) == len([c for c in CLAIMS if CLAIMS_RUN in c.runs])
    assert set(verdict_cells) <= VERDICTS | {MISSING}
    assert "## Claims" in (tmp_path / "REPORT.md").read_text()
    assert (tmp_path / "claims.png").read_bytes().startswith(b"\x89PNG")
    check_header_matches_rows(out, (tmp_path / "REPORT.md").read_text())


def check_header_matches_rows(run: Path, report: str) -> None:
    """The REPORT header names what the rows hold: every kind of timed region, the rounds
    as run, every start method, server and client, and each client's version."""
    header = report.split("## Workloads")[0]
    records = [b["extra_info"] for b in json.loads(run.read_text())["benchmarks"]]
    rounds = [len(b["stats"]["data"]) for b in json.loads(run.read_text())["benchmarks"]]
    assert any(r.get("timed_setup") for r in records) and not all(
        r.get("timed_setup") for r in records)  # the run has mixed rows
    assert "warm: event loop" in header and "cold: the loop" in header
    assert "a whole one-off script: a fresh interpreter" in header
    assert f"As run: {min(rounds)} to {max(rounds)} counted rounds" in header
    for method in {r["start_method"] for r in records if r.get("start_method")}:
        assert method in header.split("**Process start method**")[1].split("\n")[0]
    http_line = header.split("**HTTP clients**")[1].split("\n")[0]
    for server in {r["server"] for r in records if r.get("server")}:
        assert server in http_line.split("server:")[-1]
    libraries = header.split("**Libraries**")[1].split("\n")[0]
    for client in {r["client"] for r in records if r.get("client")}:
        assert client in http_line
        assert re.search(rf"\b{client} \d", libraries), client


def interpreter_rows(label: str, free: bool, threads: float, processes: float,
                     seq: float = 1.0, subs: float | None = None,
                     **fields: Any) -> list[dict[str, Any]]:
    """Matrix rows of the cpu workload on one interpreter: speedups over `seq` seconds."""
    common = {"workload": "cpu", "interpreter": label, "free_threaded_build": free,
              "gil_enabled": not free, "failed_scenario": False, "tasks": 16,
              "python_compiler": "GCC 12.2.0", "config_args": "'--prefix=/x' '--enable-shared'"
              + (" '--disable-gil'" if free else ""), **fields}
    def opened(setup_s: float, pss_mb: float) -> dict[str, Any]:
        return {"setup_s": setup_s,
                "setup_samples": [setup_s * k for k in (0.97, 0.98, 0.99, 1, 1.01, 1.02)],
                "open_pss_samples": [pss_mb * k for k in (0.99, 0.995, 1, 1.005, 1.01, 1.02)]}

    rows = [row("", "sequential", seq, concurrency=1, pss_mb=50.0, **opened(0.0, 0.0),
                **common),
            row("", "threads", seq / threads, pss_mb=52.0, **opened(0.001, 2.0), **common),
            row("", "processes", seq / processes, pss_mb=130.0, **opened(0.05, 80.0),
                **common)]
    if subs is not None:
        rows.append(row("", "interpreters", seq / subs, pss_mb=80.0, **opened(0.02, 30.0),
                        **common))
    return rows


def interpreters(*groups: list[dict[str, Any]]) -> pd.DataFrame:
    return pd.DataFrame([r for group in groups for r in group])


@pytest.mark.parametrize("gil_threads, free_threads, expected", [
    (1.0, 1.85, HOLDS),  # GIL: no gain; free-threaded: like processes (1.9)
    (1.0, 1.2, FAILS),  # free-threaded threads well short of processes
    (1.6, 1.85, LIMITS),  # free-threaded fine, but the GIL build gained too
    (1.0, 1.52, INCONCLUSIVE),  # 80 % of the processes' speedup: on the line
])
def test_free_threaded_threads(gil_threads: float, free_threads: float, expected: str) -> None:
    frame = interpreters(interpreter_rows("3.13.5", False, gil_threads, 1.9),
                         interpreter_rows("3.13.5t", True, free_threads, 1.9))
    found = c10_free_threaded_threads.check(frame)
    assert found.verdict == expected, found.evidence


def test_free_threaded_threads_needs_a_free_threaded_build() -> None:
    frame = interpreters(interpreter_rows("3.11.7", False, 1.0, 1.9))
    assert c10_free_threaded_threads.check(frame).verdict == MISSING


@pytest.mark.parametrize("gil, free_seq, free_fields, expected", [
    ("3.13.5", 1.3, {}, HOLDS), ("3.13.5", 1.0, {}, FAILS),
    ("3.13.5", 1.05, {}, INCONCLUSIVE),  # on the line
    ("3.13.0", 1.3, {}, INCONCLUSIVE),  # another patch level: not only the GIL differs
    ("3.13.5", 1.3, {"python_compiler": "Clang 17"}, INCONCLUSIVE),
    ("3.13.5", 1.3, {"config_args": "'--prefix=/y' '--disable-gil' '--with-lto'"},
     INCONCLUSIVE),
])
def test_free_threaded_cost(gil: str, free_seq: float, free_fields: dict[str, Any],
                            expected: str) -> None:
    frame = interpreters(interpreter_rows(gil, False, 1.0, 1.9),
                         interpreter_rows("3.13.5t", True, 1.85, 1.9, seq=free_seq,
                                          **free_fields))
    found = c11_free_threaded_cost.check(frame)
    assert found.verdict == expected, found.evidence + found.details


def test_free_threaded_cost_pairs_the_same_patch_level_when_the_run_has_it() -> None:
    frame = interpreters(interpreter_rows("3.13.0", False, 1.0, 1.9, seq=2.0),
                         interpreter_rows("3.13.5", False, 1.0, 1.9),
                         interpreter_rows("3.13.5t", True, 1.85, 1.9, seq=1.3))
    found = c11_free_threaded_cost.check(frame)
    assert found.verdict == HOLDS and "3.13.0" not in found.evidence


def test_everything_two_interpreter_columns_differ_in_is_named() -> None:
    base = {"binary": "3.13.5 (source)", "free_threaded_build": False, "origin": "source",
            "python_compiler": "GCC 12.2.0", "config_args": "'--prefix=/a'", "settings": ""}
    free = {**base, "binary": "3.13.5t (source)", "free_threaded_build": True,
            "config_args": "'--disable-gil' '--prefix=/b'"}
    assert c11_free_threaded_cost.differences(base, free) == ["GIL build / free-threaded build"]
    switched = {**free, "settings": "PYTHON_GIL=1"}
    assert c11_free_threaded_cost.differences(free, switched) == ["settings"]
    debian = {**base, "binary": "3.14.10 (Debian)", "origin": "Debian",
              "python_compiler": "GCC 16.2.0", "config_args": "'--prefix=/usr' '--with-lto'"}
    assert c11_free_threaded_cost.differences(base, debian) == [
        "version", "who built it", "compiler", "configure flags"]
    # A free-threaded build paired with a GIL build from other hands is confounded.
    assert any("different hands" in found for found in c11_free_threaded_cost.confounds(
        "3.13.5 (Debian)", "3.13.5t (source)", {**base, "origin": "Debian"}, free))


def test_free_threaded_cost_is_decided_by_builds_and_shows_the_one_binary_switch() -> None:
    """The binary with PYTHON_GIL=1 is not a free-threaded build with the GIL off: it is
    shown against the same binary with the GIL off, and the verdict is the builds' pair."""
    frame = interpreters(
        interpreter_rows("3.13.5 (source)", False, 1.0, 1.9, binary="3.13.5 (source)"),
        interpreter_rows("3.13.5t (source)", True, 1.85, 1.9, seq=1.3,
                         binary="3.13.5t (source)"),
        interpreter_rows("3.13.5t (source) PYTHON_GIL=1", True, 1.0, 1.9, seq=1.28,
                         gil_enabled=True, binary="3.13.5t (source)"))
    found = c11_free_threaded_cost.check(frame)
    assert found.verdict == HOLDS, found.evidence
    assert "sequential cpu round 3.13.5t (source) / 3.13.5 (source)" in found.evidence
    assert ("one binary: sequential cpu round 3.13.5t (source) / 3.13.5t (source) "
            "PYTHON_GIL=1") in found.evidence
    assert "PYTHON_GIL=1 / 3.13.5" not in found.evidence  # never paired as a build


@pytest.mark.parametrize("subs, fields, expected", [
    (1.85, {}, HOLDS), (1.0, {}, FAILS), (1.52, {}, INCONCLUSIVE),
    (1.85, {"disturbed": True, "neighbours": 0.5}, INCONCLUSIVE)])
def test_subinterpreters(subs: float, fields: dict[str, Any], expected: str) -> None:
    frame = interpreters(interpreter_rows("3.13.0", False, 1.0, 1.9, subs=subs, **fields))
    found = c12_subinterpreters.check(frame)
    assert found.verdict == expected, found.evidence


def test_subinterpreters_costlier_to_start_hold_with_limits_and_one_reading_cannot_say() -> None:
    frame = interpreters(interpreter_rows("3.13.0", False, 1.0, 1.9, subs=1.85))
    subs = frame.index[frame["runner"] == "interpreters"][0]
    # slower to start than processes
    frame.at[subs, "setup_samples"] = [0.3, 0.305, 0.31, 0.315, 0.32, 0.33]
    assert c12_subinterpreters.check(frame).verdict == LIMITS
    frame.at[subs, "setup_samples"] = [0.02]  # one reading: no interval
    found = c12_subinterpreters.check(frame)
    assert found.verdict == INCONCLUSIVE and "too few values for an interval" in found.details


def library(threads_s: dict[tuple[str, str], float], aio_s: dict[tuple[str, str], float]
            | None = None, both: str = "httpx") -> pd.DataFrame:
    """Claim 13 rows: asyncio with each async client against each server at
    `aio_s[(server, client)]` (100 ms where not named), threads with each sync client at
    `threads_s[(server, client)]` (100 ms where not named); `both` is the library that
    serves both sides."""
    key = c13_model_or_library.KEY
    aio_s = aio_s or {}
    rows = []
    for server in ("aiohttp", "uvicorn"):
        base = {"workload": "http", "server": server, "concurrency": 32, "tasks": 256}
        rows += [row(key, "asyncio", aio_s.get((server, client), 0.1), client=client, **base)
                 for client in ("aiohttp", both)]
        rows += [row(key, "threads", threads_s.get((server, client), 0.1), client=client,
                     **base) for client in (both, "requests")]
    return table(*rows)


EVERY = [(server, client) for server in ("aiohttp", "uvicorn") for client in ("httpx",
                                                                              "requests")]


@pytest.mark.parametrize(("threads_s", "aio_s", "expected"), [
    (dict.fromkeys(EVERY, 0.15), {}, HOLDS),
    ({**dict.fromkeys(EVERY, 0.15), ("uvicorn", "httpx"): 0.1}, {}, LIMITS),
    ({}, {}, FAILS),  # the same library on both sides: no edge
    ({("aiohttp", "httpx"): 0.07}, {}, FAILS),  # threads ahead with the same library
    ({("aiohttp", "httpx"): 0.11}, {}, INCONCLUSIVE),  # 1.10x: on the line
    # httpx's async side is 3x slower than aiohttp's while its sync side keeps up with
    # requests: the same-library pairing measures httpx, not the model.
    (dict.fromkeys(EVERY, 0.15), {("aiohttp", "httpx"): 0.3, ("uvicorn", "httpx"): 0.3},
     INCONCLUSIVE),
])
def test_model_or_library(threads_s: dict[tuple[str, str], float],
                          aio_s: dict[tuple[str, str], float], expected: str) -> None:
    found = c13_model_or_library.check(library(threads_s, aio_s))
    assert found.verdict == expected, found.evidence + found.details
    assert len(c13_model_or_library.pairings(library(threads_s))) == 8


def test_model_or_library_names_the_clients_not_only_the_servers() -> None:
    found = c13_model_or_library.check(
        library({}, {("aiohttp", "httpx"): 0.3, ("uvicorn", "httpx"): 0.3}))
    assert "aiohttp server, threads+httpx / asyncio+httpx" in found.evidence
    assert "httpx is uneven across the sides" in found.details
    assert "aiohttp server, threads+requests / asyncio+aiohttp" in found.details


TASK_SIZES = (0.0001, 0.001, 0.01, 0.1)


def task_sizes(dask: tuple[float, ...], processes: float = 1.8,
               **dask_fields: Any) -> pd.DataFrame:
    """Claim 14 rows: at each of TASK_SIZES, sequential runs 8 tasks of that size and dask
    is `dask[i]` times as fast; the process pool `processes` times (1.0 below 1 ms)."""
    key = c14_distributed_task_size.KEY
    rows = []
    for task_s, speedup in zip(TASK_SIZES, dask, strict=True):
        seq = 8 * task_s + 0.01
        base = {"workload": "cpu", "params": f"n={int(task_s * 1e7)}", "task_s": task_s,
                "tasks": 8}
        rows += [row(key, "sequential", seq, **base),
                 row(key, "processes", seq / (processes if task_s >= 0.001 else 1.0),
                     task_overhead_s=0.0002, setup_s=0.015, **base),
                 row(key, "dask", seq / speedup, task_overhead_s=0.01, setup_s=1.0, **base,
                     **dask_fields)]
    return table(*rows)


@pytest.mark.parametrize(("dask", "fields", "expected", "crossover"), [
    ((0.1, 0.5, 1.5, 1.9), {}, HOLDS, 0.01),
    ((0.1, 1.5, 0.9, 1.9), {}, HOLDS, 0.1),  # a win that does not last is not the crossover
    ((1.5, 1.6, 1.7, 1.9), {}, FAILS, 0.0001),  # no threshold: pays off at every size
    ((0.1, 0.2, 0.5, 0.9), {}, FAILS, None),  # never pays off
    ((0.1, 1.1, 1.5, 1.9), {}, INCONCLUSIVE, 0.01),  # the size below the crossover: on the line
    ((0.1, 0.5, 1.5, 1.9), NOISY, INCONCLUSIVE, None),
])
def test_distributed_task_size(dask: tuple[float, ...], fields: dict[str, Any], expected: str,
                               crossover: float | None) -> None:
    frame = task_sizes(dask, **fields)
    assert c14_distributed_task_size.crossover(
        frame[frame["claim"] == c14_distributed_task_size.KEY], "dask") == crossover
    found = c14_distributed_task_size.check(frame)
    assert found.verdict == expected, found.evidence + found.details
    assert "dask 10 ms, process pool 0.2 ms" in found.evidence


def test_distributed_task_size_without_dask_is_not_measured() -> None:
    frame = task_sizes((0.1, 0.5, 1.5, 1.9))
    assert c14_distributed_task_size.check(frame[frame["runner"] != "dask"]).verdict == MISSING


def service_sweep(single: float, parallel: float) -> pd.DataFrame:
    from bench.claims.kit import remember_runners
    from tests.test_service import _service_rows

    remember_runners({})  # the registry's runners: asyncio single, procs-asyncio parallel
    return pd.DataFrame(_service_rows("asyncio", single) + _service_rows("procs-asyncio",
                                                                         parallel))


def database(ratios: dict[int, float], api: str = "orm", **thread_fields: Any) -> pd.DataFrame:
    """Claim 16's rows: asyncio at 1 s per round and threads at `ratio` s, per level."""
    rows = []
    for level, value in ratios.items():
        common = {"workload": "db", "concurrency": level, "tasks": 1000, "solo_task_s": 0.005,
                  "server_load": 0.2, "params": f"api={api}, pool=10, rows=1000"}
        rows.append(row("c16_database", "asyncio", 1.0, **common))
        rows.append(row("c16_database", "threads", value, **(common | thread_fields)))
    return table(*rows)


@pytest.mark.parametrize("ratios, fields, expected", [
    ({10: 1.02, 100: 1.05, 1000: 1.5}, {}, HOLDS),  # behind only at a thousand: as claimed
    ({10: 1.02, 100: 1.5}, {}, FAILS),  # asyncio ahead well below a thousand
    ({10: 0.8, 100: 1.1}, {}, INCONCLUSIVE),  # an interval across the line
    ({10: 1.02, 100: 1.5}, {"server_load": 0.95}, INCONCLUSIVE),  # PostgreSQL was full
    ({10: 1.02, 100: 1.5}, NOISY, INCONCLUSIVE),
])
def test_database(ratios: dict[int, float], fields: dict[str, Any], expected: str) -> None:
    found = c16_database.check(database(ratios, **fields))
    assert found.verdict == expected, found.evidence + " | " + found.details


def test_database_names_where_asyncio_pulls_ahead_and_when_the_pool_decided() -> None:
    found = c16_database.check(database({10: 1.02, 100: 1.05, 1000: 1.5}))
    assert "asyncio ahead (beyond 1.10x) from C=1000" in found.details
    # 1,000 tasks a second against a pool of 10 at 5 ms a task (2,000 a second): not bound;
    # at 1 ms a task and a 10-connection pool the ceiling is 10,000 a second, not bound
    # either; at 50 ms a task the ceiling is 200 a second and 1,000 achieved is "bound".
    bound = database({10: 1.5}, solo_task_s=0.05)
    bound.loc[bound["runner"] == "asyncio", "solo_task_s"] = 0.05
    found = c16_database.check(bound)
    assert found.verdict == INCONCLUSIVE and "pool's ceiling" in found.details


def served_database(sync: float, asyn: float,
                    async_runner: str = "app-uvicorn-workers") -> pd.DataFrame:
    """The CRUD service deployed: gunicorn gthread (sync ORM) and uvicorn's workers (async
    ORM), each swept by --rate auto up to its capacity (requests a second) and bisected."""
    from tests.test_service import _service_rows

    rows = _service_rows("app-gunicorn-gthread", sync) + \
        _service_rows(async_runner, asyn)
    return pd.DataFrame([{**found, "workload": "db", "params": "api=orm, pool=16"}
                         for found in rows])


@pytest.mark.parametrize("sync, asyn, expected", [
    (300.0, 200.0, HOLDS),  # sync serves more: within 10 % whatever the brackets' ends
    (100.0, 300.0, FAILS),  # async's bracket wholly above 1.10x sync's
    (200.0, 200.0, HOLDS),  # the same bracket, 200-218: their ratio under 1.09x
    (200.0, 240.0, INCONCLUSIVE),  # async 238-259 against sync 200-218: 1.09x-1.30x
])
def test_database_served_side_reads_saturation_brackets(sync: float, asyn: float,
                                                        expected: str) -> None:
    found = c16_database.check(served_database(sync, asyn))
    assert found.verdict == expected, found.evidence + " | " + found.details
    assert "app-uvicorn-workers / app-gunicorn-gthread (orm): saturation under the SLO" in \
        found.evidence


def test_database_one_uvicorn_process_against_gthread_workers_decides_nothing() -> None:
    found = c16_database.check(served_database(100.0, 300.0, async_runner="app-uvicorn"))
    assert found.verdict == INCONCLUSIVE
    assert "one process against several: shown, decides nothing" in found.details


def test_database_batch_and_served_sides_decide_together() -> None:
    both = pd.concat([database({10: 1.02, 100: 1.05}), served_database(100.0, 300.0)])
    found = c16_database.check(both)
    assert found.verdict == FAILS  # the batch side holds, the served side does not
    assert "served: C=16: app-uvicorn-workers / app-gunicorn-gthread" in found.evidence
    agree = c16_database.check(pd.concat([database({10: 1.02, 100: 1.05}),
                                          served_database(300.0, 200.0)]))
    assert agree.verdict == HOLDS


# Data on which each claim is false, and on which it cannot be decided; every registered
# claim must have both.
FALSE_DATA = {
    "c1_gather_waits": lambda: gather(3.0),
    "c2_failure_isolation": lambda: isolation({"delivered_failed": 1, "cancelled": 9}),
    "c3_inflight_cost": lambda: inflight(50e-6, 10.0),
    "c4_scaling": lambda: sweep(10.0, False, 0.2),
    "c5_cpu": lambda: speedups("c5_cpu", 1.5, 1.9, 1.0),
    "c6_gil_release": lambda: speedups("c6_gil_release", 1.0, 1.0, 1.9),
    "c7_hybrid": lambda: hybrid(1.0, 0.05),
    "c8_blocking": lambda: blocking(0.04, 0.0002),
    "c9_cold": lambda: scripts({1000: 1.0}, {1000: 3.0}),
    "c10_free_threaded_threads": lambda: interpreters(
        interpreter_rows("3.13.5", False, 1.0, 1.9), interpreter_rows("3.13.5t", True, 1.0, 1.9)),
    "c11_free_threaded_cost": lambda: interpreters(
        interpreter_rows("3.13.5", False, 1.0, 1.9), interpreter_rows("3.13.5t", True, 1.9, 1.9)),
    "c12_subinterpreters": lambda: interpreters(
        interpreter_rows("3.13.0", False, 1.0, 1.9, subs=1.0)),
    "c13_model_or_library": lambda: library({("aiohttp", "httpx"): 0.05}),
    "c14_distributed_task_size": lambda: task_sizes((1.5, 1.6, 1.7, 1.9)),
    "c15_one_core": lambda: service_sweep(600.0, 700.0),  # one GIL process kept 2 cores' worth
    "c16_database": lambda: database({10: 1.5, 100: 1.6}),
}
OPEN_DATA = {
    "c1_gather_waits": lambda: gather(1.02, **NOISY),
    "c2_failure_isolation": lambda: isolation({"delivered_ok": 7, "delivered_failed": 3}),
    "c3_inflight_cost": lambda: inflight(2e-6, 1.0, **NOISY),
    "c4_scaling": lambda: sweep(10.0, False, 0.0, **NOISY),
    "c5_cpu": lambda: speedups("c5_cpu", 1.0, 1.0, 1.9, **NOISY),
    "c6_gil_release": lambda: speedups("c6_gil_release", 1.0, 1.9, 1.9, **NOISY),
    "c7_hybrid": lambda: hybrid(0.5, 0.001, **NOISY),
    "c8_blocking": lambda: blocking(0.64, 0.6, **NOISY),
    "c9_cold": lambda: scripts({1000: 1.0}, {1000: 3.0}, **NOISY),
    "c10_free_threaded_threads": lambda: interpreters(
        interpreter_rows("3.13.5", False, 1.0, 1.9),
        interpreter_rows("3.13.5t", True, 1.85, 1.9, **NOISY)),
    "c11_free_threaded_cost": lambda: interpreters(
        interpreter_rows("3.13.0", False, 1.0, 1.9),
        interpreter_rows("3.13.5t", True, 1.85, 1.9, seq=1.3)),
    "c12_subinterpreters": lambda: interpreters(
        interpreter_rows("3.13.0", False, 1.0, 1.9, subs=1.85, **NOISY)),
    "c13_model_or_library": lambda: library(dict.fromkeys(EVERY, 0.15), {
        ("aiohttp", "httpx"): 0.3, ("uvicorn", "httpx"): 0.3}),
    "c14_distributed_task_size": lambda: task_sizes((0.1, 0.5, 1.5, 1.9), **NOISY),
    "c15_one_core": lambda: service_sweep(250.0, 360.0),  # a bracket across the line
    "c16_database": lambda: database({10: 1.02, 100: 1.5}, **NOISY),
}


@pytest.mark.parametrize("claim", CLAIMS, ids=[claim.key for claim in CLAIMS])
def test_every_claim_can_come_out_false(claim: Claim) -> None:
    assert claim.key in FALSE_DATA, f"{claim.key}: add data on which it does not hold"
    found = claim.check(FALSE_DATA[claim.key]())
    assert found.verdict == FAILS, found.evidence


@pytest.mark.parametrize("claim", CLAIMS, ids=[claim.key for claim in CLAIMS])
def test_every_claim_can_come_out_inconclusive(claim: Claim) -> None:
    assert claim.key in OPEN_DATA, f"{claim.key}: add data on which it cannot be decided"
    found = claim.check(OPEN_DATA[claim.key]())
    assert found.verdict == INCONCLUSIVE, found.evidence
    assert "To settle" in found.details, found.details


def test_evidence_shows_effects_with_intervals_and_their_lines() -> None:
    found = c5_cpu.check(speedups("c5_cpu", 1.0, 1.0, 1.9))
    assert "threads speedup over sequential 1.00x (95 % CI " in found.evidence
    assert "vs the 1.10x line ('no gain')" in found.evidence
    assert "p=" not in found.evidence
    assert len(found.evidence) < 700


@pytest.mark.parametrize("low, high, text", [
    (0.5, 1.5, "0.50x-1.50x"), (0.5, None, "at least 0.50x"),
    (None, 1.5, "below 1.50x (no lower bound)"), (0.0, 1.5, "below 1.50x (no lower bound)"),
    (None, None, "no bound"), (0.0, None, "no bound")])
def test_database_bounds_never_print_at_least_zero(low: float | None, high: float | None,
                                                   text: str) -> None:
    assert c16_database.bound_text(low, high, "{:.2f}x") == text


def test_claim_15_names_a_deployments_slots_not_the_generators_c() -> None:
    from bench.claims import c15_one_core

    rows = service_sweep(600.0, 700.0)
    rows.loc[rows["runner"] == "procs-asyncio", "slots_by"] = "workers=5 x threads=4"
    found = c15_one_core.check(rows)
    assert "procs-asyncio workers=5 x threads=4" in found.evidence
    assert "asyncio C=" in found.evidence  # where C is what holds it, C it is
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    try:
        c15_one_core.panel(ax, rows)  # the chart's labels take the slots' words too
        assert any("workers=5 x threads=4" in label.get_text()
                   for label in ax.get_xticklabels())
    finally:
        plt.close(fig)
