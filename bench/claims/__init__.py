"""The claims under test: one module per claim, each registered by `@register_claim` on
its check (bench.claims.registry), shown in the order of the number in its key.

Each module holds the claim's statement, its sizes (the claims run's and `--quick`'s),
the scenarios that test it, its check (with its thresholds as named constants beside it)
and its chart panel.  Adding a claim is one new module, imported here.  The verdict words
and shared helpers are in `bench.claims.kit`.
"""

from bench.claims import (  # noqa: F401  (importing a claim module registers it)
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
from bench.claims.kit import FAILS, HOLDS, INCONCLUSIVE, LIMITS, MISSING
from bench.claims.registry import (
    CLAIMS_RUN,
    MATRIX_RUN,
    REGISTERED,
    SERVICE_RUN,
    Claim,
    Verdict,
)

CLAIMS: tuple[Claim, ...] = tuple(sorted(REGISTERED.values(), key=lambda claim: claim.number))


def claim_named(key: str) -> Claim:
    return REGISTERED[key]


def verdicts(table: object, matrix: bool = False, service: bool = False) -> list[Verdict]:
    """The verdicts, in order, of the claims the claims suite decides, or (`matrix`) of
    those an interpreters run decides, or (`service`) of those a service run decides."""
    run = MATRIX_RUN if matrix else SERVICE_RUN if service else CLAIMS_RUN
    return [claim.check(table) for claim in CLAIMS if run in claim.runs]


__all__ = ["CLAIMS", "FAILS", "HOLDS", "INCONCLUSIVE", "LIMITS", "MISSING", "Claim", "Verdict",
           "claim_named", "verdicts"]
