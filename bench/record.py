"""What a scenario's result is: one record, written by the measurement, read by the report.

The record travels in pytest-benchmark's `extra_info` (the JSON stays pytest-benchmark's
own): `as_dict` writes it there, `from_dict` reads it back, and every reader (report,
charts, claims) goes through this type rather than through loose keys.  Values that
only one experiment has (failure-isolation buckets, memory per parked task) ride in
`extra`, flattened into the same dict.

This module imports nothing of the suite, so the report can read records without the
code that measured them.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

REQUIRED = ("workload", "runner", "tasks", "concurrency", "ok", "failed", "ideal_s")


class RecordError(ValueError):
    """extra_info that is not a scenario record; the message names what is missing."""


@dataclass
class ScenarioRecord:
    """One scenario's result: what was asked, what happened, and what it cost."""

    workload: str
    runner: str
    tasks: int  # per round
    concurrency: int
    ok: int  # over all counted rounds
    failed: int  # over all counted rounds
    ideal_s: float | None  # best possible wall time of one round; None if unknown
    claim: str = ""
    scenario: str = ""  # the spec's id: the passes of one scenario share it
    pass_index: int = 1  # rounds come in passes (bench.precision); the report merges them
    params: dict[str, Any] = field(default_factory=dict)  # the workload's knobs
    client: str = ""  # the HTTP library the tasks used ("" for workloads without one)
    server: str = ""  # which local test server answered ("" for none or a --target-url)
    start_method: str | None = None
    pool_workers: int | None = None
    rounds: int | None = None
    warmup_rounds: int | None = None
    tasks_run: int | None = None  # ok + failed
    failure_kinds: dict[str, int] = field(default_factory=dict)
    failure_examples: dict[str, str] = field(default_factory=dict)  # kind: first exception
    faults_injected: bool = False  # failures were asked for on purpose (--http-fail-rate)
    cores: int | None = None
    task_s: float | None = None  # the one-task time the ideal is built on
    ideal_basis: str = ""  # how task_s was decided
    latency_p50_s: float | None = None
    latency_p95_s: float | None = None
    latency_p99_s: float | None = None
    latency_max_s: float | None = None
    wait_p50_s: float | None = None  # the caller's wait: hand-over to checked result back
    wait_p95_s: float | None = None
    wait_p99_s: float | None = None
    wait_max_s: float | None = None
    solo_task_s: float | None = None  # one task at a time on this runner (median service time)
    loop_lag_p50_s: float | None = None
    loop_lag_p95_s: float | None = None
    loop_lag_p99_s: float | None = None
    loop_lag_max_s: float | None = None
    cpu_s: float | None = None  # client CPU per round, children included
    peak_rss_mb: float | None = None
    pss_mb: float | None = None  # the client's processes at the end of the counted rounds
    runner_pss_mb: float | None = None  # what the runner added: pss_mb less that before open
    server_cpu_s: float | None = None  # per round
    others_cpu_s: float | None = None  # per round: CPU of processes outside the suite
    # Their cores: others' CPU over the wall time it was metered in (the counted rounds and
    # the harness's moments between them), not over the rounds alone.
    others_cores: float | None = None
    steal_s: float | None = None  # per round: CPU time the hypervisor took
    load_avg: float | None = None  # 1-minute load average at the end of the rounds
    timed_setup: bool = False
    setup_s: float | None = None
    setup_samples_s: list[float] = field(default_factory=list)  # opens timed before timing
    open_pss_samples_mb: list[float] = field(default_factory=list)  # PSS each open added
    loop_lag_p99_rounds_s: list[float] = field(default_factory=list)  # each round's p99 lag
    teardown_s: float | None = None
    task_overhead_s: float | None = None  # a no-op task's round trip (pool and cluster runners)
    runner_details: dict[str, Any] = field(default_factory=dict)  # e.g. a cluster's workers
    python: str | None = None
    gil_enabled: bool | None = None
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
