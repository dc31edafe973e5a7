"""What a scenario's result is: one record, written by the measurement, read by the report.

The record travels in pytest-benchmark's `extra_info` (the JSON stays pytest-benchmark's
own): `as_dict` writes it there, `from_dict` reads it back, and every reader (report,
charts, claims) goes through this type rather than through loose keys.  Values that
only one experiment has (failure-isolation buckets, memory per parked task) ride in
`extra`, flattened into the same dict.

How each field reaches the page is declared once, on the field (`metric(...)`): the name
of its column in the report's table, how the passes of one scenario merge it, and, where
the full table shows it, its header, scale and what the column notes say.  A new metric is
one field here plus the code that measures it; scripts/results.py reads the declarations.

This module imports nothing of the suite, so the report can read records without the
code that measured them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

REQUIRED = ("workload", "runner", "tasks", "concurrency", "ok", "failed", "ideal_s")
SCHEMA_VERSION = 2  # 2: columns declared on the fields; runs before it carry no version

# How the passes of one scenario (bench.precision) combine a field into one row.
FIRST = "first"  # the same in every pass (or the first pass's)
SUM = "sum"  # counts
PER_ROUND = "per_round"  # a per-round figure: mean over the passes, weighted by rounds
PER_TASK = "per_task"  # a per-task percentile: weighted by tasks ok (quantile averaging)
SAMPLES = "samples"  # lists of readings: the passes' joined
MAX, MIN, MEDIAN = "max", "min", "median"
COUNTS = "counts"  # {kind: count}: summed per kind
FIRST_EACH = "first_each"  # {kind: text}: the first pass's text per kind


@dataclass(frozen=True)
class Column:
    """How one record field reaches the report."""

    merge: str = FIRST
    row: str = ""  # the column's name in the report's table ("" = the field's own name)
    numeric: bool = False  # read as a number (missing values become NaN)
    header: str = ""  # shown in the full table under this header ("" = not shown there)
    scale: float = 1.0  # e.g. 1000: seconds shown as milliseconds
    digits: str = "sig3"  # "sig3" (three significant figures) or a format like "{:.0f}"
    note: str = ""  # what the column notes say about it


def metric(merge: str = FIRST, *, default: Any = None,
           default_factory: Callable[[], Any] | None = None, **shown: Any) -> Any:
    """A record field with its Column; numbers unless it is a list or dict."""
    numeric = merge in (PER_ROUND, PER_TASK, MAX, MIN, MEDIAN) or shown.pop("numeric", False)
    column = Column(merge, numeric=numeric, **shown)
    if default_factory is not None:
        return field(default_factory=default_factory, metadata={"column": column})
    return field(default=default, metadata={"column": column})


def columns() -> list[tuple[str, Column]]:
    """(field name, Column) of every declared field, in declaration order."""
    return [(f.name, f.metadata["column"]) for f in dataclasses.fields(ScenarioRecord)
            if "column" in f.metadata]


class RecordError(ValueError):
    """extra_info that is not a scenario record; the message names what is missing."""


@dataclass
class ScenarioRecord:
    """One scenario's result: what was asked, what happened, and what it cost."""

    workload: str
    runner: str
    tasks: int  # per round
    concurrency: int
    ok: int = metric(SUM)  # over all counted rounds
    failed: int = metric(SUM)  # over all counted rounds
    # The best possible wall time of one round; None if unknown.  The smallest over the
    # passes: later passes know a faster task.
    ideal_s: float | None = metric(MIN)
    claim: str = ""
    scenario: str = ""  # the spec's id: the passes of one scenario share it
    pass_index: int = metric(default=1)  # rounds come in passes; the report merges them
    params: dict[str, Any] = field(default_factory=dict)  # the workload's knobs
    client: str = ""  # the HTTP library the tasks used ("" for workloads without one)
    server: str = ""  # which local test server answered ("" for none or a --target-url)
    start_method: str | None = None
    pool_workers: int | None = None
    # Processes the runner started besides the client's own (0: it runs in the client's).
    worker_processes: int | None = None
    rounds: int | None = None
    warmup_rounds: int | None = None
    tasks_run: int | None = metric(SUM)  # ok + failed
    failure_kinds: dict[str, int] = metric(COUNTS, default_factory=dict, row="kinds")
    # kind: the first exception's type and message
    failure_examples: dict[str, str] = metric(FIRST_EACH, default_factory=dict, row="examples")
    faults_injected: bool = metric(default=False)  # failures asked for (--http-fail-rate)
    cores: int | None = metric(numeric=True)
    task_s: float | None = metric(MIN)  # the one-task time the ideal is built on (later
    # passes know a faster task for CPU jobs: the smallest is the best informed)
    ideal_basis: str = ""  # how task_s was decided
    latency_p50_s: float | None = metric(
        PER_TASK, header="service p50 (ms)", scale=1000,
        note="service p50 = what a task costs once it runs, from its first instruction to "
             "its checked result (queues left out)")
    latency_p95_s: float | None = metric(PER_TASK)
    latency_p99_s: float | None = metric(PER_TASK)
    latency_max_s: float | None = metric(MAX)
    # The caller's wait: hand-over to checked result back.
    wait_p50_s: float | None = metric(
        PER_TASK, header="wait p50 (ms)", scale=1000,
        note="wait p50/p99 = the caller's wait per task, from the round handing the task to "
             "the runner until its checked result is back in the client (queues, semaphores "
             "and trips to workers included)")
    wait_p95_s: float | None = metric(PER_TASK)
    wait_p99_s: float | None = metric(PER_TASK, header="wait p99 (ms)", scale=1000)
    wait_max_s: float | None = metric(MAX)
    # One task at a time on this runner (median service time), probed every pass: the
    # median over the passes.
    solo_task_s: float | None = metric(MEDIAN)
    loop_lag_p50_s: float | None = metric(PER_ROUND)
    loop_lag_p95_s: float | None = metric(PER_ROUND)
    loop_lag_p99_s: float | None = metric(PER_ROUND)
    loop_lag_max_s: float | None = metric(MAX)
    cpu_s: float | None = metric(  # client CPU per round, children included
        PER_ROUND, header="CPU (s)",
        note="CPU = client CPU seconds per round, child processes included")
    ctx_switches: float | None = metric(  # per round: the client's processes' switches
        PER_ROUND, header="switches / round",
        note="switches / round = context switches of the client's processes per round, "
             "voluntary (waiting on a lock, the GIL or a socket) and involuntary (the "
             "scheduler took the core)")
    peak_rss_mb: float | None = metric(MAX)
    pss_mb: float | None = metric(PER_ROUND)  # the client's processes after the rounds
    runner_pss_mb: float | None = metric(  # what the runner added: pss_mb less before open
        PER_ROUND, header="runner PSS (MB)", digits="{:.0f}",
        note="runner PSS = the memory the runner added (its workers, threads, loop and "
             "clients: the client's PSS at the end of the counted rounds less that before "
             "the runner was built; shared pages split fairly)")
    server_cpu_s: float | None = metric(PER_ROUND)  # per round
    others_cpu_s: float | None = metric(PER_ROUND)  # per round: CPU outside the suite
    # Their cores: others' CPU over the wall time it was metered in (the counted rounds and
    # the harness's moments between them), not over the rounds alone.
    others_cores: float | None = metric(PER_ROUND)
    steal_s: float | None = metric(PER_ROUND)  # per round: CPU time the hypervisor took
    load_avg: float | None = metric(MAX)  # 1-minute load average at the end of the rounds
    timed_setup: bool = False
    setup_s: float | None = metric(PER_ROUND)
    # Opens timed before timing, and the PSS each added (runners whose start-up is compared).
    setup_samples_s: list[float] = metric(SAMPLES, default_factory=list, row="setup_samples")
    open_pss_samples_mb: list[float] = metric(SAMPLES, default_factory=list,
                                              row="open_pss_samples")
    loop_lag_p99_rounds_s: list[float] = metric(SAMPLES, default_factory=list,
                                                row="lag_rounds")  # each round's p99 lag
    teardown_s: float | None = metric(PER_ROUND)
    # A no-op task's round trip (pool and cluster runners).
    task_overhead_s: float | None = metric(numeric=True)
    runner_details: dict[str, Any] = metric(default_factory=dict)  # e.g. a cluster's workers
    # --cores K: the client and its workers were pinned to K cores (None: not pinned).
    pinned_cores: int | None = metric(row="pinned")
    # Service mode (bench.service): requests arriving on a schedule at an offered rate;
    # latencies from each request's scheduled arrival to its result (None in batches).
    offered_rate: float | None = metric(numeric=True)  # requests per second
    achieved_rate: float | None = metric(numeric=True)  # ok requests per second served
    arrivals: str = ""
    arrival_seed: int | None = metric()  # Poisson arrivals' seed (None: constant)
    duration_s: float | None = metric(numeric=True)
    arrival_latency_p50_s: float | None = metric(numeric=True)
    arrival_latency_p90_s: float | None = metric(numeric=True)
    arrival_latency_p99_s: float | None = metric(numeric=True)
    arrival_latency_p999_s: float | None = metric(numeric=True)
    # How long a request held its slot (first instruction to result): with C slots, the
    # most a model can serve is C over this (Little's law; bench.report.service).
    service_p50_s: float | None = metric(numeric=True)
    service_mean_s: float | None = metric(numeric=True)  # the mean: what Little's law needs
    late_requests: int | None = metric(numeric=True)  # handed over > 5 ms after their time
    # Requests waiting or in service: their growth over the schedule, and whether it was
    # within what a model that keeps up shows (bench.service.Backlog).
    backlog_growth: float | None = metric(numeric=True)
    sustained: bool | None = metric()
    generator_lateness_p99_s: float | None = metric(numeric=True)  # the generator's own
    generator_cpu_s: float | None = metric(numeric=True)  # its own CPU, where it has some
    # Real deployments (bench.runners.apps): latency from each request's actual send (its
    # headers on the wire), the deployment's CPU (every process of it), and the requests
    # it serves at once at the most, with what sets that: C (the generator's connections)
    # or its workers and threads, whichever is fewer (Little's law's C).
    sent_latency_p50_s: float | None = metric(numeric=True)
    sent_latency_p99_s: float | None = metric(numeric=True)
    deployment_cpu_s: float | None = metric(numeric=True)
    deployment_pss_mb: float | None = metric(numeric=True)
    slots: int | None = metric(numeric=True)
    slots_by: str | None = metric()
    cpu_per_request_s: float | None = metric(numeric=True)  # client CPU / requests
    gil_cpu_s: float | None = metric(numeric=True)  # pure-Python CPU per task (workload)
    slo_s: float | None = metric(numeric=True)
    within_slo: int | None = metric(numeric=True)  # ok requests with latency <= slo_s
    python: str | None = None
    gil_enabled: bool | None = metric()
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.tasks_run is None:
            self.tasks_run = self.ok + self.failed

    def as_dict(self) -> dict[str, Any]:
        """The record as flat JSON-ready values, for `benchmark.extra_info`."""
        values = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)
                  if f.name != "extra"}
        return {**values, **self.extra}

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> ScenarioRecord:
        """Read a record back; keys this type does not name go to `extra`."""
        missing = [key for key in REQUIRED if key not in values]
        if missing:
            raise RecordError(f"missing {', '.join(missing)}")
        names = {f.name for f in dataclasses.fields(cls)} - {"extra"}
        known = {key: value for key, value in values.items() if key in names}
        extra = {key: value for key, value in values.items() if key not in names}
        return cls(**known, extra=extra)
