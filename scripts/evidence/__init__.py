"""One-off probes, each beside the output it made."""

from __future__ import annotations

from pathlib import Path


def emit(text: str, out: Path | None) -> int:
    """Print a probe's output and, where asked, write it to `out`; exit status 0."""
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text)
    print(text, end="")
    return 0
