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
    c10_free_threaded_threads,
    c11_free_threaded_cost,
    c12_subinterpreters,
    c13_model_or_library,
    c14_distributed_task_size,
    c15_one_core,
    c16_database,
)
from bench.claims.kit import (
    CLAIMS_RUN,
    FAILS,
    HOLDS,
    INCONCLUSIVE,
    LIMITS,
    MATRIX_RUN,
    MISSING,
    SERVICE_RUN,
    Claim,
    Verdict,
)

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
    c10_free_threaded_threads.CLAIM,
    c11_free_threaded_cost.CLAIM,
    c12_subinterpreters.CLAIM,
    c13_model_or_library.CLAIM,
    c14_distributed_task_size.CLAIM,
    c15_one_core.CLAIM,
    c16_database.CLAIM,
)


def verdicts(table: object, matrix: bool = False, service: bool = False) -> list[Verdict]:
    """The verdicts, in order, of the claims the claims suite decides, or (`matrix`) of
    those an interpreters run decides, or (`service`) of those a service run decides."""
    run = MATRIX_RUN if matrix else SERVICE_RUN if service else CLAIMS_RUN
    return [claim.check(table) for claim in CLAIMS if run in claim.runs]


__all__ = ["CLAIMS", "FAILS", "HOLDS", "INCONCLUSIVE", "LIMITS", "MISSING", "Claim", "Verdict",
           "verdicts"]
