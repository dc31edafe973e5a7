"""The full table as Markdown and CSV: columns, units and notes declared on the record.
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from bench.record import columns as record_columns
from bench.report.formats import fixed, interval_text, sig3, speedup_text
from bench.report.load import atomic_path, write_text
from bench.report.table import SAMPLE_ROWS

MARKDOWN_COLUMNS = {
    "workload": "workload",
    "runner": "runner",
    "client": "HTTP client",
    "server": "server",
    "concurrency": "C",
    "tasks": "tasks",
    "median_ms": "median (ms)",
    "ci_ms": "95% CI (ms)",
    "rounds": "rounds",
    "iqr_ms": "IQR (ms)",
    "noise_pct": "noise (%)",
    "tasks_per_s": "ok tasks/s",
    "speedup": "speedup (x, 95% CI)",
    "per_task_speed": "per-task speed (x)",
    "efficiency_pct": "efficiency (%)",
    # ... then every record field declared with a header (bench.record), in its order ...
    "client_cpu_load": "client CPU (cores)",
    "server_load": "server CPU (cores)",
    "neighbours": "others' CPU (cores)",
    "failed": "failed",
}


def _declared(table: pd.DataFrame) -> dict[str, pd.Series]:
    """The full table's columns that record fields declare (header, scale, digits)."""
    shown = {}
    for name, column in record_columns():
        values = pd.to_numeric(table[column.row or name], errors="coerce") * column.scale
        if not column.header or values.isna().all():  # runs from before it: no column
            continue
        shown[column.header] = values.map(
            sig3 if column.digits == "sig3" else lambda v, f=column.digits: fixed(v, f))
    return shown


def declared_notes(table: pd.DataFrame) -> list[str]:
    """What the column notes say of the declared columns the table shows."""
    return [column.note for name, column in record_columns() if column.header and column.note
            and pd.to_numeric(table[column.row or name], errors="coerce").notna().any()]


def markdown_table(table: pd.DataFrame) -> str:
    """The table for humans: milliseconds, percentages, sensible rounding, units in headers."""
    derived = {
        "interpreter": table["interpreter"],
        "workload": table["workload"],
        "runner": table["runner"] + table["start_method"].map(
            lambda method: f" ({method})" if isinstance(method, str) else ""),
        "client": table["client"],
        "server": table["server"],
        "concurrency": table["concurrency"],
        "tasks": table["tasks"],
        "median_ms": (table["median_s"] * 1000).map(sig3),
        "ci_ms": [interval_text(low * 1000, high * 1000, precise) for low, high, precise
                  in zip(table["ci_low_s"], table["ci_high_s"], table["precise"], strict=True)],
        "rounds": table["rounds"].astype(str),
        "iqr_ms": (table["iqr_s"] * 1000).map(sig3),
        "noise_pct": (table["noise"] * 100).map(lambda v: f"{v:.1f}")
        + table["citable"].map(lambda ok: "" if ok else " ⚠"),
        "tasks_per_s": table["tasks_per_s"].map(sig3)
        + table["faults_injected"].map(lambda faults: " †" if faults else ""),
        "speedup": [speedup_text(value, low, high) for value, low, high in zip(
            table["speedup"], table["speedup_low"], table["speedup_high"], strict=True)]
        + table["over_cores"].map(lambda over: " ‼" if over else ""),
        "per_task_speed": table["per_task_speed"].map(lambda v: fixed(v, "{:.2f}")),
        "efficiency_pct": (table["efficiency"] * 100).map(lambda v: fixed(v, "{:.0f}"))
        + table["over_ideal"].map(lambda over: " ⚑" if over else ""),
        **_declared(table),
        "client_cpu_load": table["client_cpu_load"].map(lambda v: fixed(v, "{:.2f}"))
        + table["meter_error"].map(lambda error: " ✗ meter" if error else "")
        + table["inflated_cpu"].map(lambda inflated: " ✗ CPU" if inflated else ""),
        "server_load": table["server_load"].map(lambda v: fixed(v, "{:.2f}")),
        "neighbours": table["neighbours"].map(lambda v: fixed(v, "{:.2f}"))
        + table["disturbed"].map(lambda disturbed: " ⚡" if disturbed else ""),
        "failed": table["failed"].astype(str) + "/" + table["tasks_run"].astype(str)
        + table["failed_scenario"].map(lambda failed: " ✗ FAILED" if failed else ""),
    }
    shown = pd.DataFrame(derived).rename(columns=MARKDOWN_COLUMNS)
    if table["interpreter"].nunique() < 2:  # one interpreter: REPORT.md names it
        shown = shown.drop(columns=["interpreter"])
    for column in ("client", "server"):  # only where some row has one
        if not (table[column].fillna("") != "").any():
            shown = shown.drop(columns=[MARKDOWN_COLUMNS[column]])
    if "offered_rate" in table and table["offered_rate"].notna().all():
        # Service rows: one long "round" of arrivals; a batch's median, rounds and speedup
        # would describe nothing measured.  Their own columns (rate, latency) stay.
        shown = shown.drop(columns=[MARKDOWN_COLUMNS[column] for column in BATCH_ONLY])
    return str(shown.to_markdown(index=False, disable_numparse=True))


BATCH_ONLY = ("median_ms", "ci_ms", "rounds", "iqr_ms", "noise_pct", "tasks_per_s", "speedup",
              "per_task_speed", "efficiency_pct")


CSV_DROP = ("rounds_data", "rounds_by_pass", "extra", "kinds", "examples", *SAMPLE_ROWS)


def _from(out: Path, where: object) -> object:
    """A run's file as a path from the table's folder (the file beside it: its name), so
    a committed table names no machine's folders."""
    return os.path.relpath(where, out) if isinstance(where, str) and os.path.isabs(where) \
        else where


def write_tables(table: pd.DataFrame, out: Path) -> list[Path]:
    csv_path = out / "table.csv"
    written = table.drop(columns=list(CSV_DROP))
    for column in ("source", "session"):
        if column in written:
            written[column] = written[column].map(lambda where: _from(out.resolve(), where))
    with atomic_path(csv_path) as partial:
        written.to_csv(partial, index=False, float_format="%.6g")
    return [csv_path, write_text(out / "table.md", markdown_table(table) + "\n")]
