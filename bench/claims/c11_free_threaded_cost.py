"""Claim 11: the free-threaded build costs single-thread speed.  Compares the sequential
cpu rows of a free-threaded build (GIL off) with the GIL build of the same version, both in
one interpreters run; the verdict comes from these pairs.  Two builds that differ in more
than the GIL (patch level, compiler, configure flags) cannot decide it: the gap could be any
of those.  Where the run also has the free-threaded binary with PYTHON_GIL=1, that column
against the same binary with the GIL off is shown beside it: how much of the cost is the GIL
being off at run time rather than how the build was made (it does not decide the claim,
which is about the build)."""

from __future__ import annotations

import re

from bench.claims.kit import (
    FAILS,
    HOLDS,
    INCONCLUSIVE,
    MISSING,
    Axes,
    Row,
    Table,
    colour,
    matrix_rows,
    missing,
    ms,
    one,
    ratio,
    undecided,
)
from bench.claims.panels import bars
from bench.claims.registry import (
    MATRIX_RUN,
    Verdict,
    register_claim,
)

KEY = "c11_free_threaded_cost"
COSTS = 1.05  # "costs": the free-threaded round over the GIL build's wholly above 1.05x


def _version(interpreter: str) -> str:
    """'3.13' from '3.13.0t' or '3.13.0'."""
    return ".".join(interpreter.split(".")[:2])


def _patch(interpreter: str) -> str:
    """'3.13.5' from '3.13.5t', '3.13.5t GIL on' or '3.13.5 (cp313)'."""
    return interpreter.split(" ")[0].rstrip("t")


def _flags(row: Row) -> str | None:
    """The configure flags less what the free-threaded build must differ in and where it
    is installed; None where the run did not record them."""
    args = row.get("config_args")
    if missing(args) or not isinstance(args, str):
        return None
    kept = [arg.strip("'\"") for arg in re.split(r"\s+", args.strip())]
    return " ".join(sorted(arg for arg in kept if arg and not arg.startswith("--prefix")
                           and arg != "--disable-gil"))


def confounds(gil: str, free: str, base: Row, mine: Row) -> list[str]:
    """What, besides the GIL, differs between the two builds."""
    found = []
    if _patch(gil) != _patch(free):
        found.append(f"the patch levels differ ({_patch(gil)} and {_patch(free)})")
    if str(base.get("python_compiler") or "") != str(mine.get("python_compiler") or ""):
        found.append(f"the compilers differ ({base.get('python_compiler')} and "
                     f"{mine.get('python_compiler')})")
    flags = (_flags(base), _flags(mine))
    if None not in flags and flags[0] != flags[1]:
        found.append("the configure flags differ beyond --disable-gil")
    origins = (str(base.get("origin") or ""), str(mine.get("origin") or ""))
    if all(origins) and origins[0] != origins[1]:
        found.append(f"they were built by different hands ({origins[0]} and {origins[1]})")
    return found


def differences(base: Row, mine: Row) -> list[str]:
    """Everything recorded that differs between two interpreter columns: version, build
    kind, who built it, compiler, configure flags (less where it is installed), settings."""
    found = []
    versions = (_patch(str(base.get("binary") or "")), _patch(str(mine.get("binary") or "")))
    if versions[0] != versions[1]:
        found.append("version")
    if bool(base.get("free_threaded_build")) != bool(mine.get("free_threaded_build")):
        found.append("GIL build / free-threaded build")
    if str(base.get("origin") or "") != str(mine.get("origin") or ""):
        found.append("who built it")
    if str(base.get("python_compiler") or "") != str(mine.get("python_compiler") or ""):
        found.append("compiler")
    flags = (_flags(base), _flags(mine))
    if None not in flags and flags[0] != flags[1]:
        found.append("configure flags")
    if str(base.get("settings") or "") != str(mine.get("settings") or ""):
        found.append("settings")
    return found


def pairs(table: Table) -> list[tuple[str, str, Table, Table]]:
    """(GIL build, free-threaded build, their sequential cpu rows) of one version each;
    where a GIL build of the free-threaded build's own patch level is in the run, only
    that one is paired with it."""
    rows = matrix_rows(table, "cpu")
    rows = rows[rows["runner"] == "sequential"]
    found = []
    free_builds = rows[rows["free_threaded_build"] & ~rows["gil_enabled"].fillna(False)
                       .astype(bool)]
    for free, free_rows in free_builds.groupby("interpreter"):
        same = rows[~rows["free_threaded_build"]
                    & (rows["interpreter"].map(_version) == _version(str(free)))]
        exact = same[same["interpreter"].map(_patch) == _patch(str(free))]
        for gil, gil_rows in (exact if not exact.empty else same).groupby("interpreter"):
            found.append((str(gil), str(free), gil_rows, free_rows))
    return found


def one_binary(table: Table) -> list[tuple[str, str, Table, Table]]:
    """(free-threaded binary with the GIL switched on, the same binary with it off, their
    sequential cpu rows), where the run has both columns."""
    rows = matrix_rows(table, "cpu")
    rows = rows[(rows["runner"] == "sequential") & rows["free_threaded_build"]]
    if "binary" not in rows:
        return []
    gil = rows["gil_enabled"].fillna(False).astype(bool)
    found = []
    for on, on_rows in rows[gil].groupby("interpreter"):
        off = rows[~gil & (rows["binary"] == on_rows["binary"].iloc[0])]
        for free, free_rows in off.groupby("interpreter"):
            found.append((str(on), str(free), on_rows, free_rows))
    return found


def _run_time_part(table: Table) -> str:
    """The one-binary comparison, as evidence beside the verdict."""
    parts = []
    for on, free, on_rows, free_rows in one_binary(table):
        mine, base = one(free_rows), one(on_rows)
        assert mine is not None and base is not None
        effect = ratio(f"one binary: sequential cpu round {free} / {on}", mine, base, COSTS)
        parts.append(f"{effect.text()} ({ms(float(mine['median_s']))} vs "
                     f"{ms(float(base['median_s']))}; shown, not deciding: the GIL off at run "
                     "time against on, on the same build)")
    return "".join(f"; {part}" for part in parts)


def panel(ax: Axes, rows: Table) -> None:
    labels, values, colours = [], [], []
    shown = [(gil, gil_rows, free, free_rows) for gil, free, gil_rows, free_rows in pairs(rows)]
    shown += [(free, free_rows, on, on_rows) for on, free, on_rows, free_rows in one_binary(rows)]
    for first, first_rows, second, second_rows in shown:
        for label, mine in ((first, first_rows), (second, second_rows)):
            if label not in labels:
                labels.append(label)
                values.append(float(mine["median_s"].iloc[0]) * 1000)
                colours.append(colour("sequential"))
    bars(ax, labels, values, colours)
    ax.set_ylabel("sequential cpu round (ms)")


@register_claim(
    KEY, "The free-threaded build costs single-thread speed.",
    panel, runs=frozenset({MATRIX_RUN}))
def check(table: Table) -> Verdict:
    """The free-threaded sequential round over the GIL build's: wholly above COSTS holds,
    wholly below does not hold; across the line, or builds that differ in more than the
    GIL, inconclusive."""
    found = pairs(table)
    if not found:
        return Verdict(KEY, MISSING, "needs a free-threaded build and the GIL build of the "
                       "same version in one run, with sequential on the cpu workload")
    parts, outcomes, effects, confounded = [], [], [], []
    for gil, free, gil_rows, free_rows in found:
        base, mine = one(gil_rows), one(free_rows)
        assert base is not None and mine is not None
        effect = ratio(f"sequential cpu round {free} / {gil}", mine, base, COSTS)
        effects.append(effect)
        differs = confounds(gil, free, base, mine)
        outcomes.append(None if differs else effect.above)
        confounded += differs
        parts.append(f"{effect.text()} ({ms(float(mine['median_s']))} vs "
                     f"{ms(float(base['median_s']))})")
    evidence = ("; ".join(parts) + _run_time_part(table)
                + f" ('costs' = at least {COSTS:.3g}x)")
    if all(outcome is True for outcome in outcomes):
        return Verdict(KEY, HOLDS, evidence)
    if all(outcome is False for outcome in outcomes):
        return Verdict(KEY, FAILS, evidence)
    why = "; ".join(dict.fromkeys(confounded))
    settle = ("a GIL build of the same source, compiler and configure flags in the same "
              "run" if confounded
              else "more rounds on a quieter machine")
    details = (f"undecided: the builds differ in more than the GIL: {why}. To settle: "
               f"{settle}") if confounded else undecided(effects, settle)
    return Verdict(KEY, INCONCLUSIVE, evidence, details)
