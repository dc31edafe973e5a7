"""The report's "Scaling with cores" section, for a run made with `--cores K[,K]`: each model
measured with the client and its workers pinned to K cores (bench.pinning), side by side.

Closed batches: each model's round on the fewest cores over its round on K, with the 95 %
interval of that ratio (above 1 = faster with more cores).  Service mode: each model's
saturation bracket on each K.  Nothing is said of core counts not measured.
"""

from __future__ import annotations

import pandas as pd

from bench.claims.c15_one_core import model_bracket
from bench.claims.kit import (
    ratio_term,
)
from bench.report.formats import quoted
from bench.report.keys import model_label
from bench.report.table import speedup_interval

KEYS = ["workload", "params", "tasks", "server", "interpreter", "runner", "start_method",
        "client", "concurrency"]


def cores_markdown(table: pd.DataFrame) -> list[str]:
    if "pinned" not in table:
        return []
    rows = table[(table["claim"] == "") & (table["pinned"] > 0) & ~table["failed_scenario"]]
    levels = sorted(int(k) for k in rows["pinned"].unique())
    if len(levels) < 2:
        return []
    service = "offered_rate" in rows and rows["offered_rate"].notna().any()
    keys = [key for key in KEYS if not (service and key == "tasks")]
    lines = ["## Scaling with cores", "",
             "Each model measured with the client and its workers pinned to K of this "
             "machine's cores (the test server is not pinned), K = "
             + ", ".join(map(str, levels)) + ".  "
             + ("Each cell is the model's saturation: the highest rate it kept, and the next "
                "rate it did not." if service else
                f"Each cell is the median round; the last column is the round on {levels[0]} "
                f"core(s) over the round on {levels[-1]}, with its 95 % interval (above 1 = "
                "faster with more cores)."), "",
             "| workload | model | C | " + " | ".join(f"K={k}" for k in levels)
             + ("" if service else f" | gain K={levels[-1]} over K={levels[0]}") + " |",
             "|---|---|---|" + "---|" * (len(levels) + (0 if service else 1))]
    group_keys = [key for key in keys if key != "tasks"] if service else keys
    for _, model in rows.groupby(group_keys, sort=False, dropna=False):
        if model["pinned"].nunique() < 2:
            continue
        first = model.iloc[0]
        cells = []
        for k in levels:
            mine = model[model["pinned"] == k]
            if mine.empty:
                cells.append("-")
            elif service:
                best, above = model_bracket(mine)
                cells.append(("-" if best is None else quoted(best))
                             + (f" to {quoted(above)}" if above is not None else "+"))
            else:
                cells.append(f"{quoted(float(mine['median_s'].iloc[0]) * 1000)} ms")
        if not service:
            few = model[model["pinned"] == levels[0]]
            many = model[model["pinned"] == levels[-1]]
            if few.empty or many.empty:
                cells.append("-")
            else:
                ratio = float(few["median_s"].iloc[0]) / float(many["median_s"].iloc[0])
                found = speedup_interval(few["rounds_by_pass"].iloc[0],
                                         many["rounds_by_pass"].iloc[0],
                                         ratio_term(few.iloc[0], many.iloc[0]))
                interval = "" if not found.known else \
                    f" ({quoted(found.low)}-{quoted(found.high)})"
                cells.append(f"{quoted(ratio)}x{interval}")
        lines.append(f"| {first['workload']} | {model_label(first.drop('pinned'), False)} | "
                     f"{first['concurrency']} | "
                     + " | ".join(cells) + " |")
    return [*lines, ""]
