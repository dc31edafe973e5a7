"""What claim panels draw with: bars, markers and error bars from rows and effects.

Claim modules are imported on the interpreter under test, where matplotlib need not be
installed: nothing here imports it; panels receive the report's Axes and draw on them.
"""

from __future__ import annotations

from bench.claims.kit import (
    Axes,
    Effect,
    Table,
    colour,
    matrix_rows,
    missing,
    speedup_of,
)


def bars(ax: Axes, labels: list[str], values: list[float], colours: list[str],
         errors: list[list[float]] | None = None) -> None:
    x = list(range(len(labels)))
    ax.bar(x, values, 0.6, color=colours, yerr=errors, capsize=3)
    many = len(labels) > 8  # upright labels would run into each other
    ax.set_xticks(x, [label.replace("\n", " ") if many else label for label in labels],
                  fontsize=8, rotation=90 if many else 0)


def wrapped(interpreter: str) -> str:
    """An interpreter's label on lines of its own: version, origin, settings."""
    return interpreter.replace(" (", "\n(").replace(") ", ")\n")


def speedups_by_interpreter(ax: Axes, rows: Table, runners: tuple[str, ...]) -> None:
    """Bars of each runner's cpu speedup over sequential, interpreter by interpreter."""
    cpu = matrix_rows(rows, "cpu")
    labels, values, colours, errors = [], [], [], []
    for interpreter, mine in cpu.groupby("interpreter", sort=False):
        for runner in runners:
            found = speedup_of(mine, runner, 1.0)
            if found is not None:
                labels.append(f"{wrapped(str(interpreter))}\n{runner}")
                values.append(found.value)
                colours.append(colour(runner))
                errors.append(found)
    bars(ax, labels, values, colours, interval_errors(errors))
    ax.axhline(1.0, color="black", linestyle="--", linewidth=1, label="sequential")
    ax.set_ylabel("cpu: speedup over sequential (x)")


def points(ax: Axes, labels: list[str], values: list[float], colours: list[str]) -> None:
    """Markers for values on a log axis, where a bar's length would mean nothing."""
    x = list(range(len(labels)))
    ax.scatter(x, values, s=60, color=colours, zorder=3)
    ax.set_xticks(x, labels, fontsize=8)
    ax.set_xlim(-0.6, len(labels) - 0.4)


def iqr_errors(rows: Table, scale: float = 1.0) -> list[list[float]]:
    """Lower and upper error-bar lengths from each row's quartiles."""
    return [[max(0.0, (m - q1) * scale) for m, q1 in zip(rows["median_s"], rows["q1_s"],
                                                          strict=True)],
            [max(0.0, (q3 - m) * scale) for m, q3 in zip(rows["median_s"], rows["q3_s"],
                                                          strict=True)]]


def interval_errors(effects: list[Effect]) -> list[list[float]]:
    """Error-bar lengths from each effect's 95 % interval (none where it has no interval)."""
    def length(a: float, b: float) -> float:
        return 0.0 if missing(a) or missing(b) else max(0.0, a - b)

    return [[length(e.value, e.low) for e in effects], [length(e.high, e.value) for e in effects]]
