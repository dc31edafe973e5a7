"""The claims under test: one module per claim, registered here in the order they are shown.

Each module holds the claim's statement, the scenarios that test it, its check (with
its thresholds as named constants beside it) and its chart panel.  Adding a claim is
one new module and one line in `CLAIMS`.  The verdict words and shared helpers are in
`bench.claims.kit`; the sizes of the claims run in `bench.claims.sizes`.
"""

from bench.claims import (
    c1_gather_waits,
    c2_failure_isolation,
    c3_inflight_cost,
    c4_scaling,
    c5_cpu,
    c6_gil_release,
    c7_hybrid,
    c8_blocking,
    c9_cold,
)
from bench.claims.kit import FAILS, HOLDS, LIMITS, MISSING, SAME, SIGNIFICANCE, Claim, Verdict

CLAIMS: tuple[Claim, ...] = (
    c1_gather_waits.CLAIM,
    c2_failure_isolation.CLAIM,
    c3_inflight_cost.CLAIM,
    c4_scaling.CLAIM,
    c5_cpu.CLAIM,
    c6_gil_release.CLAIM,
    c7_hybrid.CLAIM,
    c8_blocking.CLAIM,
    c9_cold.CLAIM,
)


def verdicts(table: object) -> list[Verdict]:
    """Every registered claim's verdict on a scenario table, in order."""
    return [claim.check(table) for claim in CLAIMS]


__all__ = ["CLAIMS", "FAILS", "HOLDS", "LIMITS", "MISSING", "SAME", "SIGNIFICANCE", "Claim",
           "Verdict", "verdicts"]
