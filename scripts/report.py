"""Turn pytest-benchmark JSON from the suite into tables, charts and a citable REPORT.md.

    python scripts/report.py                      # the newest run under results/runs/
    python scripts/report.py RUN.json [--out DIR] # a given run (or several, merged)
    python scripts/report.py A.json B.json --compare   # B against A, scenario by scenario

Outputs go next to the (last) input file unless --out says otherwise: table.csv,
table.md, wall_time/scaling/speedup_efficiency/latency as .png and .svg, REPORT.md;
with --compare, compare.md and compare.csv.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import textwrap
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from bench import run_to_run
from bench.claims.c11_free_threaded_cost import differences
from bench.claims.kit import baseline_rows, is_baseline, ratio_term
from bench.runinfo import Fairness, PythonBuild, RunInfo
from scripts.charts import (
    write_charts,
    write_claims_chart,
    write_interpreters_chart,
    write_service_chart,
)
from scripts.claims import claims_markdown, number, verdicts
from scripts.compare import BAND, write_compare
from scripts.cores import cores_markdown
from scripts.decision import beyond_markdown, decision_markdown, sig3
from scripts.results import (
    NEIGHBOUR_LIMIT,
    NOISE_LIMIT,
    ReportError,
    Run,
    declared_notes,
    label_runs,
    load_run,
    markdown_table,
    scenario_table,
    speedup_interval,
    write_tables,
    write_text,
)
from scripts.service import is_service, service_markdown
from workloads import WORKLOADS

RUNS_DIR = Path("results/runs")


def newest_run(runs_dir: Path = RUNS_DIR) -> Path:
    candidates = sorted(runs_dir.glob("*/benchmark.json"))
    if not candidates:
        raise ReportError(f"no runs under {runs_dir}/ (run `make bench` first, or name a file)")
    return candidates[-1]


def run_file(path: Path) -> Path:
    """A run folder stands for the benchmark.json inside it."""
    return path / "benchmark.json" if path.is_dir() else path


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


def _provenance(runs: list[Run]) -> list[str]:
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


def _fairness(run: Run, table: pd.DataFrame) -> list[str]:
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


def _failures(table: pd.DataFrame) -> list[str]:
    failing = table[table["failed"] > 0]
    if failing.empty:
        return ["Every task of every scenario succeeded.", ""]
    lines = ["### Failures by kind", "",
             "| scenario | failed | kinds | first error of each kind |", "|---|---|---|---|"]
    for _, row in failing.iterrows():
        first = str(row.get("failure_examples") or "not recorded").replace("|", "\\|")
        lines.append(f"| {row['name']} | {row['failed']}/{row['tasks_run']} | "
                     f"{row['failure_kinds'] or 'see extra_info'} | {first} |")
    return [*lines, ""]


def _row_label(row: pd.Series, with_interpreter: bool = False) -> str:
    method = f" ({row['start_method']})" if isinstance(row["start_method"], str) else ""
    client = f" + {row['client']}" if row.get("client") else ""
    level = "" if is_baseline(row["runner"]) else f" at C={row['concurrency']}"
    python = f" on {row['interpreter']}" if with_interpreter else ""
    return f"{row['runner']}{method}{client}{level}{python}"


def _unavailable(runs: list[Run]) -> list[str]:
    """A line for every runner that was asked for but could not run on a run's Python."""
    labels = label_runs(runs)
    lines = [f"- {runner} is not available on Python {labels[str(run.path)]}: {reason}."
             for run in runs
             for runner, reason in run.info.unavailable_runners.items()]
    applicable = dict.fromkeys(entry for run in runs for entry in run.info.not_applicable)
    return lines + [f"- Not applicable, so no row: {entry}." for entry in applicable]


def _summary(runs: list[Run], table: pd.DataFrame) -> list[str]:
    """What the run shows, computed from it: the fastest model per workload (and
    interpreter), what could not run, and what not to cite."""
    lines = []
    several = table["interpreter"].nunique() > 1

    def _label(row: pd.Series) -> str:  # rows name their interpreter when there are several
        return _row_label(row, several)

    if not table["speedup"].notna().any() and (table["claim"] == "").any():
        lines.append("- No sequential baseline in this run, so no speedups: add sequential to "
                     "--runner.")
    noisy = table[~table["citable"] & ~table["failed_scenario"]]
    if len(noisy):
        lines.append(f"- Not to cite without a rerun (noise above {NOISE_LIMIT:.0%}): "
                     + ", ".join(f"{r['workload']} {_label(r)} ({r['noise']:.1%})"
                                 for _, r in noisy.iterrows()) + ".")
    capped = table[~table["precise"] & ~table["failed_scenario"] & (table["claim"] == "")]
    if len(capped):
        lines.append("- ⌛ Median less precise than the target (interval in the table): "
                     + ", ".join(f"{r['workload']} {_label(r)} (±{r['ci_half']:.1%})"
                                 if not pd.isna(r["ci_half"]) else
                                 f"{r['workload']} {_label(r)} (no interval)"
                                 for _, r in capped.iterrows()) + ".")
    disturbed = table[table["disturbed"]]
    if len(disturbed):
        lines.append(f"- ⚡ Disturbed by other processes (more than {NEIGHBOUR_LIMIT} cores of "
                     "CPU outside the suite): " + ", ".join(
                         f"{r['workload']} {_label(r)} ({r['neighbours']:.2f} cores)"
                         for _, r in disturbed.iterrows()) + ".")
    failed = table[table["failed_scenario"]]
    if len(failed):
        lines.append("- Failed scenarios (tasks failed with no fault injected; no rate is "
                     "shown for them): " + ", ".join(f"{r['workload']} {_label(r)}"
                                                     for _, r in failed.iterrows()) + ".")
    lines += _unavailable(runs)
    missing = sum(run.info.failed_tests for run in runs)
    if missing:
        lines.append(f"- {missing} scenario(s) failed during the run and have no row here; "
                     "the run's output names them.")
    beyond = table[table["over_cores"]]
    if len(beyond):
        lines.append("- ‼ Speedup above the ideal speedup (min(C, cores) for CPU work, 1 for "
                     "pure-Python CPU in one GIL process, C for waits) beyond its "
                     "interval: " + ", ".join(
            f"{r['workload']} {_label(r)} ({r['speedup']:.3g}x, per-task speed "
            + ("not measured" if pd.isna(r["per_task_speed"]) else f"{r['per_task_speed']:.3g}x")
            + ")" for _, r in beyond.iterrows())
            + ". Running side by side cannot give more; the rest is each task running "
            "faster here (or a bias): do not quote it as parallel gain.")
    broken = table[table["meter_error"]]
    if len(broken):
        lines.append("- ✗ CPU reading above the machine's cores (a meter error, not a "
                     "result): " + ", ".join(f"{r['workload']} {_label(r)}"
                                             for _, r in broken.iterrows()) + ".")
    over = table[table["over_ideal"]]
    if len(over):
        lines.append("- ⚑ Efficiency above 100 %: " + ", ".join(
            f"{r['workload']} {_label(r)} ({r['efficiency']:.1%})" for _, r in over.iterrows())
            + ". A round cannot beat its ideal, so the ideal's one-task time was measured "
            "slower than tasks ran: quote these as about 100 %.")
    if not lines:
        lines.append("- Nothing in this run is a default-matrix result (see the claims).")
    return lines


# Rows of the claims suite's experiments, which are not registered workloads.
EXPERIMENT_JOBS = {
    "parked": "Tasks that start and park until released (claim 3's in-flight probe).",
    "script": "A one-off script (workloads/oneoff.py) of a few GET requests, run as a fresh "
              "interpreter per round (claim 9).",
}


def _settings(table: pd.DataFrame) -> list[str]:
    """Each workload's job and its sizing knobs, in words."""
    lines = []
    for (workload, params), rows in table.groupby(["workload", "params"], sort=False):
        cls = WORKLOADS.get(str(workload))
        job = EXPERIMENT_JOBS.get(str(workload), "")
        if cls is not None:
            doc = sys.modules[cls.__module__].__doc__ or ""
            job = doc.strip().splitlines()[0] if doc.strip() else ""
        tasks = ", ".join(str(t) for t in sorted(rows["tasks"].unique()))
        lines.append(f"- **{workload}**: {job} Knobs: {params or 'none'}; tasks per round: "
                     f"{tasks}.")
    return lines


COLUMN_NOTES = (
    "Columns: C = the most tasks running at once (a pool's workers, an event loop's "
    "semaphore, a cluster's worker threads; every task of a round is handed over when the "
    "round starts); tasks = tasks per round; median/IQR = wall time of one "
    "round of all tasks; ok tasks/s = successful tasks per second of the median round "
    "(† = faults were injected on purpose, so this is goodput, and speedup compares rounds "
    "that ran the same seeded faults); speedup = sequential median / median, with the 95 % "
    "interval of that ratio (bench.stats: passes and rounds resampled, plus the run-to-run "
    "term; \"-\" where "
    "the run has no sequential baseline; ‼ = the whole interval above the ideal speedup "
    "(sequential's ideal time / this row's: min(C, cores) for CPU work, C for waits; 1 for "
    "pure-Python CPU under a runner that is one GIL process on a GIL build), more "
    "than running tasks side by side can give: look at per-task speed); per-task speed = "
    "one task alone under sequential / one task alone under this runner (each measured "
    "on the warm runner before each pass's counted rounds, five tasks one at a time, the "
    "median over the passes; above 1 = each task runs faster here, whatever the overlap); "
    "efficiency = ideal / median (\"-\" with injected "
    "faults: the ideal assumes every task succeeds; ⚑ = above 100 %, see the summary); "
    "{declared}; client/server CPU (cores) = CPU seconds per second "
    "of the counted rounds' wall time (their mean, not the median; 1.00 = one core busy "
    "for the whole round; ✗ meter = above the machine's cores, which no reading can be: "
    "a meter error, not a result); "
    "failed = failed / tasks "
    "run over all counted rounds (tasks x rounds); ✗ FAILED = tasks failed with no fault "
    "injected, so the row is not a result.")


def _ms3(seconds: float) -> str:
    """Milliseconds to three significant figures, without exponents."""
    value = seconds * 1000
    return f"{value:,.0f}" if value >= 100 else f"{value:.3g}"


def overhead_markdown(table: pd.DataFrame) -> list[str]:
    """Each pool or cluster runner's own cost, per pool size: a no-op task's round trip, and
    the time to start and stop it (medians over that size's scenarios in the run)."""
    rows = table[table["task_overhead_s"].notna() & ~table["timed_setup"]]
    if rows.empty:
        return []
    lines = ["## Per-task overhead and start-up", "",
             "What each pool or cluster costs by itself, measured on the open runner before "
             "timing: the round trip of a task that does nothing (submitted and awaited one "
             "at a time, median of 30), and the time to start (workers started, connected "
             "and warmed) and stop it, per pool size C (start-up grows with the workers "
             "started). Medians over that size's scenarios in this run.", "",
             "| runner | C | scenarios | no-op round trip (ms) | start-up (ms) | teardown (ms) |",
             "|---|---|---|---|---|---|"]
    for (runner, method, level), mine in rows.groupby(
            ["runner", rows["start_method"].fillna(""), "concurrency"], sort=False):
        label = f"{runner} ({method})" if method else runner
        lines.append(f"| {label} | {level} | {len(mine)} | "
                     f"{_ms3(mine['task_overhead_s'].median())} | "
                     f"{_ms3(mine['setup_s'].median())} | {_ms3(mine['teardown_s'].median())} |")
    several = table["interpreter"].nunique() > 1
    seen: dict[str, dict[str, object]] = {}
    for _, row in table.iterrows():
        details = row["runner_details"]
        if isinstance(details, dict) and details:
            who = str(row["runner"]) + (f" on {row['interpreter']}" if several else "")
            seen[who + json.dumps(details, sort_keys=True, default=str)] = {"who": who,
                                                                            **details}

    def shown(value: object) -> str:
        return ", ".join(map(str, value)) if isinstance(value, list) else str(value)

    if seen:
        lines += ["", "Set-up each runner recorded:", ""]
    for details in seen.values():
        who = str(details.pop("who"))
        lines.append(f"- {who}: " + "; ".join(f"{key.replace('_', ' ')} {shown(value)}"
                                              for key, value in details.items()) + ".")
    return [*lines, ""]


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
    lambda page: ["## Summary", "", *_summary(page.runs, page.table), "",
                  *_provenance(page.runs), ""],
    lambda page: ["## Fairness rules", "", *_fairness(page.runs[-1], page.table), ""],
    lambda page: ["## Workloads", "", *_settings(page.table), "", page.claims],
    _results_section,
    lambda page: _failures(page.table),
    lambda page: overhead_markdown(page.table),
    _charts_section,
)


def report_markdown(runs: list[Run], table: pd.DataFrame, charts: list[Path],
                    claims: str = "") -> str:
    page = Page(runs, table, charts, claims)
    return "\n".join(line for section in SECTIONS for line in section(page))


def write_report(paths: list[Path], out: Path | None) -> Path:
    runs = [load_run(path) for path in paths]
    out = out or paths[-1].parent
    out.mkdir(parents=True, exist_ok=True)
    table = scenario_table(runs)
    write_tables(table, out)
    note = footnote(runs)
    if is_service(table):  # service mode: its own page (the batch figures do not apply)
        charts = write_service_chart(table, out, note)
        found = verdicts(table, service=True)
        claims = claims_markdown(found, service=True)
        write_text(out / "claims.md", claims)
        titles = {v.claim.key: "\n".join(textwrap.wrap(
            f"{number(v)}. {v.claim.statement} [{v.verdict}]", 60)) for v in found}
        write_claims_chart(table, titles, out, note)
        return write_text(out / "REPORT.md", "\n".join(
            ["# concurrency-bench report: service mode", "", *service_markdown(table),
             *cores_markdown(table),
             *(f"![{chart.stem}]({chart.name})" for chart in charts if chart.suffix == ".png"),
             "", claims, "## Summary", "", *_provenance(runs), "", "## Workloads", "",
             *_settings(table), ""]))
    matrix = table[table["claim"] == ""]
    charts = write_charts(matrix, out, note) if not matrix.empty else []
    claims = ""
    several = table["interpreter"].nunique() > 1
    if (table["claim"] != "").any() or several:
        found = verdicts(table, matrix=not (table["claim"] != "").any())
        claims = claims_markdown(found, table)
        write_text(out / "claims.md", claims)
        titles = {v.claim.key: "\n".join(textwrap.wrap(
            f"{number(v)}. {v.claim.statement} [{v.verdict}]", 60)) for v in found}
        charts += write_claims_chart(table, titles, out, note)
    if several:
        charts = write_interpreters_chart(table, out, note) + charts
        claims = interpreters_markdown(runs, table) + claims
    return write_text(out / "REPORT.md", report_markdown(runs, table, charts, claims))


def _build_cells(build: PythonBuild) -> str:
    """How a build was made, as its own configuration says: who built it, PGO/LTO, JIT,
    optimisation level, frame pointers, debug, compiler and C library."""
    if not build.origin:  # a run from before these were recorded
        return f"not recorded | not recorded | {build.compiler or '?'}"
    optimisation = " ".join(part for part in (
        build.optimisation, "frame pointers" if build.frame_pointers else "",
        "debug" if build.debug else "") if part)
    pgo = "yes" if build.pgo == "yes" else "?"
    lto = "yes" if build.lto == "yes" else "?"
    return (f"{build.origin} | PGO {pgo}, LTO {lto}, JIT built: {build.jit_built}, "
            f"{optimisation or '?'} | {build.compiler or '?'}, {build.libc or '?'}")


def _against(label: str, row: pd.Series, labels: list[str], table: pd.DataFrame) -> str:
    """The column each build's single-thread cost is read against: a column of the same
    binary without its settings; for a free-threaded build, the GIL build of the same
    version and origin; else the first column."""
    first = labels[0]
    mine = table[table["interpreter"] == label].iloc[0]
    if mine["settings"]:
        same = [other for other in labels if other != label and
                (table[table["interpreter"] == other]["binary"] == mine["binary"]).any() and
                not (table[table["interpreter"] == other]["settings"] != "").any()]
        if same:
            return same[0]
    if mine["free_threaded_build"] and not mine["settings"]:
        version = str(mine["binary"]).split(" ")[0].rstrip("t")
        for other in labels:
            theirs = table[table["interpreter"] == other].iloc[0]
            if (not theirs["free_threaded_build"] and not theirs["settings"]
                    and str(theirs["binary"]).split(" ")[0] == version
                    and theirs["origin"] == mine["origin"]):
                return other
    return first


def interpreters_markdown(runs: list[Run], table: pd.DataFrame) -> str:
    """The interpreters of a run side by side, and what each build costs one thread."""
    labels = label_runs(runs)
    lines = ["## Interpreters", "", "![interpreters](interpreters.png)", "",
             "How each build was made is read from its own configuration: a packager may "
             "pass PGO and LTO to make rather than to configure (Debian does), so '?' means "
             "not in the build's configuration, not absent.", "",
             "| interpreter | version | built by | PGO, LTO, JIT, optimisation | compiler, C "
             "library | free-threaded build | GIL at run time | settings | JIT at run time | "
             "default start method | server ran on |", "|---" * 11 + "|"]
    placed = {label: index for index, label in enumerate(dict.fromkeys(table["interpreter"]))}
    for run in sorted(runs, key=lambda run: placed.get(labels[str(run.path)], len(placed))):
        build = run.info.python_build
        lines.append(f"| {labels[str(run.path)]} | {build.python or '?'} "
                     f"({build.implementation or '?'}) | {_build_cells(build)} | "
                     f"{'yes' if build.free_threaded_build else 'no'} | "
                     f"{'enabled' if build.gil_enabled else 'disabled'} | "
                     f"{run.settings or build.python_gil_env or 'none'} | "
                     f"{build.jit or '?'} | {build.default_start_method or '?'} | "
                     f"{run.info.server_python or 'no server (no HTTP workload)'} |")
    executors = sorted({f"{row['interpreter']}: {row['runner_details']['executor']}"
                        for _, row in table.iterrows() if isinstance(row["runner_details"], dict)
                        and row["runner_details"].get("executor")})
    if executors:
        lines += ["", "Subinterpreters ran on: " + "; ".join(executors) + "."]
    lines += ["", "Single-thread cost of each build: its sequential median over the median of "
              "the column named, same workload and size (above 1 = slower), with the 95 % "
              "interval of the ratio (bench.stats: passes and rounds resampled, plus both "
              "runs' run-to-run terms).  A column with "
              "settings is read against the same binary without them; a free-threaded build "
              "against the GIL build of the same version and origin where the run has one; "
              "any other against the first column.  'differs in' lists everything the runs "
              "recorded that is not the same between the two: a ratio across more than one of "
              "these "
              "cannot be put down to any one of them.", ""]
    sequential = table[baseline_rows(table["runner"]) & (table["claim"] == "")
                       & ~table["failed_scenario"]]
    order = list(dict.fromkeys(table["interpreter"]))  # by version, build, settings
    groups = list(sequential.groupby(["workload", "params", "tasks"], sort=False))
    lines += ["| interpreter | against | differs in | " + " | ".join(
        f"{workload} ({tasks} tasks; {params})" for (workload, params, tasks), _ in groups)
        + " |", "|---|---|---|" + "---|" * len(groups)]
    present = [label for label in order if (sequential["interpreter"] == label).any()]
    for label in present[1:]:
        against = _against(label, sequential[sequential["interpreter"] == label].iloc[0],
                           present, sequential)
        differs = differences(
            sequential[sequential["interpreter"] == against].iloc[0].to_dict(),
            sequential[sequential["interpreter"] == label].iloc[0].to_dict())
        cells = [", ".join(differs) or "nothing recorded"]
        for _, rows in groups:
            mine = rows[rows["interpreter"] == label]
            base = rows[rows["interpreter"] == against]
            if mine.empty or base.empty:
                cells.append("-")
                continue
            ratio = float(mine["median_s"].iloc[0]) / float(base["median_s"].iloc[0])
            found = speedup_interval(mine["rounds_by_pass"].iloc[0],
                                     base["rounds_by_pass"].iloc[0],
                                     ratio_term(mine.iloc[0], base.iloc[0]))
            interval = "" if not found.known else f" ({sig3(found.low)}-{sig3(found.high)})"
            cells.append(f"{sig3(ratio)}{interval}")
        lines.append(f"| {label} | {against} | " + " | ".join(cells) + " |")
    return "\n".join([*lines, "", ""])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="report.py", description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="*", type=Path,
                        help="pytest-benchmark JSON files (default: the newest run)")
    parser.add_argument("--out", type=Path, help="folder for the outputs "
                        "(default: the folder of the last input file)")
    parser.add_argument("--compare", action="store_true",
                        help="compare exactly two runs, A then B, scenario by scenario")
    parser.add_argument("--band", type=float, default=BAND,
                        help="--compare: the equivalence band, as a share "
                             f"(default {BAND}: B/A within 1 ± {BAND:.0%} agrees)")
    args = parser.parse_args(argv)
    try:
        if args.out is not None and args.out.exists() and not args.out.is_dir():
            raise ReportError(f"--out {args.out}: exists and is not a folder")
        if not 0 < args.band < 1:
            raise ReportError(f"--band: must be between 0 and 1, got {args.band}")
        if args.compare:
            if len(args.files) != 2:
                raise ReportError("--compare takes exactly two files: A.json B.json")
            path = write_compare(run_file(args.files[0]), run_file(args.files[1]), args.out,
                                 args.band)
            print(path.read_text())
        else:
            path = write_report([run_file(f) for f in args.files] or [newest_run()], args.out)
        print(f"wrote {path}")
    except ReportError as exc:
        print(f"report: error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"report: error: {exc.filename or ''}: {exc.strerror}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
