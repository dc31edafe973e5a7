"""Charts of the scenario table: wall time, scaling, speedup/efficiency, latency.

One panel per workload (and size); one colour per runner, the same in every chart.
Every figure gets a title, labelled axes with units, a legend and a footnote naming
the machine, the Python build and the run date, so a pasted chart still says where
it came from.  Each chart is written as PNG (for pasting) and SVG (for print).
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only; never needs a display
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from bench.claims.kit import baseline_name, baseline_rows, is_baseline
from bench.claims.kit import colour as _colour
from bench.report.keys import runner_order
from bench.report.load import atomic_path
from bench.report.marks import NOISE_LIMIT
from workloads.clients import CLIENTS, DEFAULT_FOR

matplotlib.rcParams["svg.hashsalt"] = "concurrency-bench"  # stable ids: same data, same SVG

LOG_SCALE_RANGE = 20  # use a log axis when the largest value is this many times the smallest
PANEL_KEYS = ["interpreter", "workload", "params", "tasks", "server", "pinned"]
PANELS_PER_ROW = 3
DPI = 130
LEGEND_HEADROOM = 1.3  # linear axes: extra top room for the legend, as a factor of the span
LEGEND_HEADROOM_LOG = 6.0  # log axes: the same, as a factor of the top value
NOISY_HATCH = "///"  # bars (and hollow markers) of rows too noisy to cite
LOG_NOTE = " — log scale"
PanelDraw = Callable[[Axes, pd.DataFrame], None]
CLIENT_ORDER = list(CLIENTS)
CLIENT_COLOURS = {"aiohttp": "#4c72b0", "httpx": "#dd8452", "requests": "#55a868", "": "#999999"}


def _panels(table: pd.DataFrame) -> Iterator[tuple[str, pd.DataFrame]]:
    """One panel per workload and size, and per interpreter where the run has several."""
    several = table["interpreter"].nunique() > 1
    for (interpreter, workload, params, tasks, server, pinned), rows in table.groupby(
            PANEL_KEYS, sort=False):
        detail = f"\n{params}" if params else ""
        python = f"Python {interpreter} | " if several else ""
        served = f" | {server} server" if server else ""
        cores = f" | on {pinned} core{'s' if pinned != 1 else ''}" if pinned else ""
        yield f"{python}{workload}: {tasks} tasks{served}{cores}{detail}", rows


def _concurrent_runners(rows: pd.DataFrame) -> list[str]:
    present = [r for r in rows["runner"].unique() if not is_baseline(r)]
    return sorted(present, key=runner_order)


def _wants_log(values: pd.Series) -> bool:
    positive = values[values > 0].dropna()
    return bool(len(positive)) and positive.max() / positive.min() > LOG_SCALE_RANGE


def _log_axis(ax: Axes, label: str) -> None:
    """A log y-axis that says so in its label."""
    ax.set_yscale("log")
    ax.set_ylabel(label + LOG_NOTE)


def _zero_based(ax: Axes) -> None:
    """Linear axes of times, rates and ratios start at zero, so a gap looks its true size."""
    if ax.get_yscale() == "linear":
        ax.set_ylim(bottom=0)


def _grouped(ax: Axes, rows: pd.DataFrame, column: str, label: str, scale: float = 1.0,
             interval: tuple[str, str] | None = None, log_allowed: bool = True) -> None:
    """`column` per runner, grouped by concurrency level: bars on a linear axis; on a log
    axis (values spanning more than LOG_SCALE_RANGE), markers, since a bar's length means
    nothing there.  Whiskers: the 95 % interval from the `interval` columns (low, high).
    Noisy rows are hatched (bars) or hollow (markers)."""
    runners = _concurrent_runners(rows)
    levels = sorted(rows.loc[~baseline_rows(rows["runner"]), "concurrency"].unique())
    width = 0.8 / max(len(runners), 1)
    log = log_allowed and _wants_log(rows[column] * scale)
    for index, runner in enumerate(runners):
        mine = rows[rows["runner"] == runner].set_index("concurrency").reindex(levels)
        x = np.arange(len(levels)) + (index - (len(runners) - 1) / 2) * width
        heights = (mine[column] * scale).to_numpy(dtype=float)
        noisy = ~mine["citable"].fillna(True).astype(bool).to_numpy()
        yerr = None
        if interval is not None:
            low, high = (mine[name].astype(float) for name in interval)
            yerr = np.nan_to_num(np.vstack([(mine[column] - low) * scale,
                                            (high - mine[column]) * scale]).clip(min=0))
        if log:
            ax.errorbar(x, heights, yerr=yerr, fmt="none", ecolor=_colour(runner), capsize=2)
            ax.scatter(x[~noisy], heights[~noisy], color=_colour(runner), label=runner, zorder=3)
            ax.scatter(x[noisy], heights[noisy], facecolors="none", edgecolors=_colour(runner),
                       zorder=3)
        else:
            bars = ax.bar(x, heights, width, yerr=yerr, capsize=2, label=runner,
                          color=_colour(runner))
            for bar, is_noisy in zip(bars, noisy, strict=True):
                if is_noisy:
                    bar.set_hatch(NOISY_HATCH)
    ax.set_xticks(np.arange(len(levels)), [str(level) for level in levels])
    ax.set_xlabel("concurrency (tasks in flight)")
    if log:
        _log_axis(ax, label)
    else:
        ax.set_ylabel(label)


def _sequential_line(ax: Axes, rows: pd.DataFrame, column: str, scale: float = 1.0) -> None:
    baseline = rows.loc[baseline_rows(rows["runner"]), column].dropna()
    if len(baseline):
        ax.axhline(float(baseline.iloc[0]) * scale, color=_colour(baseline_name()), linestyle="--",
                   linewidth=1.2, label=baseline_name())


def _no_baseline(ax: Axes) -> None:
    ax.text(0.5, 0.5, "no sequential baseline in this run:\nadd sequential to --runner",
            ha="center", va="center", transform=ax.transAxes, fontsize=9)
    ax.set_xticks([])
    ax.set_yticks([])


def _draw_wall_time(ax: Axes, rows: pd.DataFrame) -> None:
    _grouped(ax, rows, "median_s", "wall time per round (ms, median; whiskers: 95 % CI)",
             scale=1000, interval=("ci_low_s", "ci_high_s"))
    _sequential_line(ax, rows, "median_s", scale=1000)
    levels = sorted(rows.loc[~baseline_rows(rows["runner"]), "concurrency"].unique())
    ideal = rows[~baseline_rows(rows["runner"])].groupby("concurrency")["ideal_s"].first()
    centres = np.arange(len(levels))
    ax.hlines(ideal.reindex(levels) * 1000, centres - 0.42, centres + 0.42, colors="black",
              linestyles="dashed", linewidth=1.5, zorder=4, label="ideal")
    _zero_based(ax)


def _draw_scaling(ax: Axes, rows: pd.DataFrame) -> None:
    for runner in _concurrent_runners(rows):
        mine = rows[rows["runner"] == runner].sort_values("concurrency")
        ax.plot(mine["concurrency"], mine["tasks_per_s"], color=_colour(runner), label=runner)
        noisy = ~mine["citable"].astype(bool)
        ax.scatter(mine.loc[~noisy, "concurrency"], mine.loc[~noisy, "tasks_per_s"],
                   color=_colour(runner), zorder=3)
        ax.scatter(mine.loc[noisy, "concurrency"], mine.loc[noisy, "tasks_per_s"],
                   facecolors="white", edgecolors=_colour(runner), zorder=3)
    others = rows[~baseline_rows(rows["runner"])]
    ideal = others.groupby("concurrency")["ideal_s"].first().sort_index()
    tasks = float(rows["tasks"].iloc[0])
    ax.plot(ideal.index, tasks / ideal, linestyle=":", color="black", label="ideal")
    _sequential_line(ax, rows, "tasks_per_s")
    ax.set_xscale("log", base=2)
    ax.set_xticks(list(ideal.index), [str(level) for level in ideal.index])
    ax.set_xlabel("concurrency (tasks in flight, log scale)")
    label = "throughput (ok tasks/s, from median)"
    if _wants_log(pd.concat([rows["tasks_per_s"], tasks / ideal])):
        _log_axis(ax, label)
    else:
        ax.set_ylabel(label)
        _zero_based(ax)


def _draw_speedup(ax: Axes, rows: pd.DataFrame) -> None:
    if rows["speedup"].dropna().empty:
        _no_baseline(ax)
        return
    _grouped(ax, rows, "speedup", "speedup over sequential (x; whiskers: 95 % CI)",
             interval=("speedup_low", "speedup_high"))
    ax.axhline(1.0, color=_colour(baseline_name()), linestyle="--", linewidth=1.2,
               label="sequential = 1")
    # The most running side by side can give at each level (min(C, cores) for CPU work,
    # C for waits: the line is the level's highest); a speedup whose whole interval is
    # above its own row's bound (1 for pure-Python CPU in one GIL process) is marked ‼.
    levels = sorted(rows.loc[~baseline_rows(rows["runner"]), "concurrency"].unique())
    bound = rows[~baseline_rows(rows["runner"])].groupby("concurrency")["speedup_bound"].max()
    centres = np.arange(len(levels))
    if bound.reindex(levels).notna().any() and bound.max() <= 4 * rows["speedup"].max():
        ax.hlines(bound.reindex(levels), centres - 0.42, centres + 0.42, colors="black",
                  linestyles="dotted", linewidth=1.5, zorder=4, label="ideal speedup")
    runners = _concurrent_runners(rows)
    width = 0.8 / max(len(runners), 1)
    beyond = rows[rows["over_cores"].fillna(False).astype(bool)]
    for _, row in beyond.iterrows():
        # Over its own bar or marker: the same offset within its level as _grouped gives it.
        x = levels.index(row["concurrency"]) + (
            runners.index(row["runner"]) - (len(runners) - 1) / 2) * width
        ax.annotate("‼", (x, row["speedup_high"]), ha="center", va="bottom", fontsize=10,
                    color="#b00000")
    _zero_based(ax)


def _draw_efficiency(ax: Axes, rows: pd.DataFrame) -> None:
    if rows["efficiency"].dropna().empty:
        ax.text(0.5, 0.5, "no ideal time for these rows", ha="center", va="center",
                transform=ax.transAxes, fontsize=9)
        return
    # A share of the ideal: always linear, from zero.
    _grouped(ax, rows, "efficiency", "efficiency (ideal time / median, %)", scale=100,
             log_allowed=False)
    ax.axhline(100.0, color="black", linestyle=":", linewidth=1.2, label="ideal = 100 %")
    ax.set_ylim(0, max(110.0, float((rows["efficiency"] * 100).max()) * 1.1))


def _draw_latency(ax: Axes, rows: pd.DataFrame) -> None:
    ordered = rows.assign(_r=rows["runner"].map(runner_order))
    ordered = ordered.sort_values(["_r", "concurrency"])
    x = np.arange(len(ordered))
    # The caller's wait (hand-over to result back) where the run recorded it; older runs
    # have the service time only, and the axis says which it is.
    clock = "wait" if ordered["wait_p50_s"].notna().any() else "latency"
    p50, p95, p99 = (ordered[f"{clock}_p{q}_s"] * 1000 for q in (50, 95, 99))
    colours = [_colour(r) for r in ordered["runner"]]
    log = _wants_log(pd.concat([p50, p99]))
    if log:  # markers, not bars, on a log axis
        ax.scatter(x, p50, color=colours, zorder=3, label="p50")
    else:
        ax.bar(x, p50, 0.7, color=colours)
    spread = np.vstack([np.zeros(len(x)), (p99 - p50).clip(lower=0).to_numpy()])
    ax.errorbar(x, p50, yerr=spread, fmt="none",
                ecolor="black", capsize=3, linewidth=1, label="p50 to p99")
    ax.scatter(x, p95, marker="D", s=14, color="black", zorder=3, label="p95")
    labels = [("seq" if is_baseline(r) else f"{r}\nC={c}")
              for r, c in zip(ordered["runner"], ordered["concurrency"], strict=True)]
    ax.set_xticks(x, labels, fontsize=7, rotation=90)
    what = "caller's wait per task" if clock == "wait" else "per-task service time"
    label = f"{what} (ms; " + ("dot" if log else "bar") + ": p50)"
    if log:
        _log_axis(ax, label)
    else:
        ax.set_ylabel(label)
        _zero_based(ax)
    for runner in ordered["runner"].unique():
        ax.bar([0], [0], color=_colour(runner), label=runner)  # legend swatch only


CHARTS: dict[str, tuple[str, list[PanelDraw]]] = {
    "wall_time": ("Wall time per round by runner and concurrency", [_draw_wall_time]),
    "scaling": ("Throughput as concurrency grows", [_draw_scaling]),
    "speedup_efficiency": ("Speedup over sequential (top) and efficiency vs ideal (bottom)",
                           [_draw_speedup, _draw_efficiency]),
    "latency": ("Per-task latency percentiles: the caller's wait, from hand-over to result",
                [_draw_latency]),
}

NOISY_NOTE = (f"hatched bars / hollow markers: noise (IQR / median) above {NOISE_LIMIT:.0%}, "
              "not citable without a rerun")


def add_footnote(fig: Figure, *lines: str, size: int = 7) -> None:
    """Where the figure came from, at its foot, wrapped to the figure's width so that a
    narrow (one-panel) figure does not cut it off."""
    width = int(fig.get_figwidth() * 120 / size)  # characters of this size per line
    text = "\n".join(textwrap.fill(line, width) for line in lines if line)
    fig.text(0.01, 0.005, text, fontsize=size, color="#444444", ha="left", va="bottom")
    fig.set_label(lines[0])  # and in the file's metadata (save_figure), for a docs check


def legend_above_data(ax: Axes) -> None:
    """Make headroom at the top of the axes and put the legend there, clear of the data."""
    low, high = ax.get_ylim()
    ax.set_ylim(low, high * LEGEND_HEADROOM_LOG if ax.get_yscale() == "log"
                else low + (high - low) * LEGEND_HEADROOM)
    ax.legend(fontsize=7, loc="upper left", ncol=3, framealpha=0.9)


def _figure(table: pd.DataFrame, title: str, draws: list[PanelDraw],
            footnote: str) -> Figure:
    panels = list(_panels(table))
    columns = min(len(panels), PANELS_PER_ROW)
    rows_per_panel = len(draws)
    grid_rows = math.ceil(len(panels) / columns) * rows_per_panel
    fig, axes = plt.subplots(grid_rows, columns, figsize=(5.6 * columns, 4.4 * grid_rows + 0.9),
                             squeeze=False)
    for index, (label, rows) in enumerate(panels):
        row, column = divmod(index, columns)
        for offset, draw in enumerate(draws):
            ax = axes[row * rows_per_panel + offset][column]
            draw(ax, rows)
            ax.set_title(label, fontsize=10)
            ax.grid(axis="y", alpha=0.3)
            if ax.get_legend_handles_labels()[0]:
                legend_above_data(ax)
    for ax in axes.flat[len(panels) * rows_per_panel:]:
        ax.set_visible(False)
    fig.suptitle(textwrap.fill(title, int(fig.get_figwidth() * 120 / 13)), fontsize=13)
    add_footnote(fig, footnote, "" if table["citable"].all() else NOISY_NOTE)
    fig.tight_layout(rect=(0, 0.04, 1, 0.97))
    return fig


def default_clients(table: pd.DataFrame) -> pd.DataFrame:
    """Each runner's rows with its twin's default HTTP client (aiohttp or requests) where
    it has several; the other clients are compared in their own chart."""
    several = table.groupby([*PANEL_KEYS, "runner"], sort=False)["client"].transform("nunique")
    return table[(several < 2) | table["client"].isin(list(DEFAULT_FOR.values()))]


def write_charts(table: pd.DataFrame, out: Path, footnote: str) -> list[Path]:
    """Write every chart as PNG and SVG into `out`; return the paths written."""
    written = []
    # A failed scenario is not a result: it has a row in the table, but no place in a chart.
    # Every run keeps its own panels (runs are labelled apart), so none is dropped.
    latest = table[~table["failed_scenario"]]
    for name, (title, draws) in CHARTS.items():
        fig = _figure(default_clients(latest), title, draws, footnote)
        written += save_figure(fig, out, name)
    if (latest.groupby([*PANEL_KEYS, "runner"])["client"].nunique() > 1).any():
        written += save_figure(_clients_figure(latest, footnote), out, "http_clients")
    return written


def _clients_figure(table: pd.DataFrame, footnote: str) -> Figure:
    """Throughput of each runner with each HTTP client, at the highest concurrency every
    panel ran: one panel per workload, size and server."""
    panels = list(_panels(table))
    columns = min(len(panels), PANELS_PER_ROW)
    grid_rows = math.ceil(len(panels) / columns)
    fig, axes = plt.subplots(grid_rows, columns, figsize=(5.6 * columns, 4.4 * grid_rows + 0.9),
                             squeeze=False)
    for ax, (label, rows) in zip(axes.flat, panels, strict=False):
        concurrent = rows[~baseline_rows(rows["runner"])]
        level = int(concurrent["concurrency"].max()) if len(concurrent) else 1
        shown = rows[(rows["concurrency"] == level) | (baseline_rows(rows["runner"]))]
        runners = sorted(shown["runner"].unique(), key=runner_order)
        clients = sorted(shown["client"].unique(), key=lambda c: (c not in CLIENT_ORDER, c))
        width = 0.8 / max(len(clients), 1)
        for index, client in enumerate(clients):
            mine = shown[shown["client"] == client].groupby("runner").first().reindex(runners)
            x = np.arange(len(runners)) + (index - (len(clients) - 1) / 2) * width
            bars = ax.bar(x, mine["tasks_per_s"].to_numpy(dtype=float), width, label=client,
                          color=CLIENT_COLOURS.get(client, "#777777"),
                          edgecolor=[_colour(r) for r in runners], linewidth=1.5)
            for bar, citable in zip(bars, mine["citable"].fillna(True), strict=True):
                if not citable:
                    bar.set_hatch(NOISY_HATCH)
        ax.set_xticks(np.arange(len(runners)), runners, fontsize=8)
        ax.set_ylabel(f"throughput at C={level} (ok tasks/s, from median)")
        ax.set_title(label, fontsize=10)
        ax.grid(axis="y", alpha=0.3)
        _zero_based(ax)
        low, high = ax.get_ylim()
        ax.set_ylim(low, low + (high - low) * LEGEND_HEADROOM)
        ax.legend(handles=[Patch(facecolor=CLIENT_COLOURS.get(c, "#777777"), label=c)
                           for c in clients], fontsize=7, loc="upper left", ncol=3)
    for ax in axes.flat[len(panels):]:
        ax.set_visible(False)
    sequential = f" ({baseline_name()}: C=1)" if baseline_rows(table["runner"]).any() else ""
    fig.suptitle(f"Each model with each HTTP client{sequential}", fontsize=13)
    add_footnote(fig, footnote, "" if table["citable"].all() else NOISY_NOTE)
    fig.tight_layout(rect=(0, 0.04, 1, 0.97))
    return fig


def save_figure(fig: Figure, out: Path, name: str) -> list[Path]:
    """Write `fig` as PNG and SVG (each atomically) and close it.  The run it was drawn
    from (its footnote's first line: machine, build, run time, commit) is the files'
    Description, so a page that shows a chart can check it is the one its data makes."""
    paths = []
    try:
        for suffix in ("png", "svg"):
            path = out / f"{name}.{suffix}"
            with atomic_path(path) as partial:
                # No date in the SVG: the same data makes the same file.
                metadata = {"Description": fig.get_label()} | (
                    {"Date": None} if suffix == "svg" else {})
                fig.savefig(partial, dpi=DPI, format=suffix, metadata=metadata)
            paths.append(path)
    finally:
        plt.close(fig)
    return paths
