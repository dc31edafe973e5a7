"""Number formats, once: three significant figures, durations, memory, intervals.
"""

from __future__ import annotations

import math

import pandas as pd


def fixed(value: float, fmt: str) -> str:
    """`fmt` of a value, or "-" where there is none (never "nan")."""
    return "-" if pd.isna(value) else fmt.format(value)


def speedup_text(value: float, low: float, high: float) -> str:
    """'1.95 (1.90-2.01)': the speedup and its interval, three significant figures."""
    if pd.isna(value):
        return "-"
    if pd.isna(low) or pd.isna(high):
        return sig3(value)
    return f"{sig3(value)} ({sig3(low)}-{sig3(high)})"


def interval_text(low: float, high: float, precise: bool) -> str:
    """'low to high', marked ⌛ where it is wider than the precision target."""
    if pd.isna(low) or pd.isna(high):
        return "- ⌛"
    return f"{sig3(low)} to {sig3(high)}" + ("" if precise else " ⌛")


def sig3(value: float, strict: bool = False) -> str:
    """Three significant figures, without scientific notation for ordinary sizes; tables
    keep every integer digit (2,589), `strict` rounds those too (2,590) for the figures a
    reader quotes (decision block, summary)."""
    if pd.isna(value):
        return "-"
    if value == 0:
        return "0"
    magnitude = abs(value)
    if magnitude >= 1000 and strict:  # rounded to three figures: 2,589 -> 2,590
        return f"{round(value, 2 - math.floor(math.log10(magnitude))):,.0f}"
    if magnitude >= 100:
        return f"{value:,.0f}"
    if magnitude >= 10:
        return f"{value:.1f}"
    if magnitude >= 1:
        return f"{value:.2f}"
    return f"{value:#.3g}".rstrip(".") if strict else f"{value:.3g}"


def ms(seconds: float) -> str:
    return "-" if pd.isna(seconds) else f"{quoted(seconds * 1000)} ms"


def mb(value: float) -> str:
    """Memory the runner added; under 0.1 MB is below what PSS can tell apart."""
    if pd.isna(value):
        return "-"
    return "< 0.1" if value < 0.1 else quoted(value)


def ms3(seconds: float) -> str:
    """Milliseconds to three significant figures, without exponents."""
    value = seconds * 1000
    return f"{value:,.0f}" if value >= 100 else f"{value:.3g}"


def quoted(value: float) -> str:
    """Three significant figures, integers rounded too (2,590): the figures a reader quotes
    (decision block, summary)."""
    return sig3(value, strict=True)
