"""What the model answers for one complaint: a value object every front end (CLI, service, backlog) reads."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Suggestion:
    """Top-k agencies for one complaint; ``needs_review`` means "a human must decide"."""

    agencies: tuple[tuple[str, float], ...]
    needs_review: bool
    reasons: tuple[str, ...] = ()
    warnings: tuple[str, ...] = field(default=())
    outside_region: dict | None = None  # {"region", "province", "evidence"} when another region is named

    @property
    def top(self) -> str:
        return self.agencies[0][0]

    @property
    def confidence(self) -> float:
        return self.agencies[0][1]

    def to_dict(self) -> dict:
        return {
            "suggestions": [{"agency": a, "confidence": round(float(p), 4)} for a, p in self.agencies],
            "needs_review": bool(self.needs_review),
            "reasons": list(self.reasons),
            "warnings": list(self.warnings),
            "outside_region": self.outside_region,
        }
