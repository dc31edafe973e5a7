"""What identifies a scenario, a baseline and a model, and the order rows are read in:
declared once, used by the table, the decision, compare and the charts.
"""

from __future__ import annotations

import re
from typing import Any

import pandas as pd

from bench.claims.kit import (
    is_baseline,
)
from bench.claims.kit import runner_order as kit_runner_order
from workloads import WORKLOADS

# The passes of one scenario (bench.precision) share these; the report merges them.
SCENARIO_KEYS = ["source", "scenario_key", "claim", "workload", "params", "runner",
                 "start_method", "client", "server", "concurrency", "tasks", "timed_setup",
                 "pinned"]

BASELINE_KEYS = ["source", "claim", "workload", "params", "tasks", "timed_setup", "server",
                 "pinned", "baseline_client"]

UNKNOWN_ORDER = 1000  # names no registry knows (experiments) sort after the known ones


def interpreter_order(binary: str, free_threaded: bool, settings: str,
                      source: str) -> tuple[Any, ...]:
    """Interpreters by version, the GIL build before the free-threaded one, a binary before
    its settings; the file name breaks any tie."""
    version = tuple(int(part) for part in re.findall(r"\d+", binary.split(" ")[0])[:3])
    return (version, bool(free_threaded), settings, binary, source)


def workload_order(name: str) -> int:
    known = WORKLOADS.get(name)
    return known.order if known is not None else UNKNOWN_ORDER


def runner_order(name: str) -> int:
    """Where a runner stands, as the runs recorded it (bench.claims.kit)."""
    return kit_runner_order(name)


GROUP = ["workload", "params", "tasks", "server"]
MODEL = ["interpreter", "runner", "start_method", "client", "pinned"]


def model_label(row: pd.Series, with_interpreter: bool) -> str:
    method = f" ({row['start_method']})" if isinstance(row["start_method"], str) else ""
    client = f" + {row['client']}" if row.get("client") else ""
    python = f" on {row['interpreter']}" if with_interpreter else ""
    pinned = row.get("pinned")
    cores = f" on {int(pinned)} core{'s' if pinned != 1 else ''}" if pinned else ""
    return f"{row['runner']}{method}{client}{python}{cores}"


def row_label(row: pd.Series, with_interpreter: bool = False) -> str:
    method = f" ({row['start_method']})" if isinstance(row["start_method"], str) else ""
    client = f" + {row['client']}" if row.get("client") else ""
    level = "" if is_baseline(row["runner"]) else f" at C={row['concurrency']}"
    python = f" on {row['interpreter']}" if with_interpreter else ""
    return f"{row['runner']}{method}{client}{level}{python}"


ROW_KEY = ["workload", "params", "tasks", "runner", "start_method", "client", "server",
                "concurrency"]
