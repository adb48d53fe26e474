"""The live guard: a promise of precision checked against what admins actually did.

A review threshold is chosen on the past; admins' habits move (roads dispatched to the
kecamatan for a season, a mandate handed to another dinas), and a threshold that held for
months can fail the next one. The guard reads the admins' decisions on the complaints that were
auto-suggested (``needs_review`` false) in a recent window: where an agency's auto-suggestions
were corrected so often that even the optimistic (Wilson upper) bound of their precision is
below the target, that agency is withdrawn from auto-suggestion until its failures age out of
the window; when all auto-suggestions together fail that way, every one is withdrawn. Pure
functions: the service, the prequential replay and the report feed it outcomes.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from routing_model.model.metrics import CONFIDENCE_Z, wilson_bounds

EVERY_AGENCY = "*"  # key of the withdrawal that covers all agencies
WINDOW_DAYS = 90
MIN_OUTCOMES = 5  # decided auto-suggestions of an agency before the guard judges it


@dataclass(frozen=True)
class Outcome:
    """One decided auto-suggestion: when, which agency was suggested first, whether it stood."""

    when: datetime
    agency: str
    accepted: bool


def withdrawn_agencies(
    outcomes: Iterable[Outcome],
    as_of: datetime,
    target: float = 0.90,
    window_days: int = WINDOW_DAYS,
    min_outcomes: int = MIN_OUTCOMES,
    z: float = CONFIDENCE_Z,
) -> dict[str, dict]:
    """{agency (or ``EVERY_AGENCY``): {"n", "accepted", "upper"}} for what must not be
    auto-suggested at ``as_of``, judged on the outcomes of the ``window_days`` before it."""
    since = as_of - timedelta(days=window_days)
    tallies: dict[str, list[int]] = {}
    for o in outcomes:
        if since <= o.when < as_of:
            tally = tallies.setdefault(o.agency, [0, 0])
            tally[0] += 1
            tally[1] += bool(o.accepted)

    def failing(n: int, hits: int, least: int = min_outcomes) -> dict | None:
        if n < least:
            return None
        upper = float(wilson_bounds(hits, n, z)[1])
        return {"n": n, "accepted": hits, "upper": round(upper, 4)} if upper < target else None

    out = {agency: verdict for agency, (n, hits) in tallies.items() if (verdict := failing(n, hits))}
    # the agencies still auto-suggested, together: a drift that touches every agency a little
    # (twice the outcomes, so one agency not yet judged alone cannot take every other one down)
    rest = [tally for agency, tally in tallies.items() if agency not in out]
    verdict = failing(sum(t[0] for t in rest), sum(t[1] for t in rest), 2 * min_outcomes)
    if verdict:
        out[EVERY_AGENCY] = verdict
    return out


def is_withdrawn(agency: str, withdrawn: dict[str, dict] | None) -> bool:
    """Whether the guard withdrew this agency (or every agency) from auto-suggestion."""
    return bool(withdrawn) and (agency in withdrawn or EVERY_AGENCY in withdrawn)
