"""Claim 11: the free-threaded build costs single-thread speed.  Compares the sequential
cpu rows of a free-threaded build with the GIL build of the same version, both in one
interpreters run."""

from __future__ import annotations

from bench.claims.kit import (
    FAILS,
    HOLDS,
    LIMITS,
    MISSING,
    Axes,
    Claim,
    Table,
    Verdict,
    bars,
    colour,
    faster,
    matrix_rows,
    ms,
    one,
    p_text,
    significant,
)

KEY = "c11_free_threaded_cost"
COSTS = 1.05  # "costs": the free-threaded build at least 5 % slower, significantly


def _version(interpreter: str) -> str:
    """'3.13' from '3.13.0t' or '3.13.0'."""
    return ".".join(interpreter.split(".")[:2])


def pairs(table: Table) -> list[tuple[str, str, Table, Table]]:
    """(GIL build, free-threaded build, their sequential cpu rows) of one version each."""
    rows = matrix_rows(table, "cpu")
    rows = rows[rows["runner"] == "sequential"]
    found = []
    for free, free_rows in rows[rows["free_threaded_build"]].groupby("interpreter"):
        same = rows[~rows["free_threaded_build"]
                    & (rows["interpreter"].map(_version) == _version(str(free)))]
        for gil, gil_rows in same.groupby("interpreter"):
            found.append((str(gil), str(free), gil_rows, free_rows))
    return found


def check(table: Table) -> Verdict:
    found = pairs(table)
    if not found:
        return Verdict(CLAIM, MISSING, "needs a free-threaded build and the GIL build of the "
                       "same version in one run, with sequential on the cpu workload")
    parts, costs, measurable = [], True, True
    for gil, free, gil_rows, free_rows in found:
        base, mine = one(gil_rows), one(free_rows)
        assert base is not None and mine is not None
        ratio = float(mine["median_s"]) / float(base["median_s"])
        p = faster(base["rounds_data"], mine["rounds_data"])
        costs &= significant(p) and ratio >= COSTS
        measurable &= significant(p)
        parts.append(f"sequential cpu: {free} {ms(float(mine['median_s']))} vs {gil} "
                     f"{ms(float(base['median_s']))} = {ratio:.2f}x ("
                     f"{p_text(p, f'{gil} faster')}; 'costs' = at least {COSTS:.2f}x)")
        if free.rstrip("t").split(" ")[0] != gil.split(" ")[0]:
            parts[-1] += (f" -- the patch levels differ ({gil} and {free}), so part of the "
                          "gap may be the patches, not the build")
    verdict = HOLDS if costs else LIMITS if measurable else FAILS
    return Verdict(CLAIM, verdict, "; ".join(parts))


def panel(ax: Axes, rows: Table) -> None:
    labels, values, colours = [], [], []
    for gil, free, gil_rows, free_rows in pairs(rows):
        for label, mine in ((gil, gil_rows), (free, free_rows)):
            labels.append(label)
            values.append(float(mine["median_s"].iloc[0]) * 1000)
            colours.append(colour("sequential"))
    bars(ax, labels, values, colours)
    ax.set_ylabel("sequential cpu round (ms)")


CLAIM = Claim(KEY, "The free-threaded build costs single-thread speed.", check, panel,
              matrix=True)
