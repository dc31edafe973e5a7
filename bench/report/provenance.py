"""Where a run came from and the rules it was measured under: machine, build, versions,
commit, and the fairness rules, each read from the run itself.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pandas as pd

from bench import run_to_run
from bench.report.load import Run, label_runs
from bench.report.marks import NEIGHBOUR_LIMIT, NOISE_LIMIT
from bench.runinfo import Fairness, RunInfo


def footnote(runs: list[Run]) -> str:
    run = runs[-1]
    info = run.info
    cpu = info.cpu.get("brand_raw", info.processor or "unknown CPU")
    gil = "GIL enabled" if info.python_build.gil_enabled else "free-threaded, GIL off"
    python = f"Python {info.python_version or '?'} {info.python_implementation} ({gil})"
    if len(runs) > 1:
        python = "Python " + ", ".join(label_runs(runs).values())
    commit = (run.commit.get("id") or "unknown")[:10]
    return (f"{cpu}, {info.usable_cores or '?'} usable cores, "
            f"{info.system or '?'} {info.release} | {python} | "
            f"run {run.datetime[:16].replace('T', ' ')} UTC | commit {commit} | concurrency-bench")


def _report_commit() -> str:
    """The commit of the code that made this report (verdicts may postdate the run)."""
    try:
        result = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                                text=True, timeout=10, cwd=Path(__file__).resolve().parent)
    except (OSError, subprocess.SubprocessError):
        return "(commit unknown)"
    return f"at commit {result.stdout.strip()}" if result.returncode == 0 else "(commit unknown)"


REPORT_ONLY = ("pandas", "matplotlib", "scipy")  # used to make the report, not to measure


def _report_libraries() -> str:
    from importlib import metadata

    found = []
    for name in REPORT_ONLY:
        try:
            found.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            found.append(f"{name} not installed")
    return ", ".join(found)


def _python_line(run: Run, label: str = "") -> str:
    build = run.info.python_build
    flags = f"; configure flags {build.config_args}" if build.config_args else ""
    built = f"; built by {build.origin}" if build.origin else ""
    settings = f"; settings {run.settings}" if run.settings else ""
    return (f"- **Python{label}**: {build.implementation or '?'} "
            f"{build.python or '?'} ({build.build or '?'}, "
            f"{build.compiler or '?'}){built}{settings}; free-threaded build: "
            f"{build.free_threaded_build}; GIL enabled: "
            f"{build.gil_enabled}" + (f"; JIT: {build.jit}" if build.jit else "") + flags)


def _measuring_libraries(run: Run) -> str:
    versions = run.info.library_versions
    return ", ".join(f"{k} {v}" for k, v in versions.items() if k not in REPORT_ONLY)


def provenance(runs: list[Run]) -> list[str]:
    run = runs[-1]
    info, commit = run.info, run.commit
    cpu = info.cpu
    dirty = " (uncommitted changes)" if commit.get("dirty") else ""
    commit_id = commit.get("id") or "not recorded (run from outside a git checkout)"
    branch = f" on {commit['branch']}" if commit.get("branch") else ""
    labels = label_runs(runs)
    several = len(runs) > 1
    pythons = [_python_line(r, f" {labels[str(r.path)]}" if several else "") for r in runs]
    libraries = [f"- **Libraries{' ' + labels[str(r.path)] if several else ''}**: "
                 f"{_measuring_libraries(r)}" for r in runs]
    return [
        f"- **Run**: {run.datetime} ({', '.join(r.path.name for r in runs)}); report made by "
        f"concurrency-bench {_report_commit()} with {_report_libraries()}",
        f"- **Commit**: `{commit_id}`{branch}{dirty}",
        f"- **Machine**: {cpu.get('brand_raw', '?')}, {cpu.get('count', '?')} CPUs "
        f"({info.usable_cores or '?'} usable), {cpu.get('arch_string_raw', '?')}; "
        f"{info.system or '?'} {info.release}",
        *pythons,
        *libraries,
        *_servers(info),
    ]


def _servers(info: RunInfo) -> list[str]:
    """The local test servers that answered, with their versions (older runs: none)."""
    servers = info.servers
    if not servers:
        return []
    return ["- **Test servers**: " + "; ".join(
        f"{found.get('server', kind)} {found.get('server_version', '?')}"
        + (f" ({found['http_parser']} parser)" if found.get("http_parser") else "")
        for kind, found in servers.items()) + f"; on Python {info.server_python or '?'}"]


def _warms_every_pass(run: Run) -> bool:
    """Whether the run's later passes had warm-up rounds of their own (read from its
    records, so that a run made before they did is described as it was measured)."""
    return any(int(b["extra_info"].get("pass_index") or 1) > 1
               and int(b["extra_info"].get("warmup_rounds") or 0) > 0
               for b in run.data.get("benchmarks", []))


def _rounds_rule(fair: Fairness, every_pass: bool = False) -> str:
    warmups = "?" if fair.warmup_rounds is None else fair.warmup_rounds
    if fair.rounds:
        return (f"- **Rounds**: exactly {fair.rounds} counted rounds after "
                f"{warmups} warm-up round(s) per scenario; the table "
                "quotes the median round, its 95 % confidence interval and its IQR.")
    if fair.precision_target is None:
        return "- **Rounds**: as the rounds column says; the table quotes the median round."
    return (f"- **Rounds**: as many as it takes for the 95 % confidence interval of the median "
            f"within this run (order statistics) to be within ±"
            f"{float(fair.precision_target):.0%}, at most {fair.max_rounds} rounds "
            f"or {fair.max_seconds} s of rounds per scenario (⌛ = capped before "
            "reaching it). Rounds come in alternating passes: every runner of a workload and "
            "size does 6 rounds, then those still short of the target 4 more each, and so on, "
            f"so a slow minute lands on all of them alike. {warmups} "
            "warm-up round(s) before " + ("every pass (each pass rebuilds its runner)."
                                          if every_pass else "the first pass."))


def _timed_region(table: pd.DataFrame) -> str:
    """What the clock covered, per kind of row the run has."""
    script = table["workload"] == "script"
    cold = table["timed_setup"] & ~script
    warm = ~table["timed_setup"] & ~script
    kinds = []
    if warm.any():
        kinds.append(("warm: event loop, client session and pool (all workers started) are "
                      "built before the clock starts and torn down after it stops",
                      int(warm.sum())))
    if cold.any():
        kinds.append(("cold: the loop, session or pool is built and torn down inside every "
                      "timed round", int(cold.sum())))
    if script.any():
        kinds.append(("a whole one-off script: a fresh interpreter per round, its start-up, "
                      "imports, set-up, calls and teardown", int(script.sum())))
    if len(kinds) == 1:
        return kinds[0][0]
    return "; ".join(f"{text} ({count} rows)" for text, count in kinds)


def _rounds_as_run(table: pd.DataFrame) -> str:
    """The rounds the rows actually have, from the rows themselves."""
    counted = table["rounds"]
    precise = int(table["precise"].sum())
    return (f" As run: {int(counted.min())} to {int(counted.max())} counted rounds per row "
            f"(median {int(counted.median())}), in up to {int(table['passes'].max())} "
            f"pass(es); {precise} of {len(table)} rows reached the precision target.")


def _start_methods(fair: Fairness, table: pd.DataFrame) -> str:
    default = fair.start_method or "?"
    used = sorted({str(m) for m in table["start_method"].dropna() if str(m)} - {str(default)})
    return f"{default}" + (f" (rows also use {', '.join(used)})" if used else "")


def _http_text(fair: Fairness, table: pd.DataFrame) -> str:
    clients = sorted({str(c) for c in table["client"] if str(c)})
    servers = sorted({str(s) for s in table["server"] if str(s)})
    where = fair.server or "?"
    if servers and str(where).startswith("local "):
        where = (f"local {' and '.join(servers)} server{'s' if len(servers) > 1 else ''}, "
                 "each in its own process on 127.0.0.1")
    used = f" (used in these rows: {', '.join(clients)})" if clients else ""
    timeout = "?" if fair.http_timeout_s is None else fair.http_timeout_s
    return (f"{fair.http_clients or '?'}{used}; per-request timeout "
            f"{timeout} s; server: {where}")


def _terms_text(spread: run_to_run.Spread) -> str:
    return ", ".join(f"{workload} {term:.1%}" for workload, term in spread.median.items())


def _intervals_rule(table: pd.DataFrame) -> str:
    """What the published intervals promise: within this run, or about a rerun too."""
    text = ("- **Intervals**: every published interval (medians, speedups, claims' effects) "
            "is a two-level bootstrap, passes resampled and then the rounds within each, so "
            "a difference between passes widens it")
    terms = table["run_to_run"].dropna() if "run_to_run" in table else pd.Series(dtype=float)
    if (terms > 0).any():
        spread = run_to_run.load()
        return (text + f", plus what a rerun moves: a run-to-run term measured from "
                f"{spread.runs} back-to-back runs on this kind of machine ({spread.machine}; "
                f"bench/run_to_run.json), per workload {_terms_text(spread)} for a median.  An "
                "interval is a promise about the next run.")
    return (text + ".  No run-to-run term is known for this machine, so the intervals "
            "promise nothing about a rerun: measure one with "
            "scripts/evidence/run_to_run.py.")


def fairness(run: Run, table: pd.DataFrame) -> list[str]:
    fair = run.info.fairness
    return [
        f"- **Timed region**: {_timed_region(table)}.",
        _rounds_rule(fair, _warms_every_pass(run)) + _rounds_as_run(table),
        _intervals_rule(table),
        "- **Neighbours**: CPU used during each scenario by processes other than the client, "
        "its workers and the server (machine busy time from /proc/stat, less theirs), per "
        f"second of wall time; rows above {NEIGHBOUR_LIMIT} cores are marked ⚡ as disturbed. "
        "Steal time and the load average are in table.csv.",
        f"- **Process start method**: {_start_methods(fair, table)}.",
        f"- **HTTP clients**: {_http_text(fair, table)}.",
        "- **Event-loop lag**: asyncio and hybrid rounds carry a heartbeat timer (every 5 ms) "
        "whose lateness is recorded as loop lag; its cost is part of their timed rounds.",
        "- **Same work everywhere**: every runner runs the same task count with the same "
        "per-task work; each task's result is checked and counted as ok or failed.",
        "- **Ideal time**: I/O: ceil(tasks / C) x per-task wait; CPU: ceil(tasks / min(C, cores)) "
        "x one task's time, which is the fastest single task seen in the measuring process "
        "(a calibration before timing, and every counted task so far), so a busy moment "
        "cannot inflate it. Efficiency = ideal / median.",
        f"- **Noise**: IQR / median; rows above {NOISE_LIMIT:.0%} are marked ⚠ and should not "
        "be cited without a rerun.",
        *(f"- **{rule}**: {text}." for rule, text in fair.rules.items()),
    ]
