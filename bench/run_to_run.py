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
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SPREAD_FILE = Path(__file__).with_name("run_to_run.json")
MEDIAN = "median"
SPEEDUP = "speedup"


@dataclass(frozen=True)
class Spread:
    """Per workload, the rerun SD of a median and of a speedup, and where it was measured."""

    machine: str = ""
    runs: int = 0
    commits: list[str] = field(default_factory=list)
    median: dict[str, float] = field(default_factory=dict)
    speedup: dict[str, float] = field(default_factory=dict)

    def term(self, workload: str, kind: str) -> float:
        """The term for `workload`: its own, else the largest measured; 0 if none is."""
        found = self.median if kind == MEDIAN else self.speedup
        if workload in found:
            return found[workload]
        return max(found.values(), default=0.0)

    def applies_to(self, machine: str) -> bool:
        return bool(self.machine) and machine == self.machine

    def as_dict(self) -> dict[str, Any]:
        return {"machine": self.machine, "runs": self.runs, "commits": self.commits,
                "median": self.median, "speedup": self.speedup}


NONE = Spread()


def load(path: Path = SPREAD_FILE) -> Spread:
    """The committed spread; none (every term 0) where there is no file."""
    if not path.exists():
        return NONE
    found = json.loads(path.read_text())
    return Spread(str(found.get("machine", "")), int(found.get("runs", 0)),
                  list(found.get("commits", [])), dict(found.get("median", {})),
                  dict(found.get("speedup", {})))


def machine_of(machine_info: dict[str, Any]) -> str:
    """The kind of machine a run was on, as pytest-benchmark's machine_info has it: the
    processor's name and the cores the suite could use."""
    cpu = machine_info.get("cpu") or {}
    name = cpu.get("brand_raw") if isinstance(cpu, dict) else None
    cores = machine_info.get("usable_cores")
    return f"{name or machine_info.get('processor') or '?'}, {cores or '?'} usable cores"
