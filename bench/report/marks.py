"""The quality marks, once: ⚠ noisy, ⌛ short of its precision, ⚡ disturbed, ✗ failed or
meter error, ‼ above the ideal speedup; their limits and the words a row is marked with.
"""

from __future__ import annotations

import pandas as pd

from bench.claims.kit import (
    is_parallel,
)

NOISE_LIMIT = 0.10  # IQR / median above this: the row is shown but flagged as not citable
NEIGHBOUR_LIMIT = 0.25  # cores of CPU used outside the suite during a scenario: "disturbed"
OVER_IDEAL = 1.0  # efficiency above this beat the ideal: flagged, with the reason
METER_SLACK = 1.05  # CPU above cores x this is not a reading but a meter error


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
    return " ".join(found)
