"""What a rerun moves: the run-to-run term of every published interval (bench.stats).

The passes of one run are seconds apart and share one process; a rerun minutes later is
a new process on a machine that has drifted.  No pass of one run can see that, so it is
measured: back-to-back `make bench` runs on one machine give, per workload, the relative
spread (SD on the log scale) of a row's median and of its speedup from run to run.
`scripts/evidence/run_to_run.py` measures it from results/reference/run-to-run/ and writes
run_to_run.json beside this file; the report adds it to the intervals of runs made on the
same kind of machine, and says so.  A run on another machine gets intervals within that
run only, labelled as such; a workload the reruns did not include gets the largest term
measured (the widest promise we have evidence for).

Service runs have a term of their own: back-to-back `make service` runs give, per
workload, the SD on the log scale of a model's saturation (the geometric middle of its
bracket) from run to run, and of the ratio of two models' saturations in one run
(`scripts/evidence/service_overlap.py spread`).  The report widens each saturation
bracket by the first, and calls one model's saturation higher than another's only where
their ratio, widened by the second, stays above 1.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SPREAD_FILE = Path(__file__).with_name("run_to_run.json")
MEDIAN = "median"
SPEEDUP = "speedup"
SATURATION = "saturation"
SATURATION_RATIO = "saturation_ratio"


@dataclass(frozen=True)
class Spread:
    """Per workload, the rerun SD of a median and of a speedup, and where it was measured."""

    machine: str = ""
    runs: int = 0
    sessions: int = 1  # of back-to-back runs, the SDs pooled within each
    commits: list[str] = field(default_factory=list)
    median: dict[str, float] = field(default_factory=dict)
    speedup: dict[str, float] = field(default_factory=dict)
    saturation: dict[str, float] = field(default_factory=dict)
    saturation_ratio: dict[str, float] = field(default_factory=dict)  # of two models' in a run
    service_runs: int = 0  # the back-to-back service runs `saturation` was measured from

    def term(self, workload: str, kind: str) -> float:
        """The term for `workload`: its own, else the largest measured; 0 if none is."""
        found = {MEDIAN: self.median, SPEEDUP: self.speedup, SATURATION: self.saturation,
                 SATURATION_RATIO: self.saturation_ratio}[kind]
        if workload in found:
            return found[workload]
        return max(found.values(), default=0.0)

    def applies_to(self, machine: str) -> bool:
        return bool(self.machine) and machine == self.machine

    def as_dict(self) -> dict[str, Any]:
        return {"machine": self.machine, "runs": self.runs, "sessions": self.sessions,
                "commits": self.commits,
                "median": self.median, "speedup": self.speedup,
                "service_runs": self.service_runs, "saturation": self.saturation,
                "saturation_ratio": self.saturation_ratio}


NONE = Spread()


def load(path: Path = SPREAD_FILE) -> Spread:
    """The committed spread; none (every term 0) where there is no file."""
    if not path.exists():
        return NONE
    found = json.loads(path.read_text())
    return Spread(str(found.get("machine", "")), int(found.get("runs", 0)),
                  int(found.get("sessions", 1)), list(found.get("commits", [])),
                  dict(found.get("median", {})), dict(found.get("speedup", {})),
                  dict(found.get("saturation", {})), dict(found.get("saturation_ratio", {})),
                  int(found.get("service_runs", 0)))


def machine_of(machine_info: dict[str, Any]) -> str:
    """The kind of machine a run was on, as pytest-benchmark's machine_info has it: the
    processor's name and the cores the suite could use."""
    cpu = machine_info.get("cpu") or {}
    name = cpu.get("brand_raw") if isinstance(cpu, dict) else None
    cores = machine_info.get("usable_cores")
    return f"{name or machine_info.get('processor') or '?'}, {cores or '?'} usable cores"
