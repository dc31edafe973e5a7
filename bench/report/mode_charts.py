"""Charts of the other kinds of run: claims (one panel per claim), interpreters (speedup
and round time per runner on each Python) and service mode (latency against offered
rate).  The same footnote, colours and file formats as bench.report.charts.
"""

from __future__ import annotations

import math
import textwrap
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.lines import Line2D

from bench.claims import CLAIMS
from bench.claims.kit import baseline_name, baseline_rows, is_baseline
from bench.claims.kit import colour as _colour
from bench.claims.panels import wrapped
from bench.report.charts import (
    NOISY_HATCH,
    PANELS_PER_ROW,
    add_footnote,
    legend_above_data,
    save_figure,
)
from bench.report.keys import runner_order


def write_interpreters_chart(table: pd.DataFrame, out: Path, footnote: str) -> list[Path]:
    """The cpu workload on each interpreter, one group of bars per interpreter and one bar
    per runner (at its highest concurrency): the speedup over that interpreter's own
    sequential (left) and the round time itself (right, so that a model on one Python can
    be seen to beat another model on another); whiskers are 95 % intervals.  Nothing if
    the run has no cpu rows."""
    cpu = table[(table["workload"] == "cpu") & (table["claim"] == "")
                & table["speedup"].notna()]
    if cpu.empty:
        return []
    top = cpu[cpu["concurrency"] == cpu.groupby(["interpreter", "runner"])["concurrency"]
              .transform("max")]
    interpreters = list(dict.fromkeys(table["interpreter"]))
    runners = sorted(top["runner"].unique(), key=runner_order)
    fig, (left, right) = plt.subplots(1, 2, figsize=(3.0 + 3.6 * len(interpreters), 5.4))
    panels = ((left, "speedup", "speedup_low", "speedup_high", 1.0, "{:.2f}x",
               "speedup over its own sequential (x)"),
              (right, "median_s", "ci_low_s", "ci_high_s", 1000.0, "{:.0f}",
               "median round (ms; lower is faster)"))
    for ax, column, low, high, scale, text, ylabel in panels:
        shown = [r for r in runners if column != "speedup" or not is_baseline(r)]
        width = 0.8 / max(len(shown), 1)
        for index, runner in enumerate(shown):
            mine = top[top["runner"] == runner].set_index("interpreter").reindex(interpreters)
            x = np.arange(len(interpreters)) + (index - (len(shown) - 1) / 2) * width
            values = mine[column].astype(float) * scale
            errors = np.nan_to_num(np.vstack([values - mine[low].astype(float) * scale,
                                              mine[high].astype(float) * scale - values])
                                   .clip(min=0))
            bars = ax.bar(x, values, width, yerr=errors, capsize=2, label=runner,
                          color=_colour(runner))
            for bar, value, citable in zip(bars, values, mine["citable"], strict=True):
                if not pd.isna(value):
                    ax.annotate(text.format(value), (bar.get_x() + bar.get_width() / 2, value),
                                ha="center", va="bottom", fontsize=8)
                    if citable is False:
                        bar.set_hatch(NOISY_HATCH)
        ax.set_xticks(np.arange(len(interpreters)), [f"Python {wrapped(i)}" for i in interpreters],
                      fontsize=9)
        ax.set_ylabel(f"cpu workload: {ylabel}")
        ax.set_ylim(bottom=0)
        ax.grid(axis="y", alpha=0.3)
    left.axhline(1.0, color=_colour(baseline_name()), linestyle="--", linewidth=1.2,
                 label="sequential = 1")
    legend_above_data(left)
    legend_above_data(right)
    levels = ", ".join(f"C={c}" for c in sorted(top.loc[~baseline_rows(top["runner"]),
                                                        "concurrency"].unique()))
    fig.suptitle(f"Pure-Python CPU work on each interpreter ({levels}; whiskers: 95 % "
                 "intervals)", fontsize=12)
    add_footnote(fig, footnote, size=7)
    fig.tight_layout(rect=(0, 0.04, 1, 1))
    return save_figure(fig, out, "interpreters")


def write_claims_chart(table: pd.DataFrame, titles: dict[str, str], out: Path,
                       footnote: str) -> list[Path]:
    """One figure, a panel per claim in `titles` (in registry order), titled with the claim
    and its verdict; the grid is sized from them."""
    shown = [claim for claim in CLAIMS if claim.key in titles]
    columns = min(PANELS_PER_ROW, len(shown))
    grid_rows = math.ceil(len(shown) / columns)
    fig, axes = plt.subplots(grid_rows, columns, figsize=(5.7 * columns, 4.8 * grid_rows + 0.1),
                             squeeze=False)
    for ax, claim in zip(axes.flat, shown, strict=False):
        rows = table[table["claim"] == claim.key] if claim.own_rows else table
        ax.set_title(titles.get(claim.key, claim.key), fontsize=9)
        if rows.empty:
            ax.text(0.5, 0.5, "not measured", ha="center", transform=ax.transAxes)
            continue
        claim.panel(ax, rows)
        ax.grid(axis="y", alpha=0.3)
        if ax.get_legend_handles_labels()[0]:
            legend_above_data(ax)
    for ax in axes.flat[len(shown):]:
        ax.set_visible(False)
    if any(len(ax.get_xticks()) > 8 for ax in axes.flat[:len(shown)]):  # upright labels
        width, height = fig.get_size_inches()
        fig.set_size_inches(width, height + 2.4 * grid_rows)
    fig.suptitle("The claims, measured", fontsize=14)
    add_footnote(fig, footnote)
    fig.tight_layout(rect=(0, 0.02, 1, 0.97))
    return save_figure(fig, out, "claims")


def write_service_chart(table: pd.DataFrame, out: Path, footnote: str) -> list[Path]:
    """Service mode: latency from scheduled arrival against offered rate, one line per
    model (p99 solid, p50 dotted), a panel per workload; the SLO as a line where given.
    The hockey stick: flat while the model keeps up, then the queue grows."""
    rows = table[table["offered_rate"].notna() & ~table["failed_scenario"]]
    if rows.empty:
        return []
    groups = list(rows.groupby(["workload", "params", "server"], sort=False, dropna=False))
    fig, axes = plt.subplots(1, len(groups), figsize=(6.5 * len(groups), 4.8), squeeze=False)
    several = rows["interpreter"].nunique() > 1
    for ax, ((workload, params, _), group) in zip(axes.flat, groups, strict=True):
        for _, model in group.groupby(["interpreter", "runner", "start_method", "client",
                                       "concurrency"], sort=False, dropna=False):
            model = model.sort_values("offered_rate")
            first = model.iloc[0]
            label = (f"{first['runner']}" + (f" + {first['client']}" if first["client"] else "")
                     + f" C={first['concurrency']}"
                     + (f" on {first['interpreter']}" if several else ""))
            ax.plot(model["offered_rate"], model["arrival_latency_p99_s"] * 1000, marker="o",
                    color=_colour(str(first["runner"])), label=label)
            ax.plot(model["offered_rate"], model["arrival_latency_p50_s"] * 1000, marker=".",
                    linestyle=":", color=_colour(str(first["runner"])))
        slo = group["slo_s"].dropna()
        if not slo.empty:
            ax.axhline(float(slo.iloc[0]) * 1000, color="red", linestyle="--", linewidth=1,
                       label=f"SLO {float(slo.iloc[0]) * 1000:g} ms")
        ax.set_yscale("log")
        ax.set_xlabel("offered rate (requests per second)")
        ax.set_ylabel("latency from scheduled arrival (ms, log)")
        ax.set_title("\n".join(textwrap.wrap(f"{workload} ({params})", 60)), fontsize=9)
        ax.grid(alpha=0.3)
        # The line styles are the same for every model: one legend entry each.
        handles, _ = ax.get_legend_handles_labels()
        styles = [Line2D([], [], color="grey", marker="o", label="p99 (solid)"),
                  Line2D([], [], color="grey", marker=".", linestyle=":",
                         label="p50 (dotted)")]
        ax.legend(handles=[*handles, *styles], fontsize=7)
    fig.suptitle("Latency against offered load", fontsize=12)
    add_footnote(fig, footnote)
    fig.tight_layout(rect=(0, 0.03, 1, 0.95))
    return save_figure(fig, out, "service")
