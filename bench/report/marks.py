"""The quality marks, once: ⚠ noisy, ⌛ short of its precision, ⚡ disturbed, ✗ failed or
meter error, ✗ CPU per task inflated, ‼ above the ideal speedup; their limits and the
words a row is marked with.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from bench.claims.kit import (
    is_parallel,
)

NOISE_LIMIT = 0.10  # IQR / median above this: the row is shown but flagged as not citable
NEIGHBOUR_LIMIT = 0.25  # cores of CPU used outside the suite during a scenario: "disturbed"
OVER_IDEAL = 1.0  # efficiency above this beat the ideal: flagged, with the reason
METER_SLACK = 1.05  # CPU above cores x this is not a reading but a meter error
# A task of pure-Python CPU on one GIL costs the CPU it costs one at a time (sequential's,
# in the same run) whatever runs it; a row whose CPU per task is above that by more than
# this (or the two rows' noise, if larger) paid for something that is not the model's
# (seen: GIL threads at up to 2.4x sequential's CPU under the suite).
INFLATED_SLACK = 0.10


def one_gil_bound(table: pd.DataFrame) -> pd.Series:
    """Rows whose every task is pure-Python CPU (the workload's GIL-holding CPU is its whole
    task time) run by a runner that is not parallel on a build with the GIL on.  Runs from
    before batch records carried `gil_cpu_s` have no such row."""
    if "gil_cpu_s" not in table or "gil_enabled" not in table:
        return pd.Series(False, index=table.index)
    gil_cpu = pd.to_numeric(table["gil_cpu_s"], errors="coerce")
    task = pd.to_numeric(table["task_s"], errors="coerce")
    one_core = ~table["runner"].map(is_parallel).astype(bool)
    return (gil_cpu.notna() & task.notna() & (gil_cpu >= task) & one_core
            & (table["gil_enabled"] == True))  # noqa: E712 - None (unknown) is not True


def inflated_cpu(table: pd.DataFrame) -> pd.Series:
    """Rows of pure-Python CPU on one GIL (one_gil_bound) whose client CPU per task is
    above sequential's in the same run (the same job, one task at a time) by more than
    INFLATED_SLACK or the two rows' noise together: the same sums cost more CPU here."""
    if "baseline_cpu_task_s" not in table:
        return pd.Series(False, index=table.index)
    per_task = pd.to_numeric(table["cpu_s"], errors="coerce") / pd.to_numeric(
        table["tasks"], errors="coerce")
    noise = np.hypot(pd.to_numeric(table["noise"], errors="coerce").fillna(0.0),
                     pd.to_numeric(table["baseline_noise"], errors="coerce").fillna(0.0))
    slack = pd.Series(noise, index=table.index).clip(lower=INFLATED_SLACK)
    alone = pd.to_numeric(table["baseline_cpu_task_s"], errors="coerce")
    return (one_gil_bound(table) & per_task.notna() & alone.notna()
            & (per_task > alone * (1 + slack))).astype(bool)


def marks(row: pd.Series) -> str:
    """The marks that make a row unfit to decide on (the full table explains them)."""
    found = []
    if row["failed_scenario"]:
        found.append("✗ FAILED")
    elif not row["citable"]:
        found.append("⚠")
    if not row["precise"]:
        found.append("⌛")
    if row["disturbed"]:
        found.append("⚡")
    if row["meter_error"]:
        found.append("✗ meter")
    if row.get("inflated_cpu", False):
        found.append("✗ CPU")
    return " ".join(found)
