"""The NPS arithmetic of DOMAIN.md, in one place, for the dashboard, the API and the alerts."""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

Z_95 = 1.96
LOW_RESPONSE_RATE = 0.15
SMALL_SAMPLE = 30

BENCHMARKS = {  # segment: (good, great, world class) lower bounds, DOMAIN.md
    "smb": (25, 40, 55),
    "mid_market": (30, 45, 58),
    "enterprise": (30, 45, 60),
}


@dataclass(frozen=True)
class Score:
    promoters: int
    passives: int
    detractors: int

    @property
    def responses(self) -> int:
        return self.promoters + self.passives + self.detractors

    @property
    def nps(self) -> float | None:
        """%Promoters − %Detractors, −100 … +100, full precision; None without responses."""
        if not self.responses:
            return None
        return 100 * (self.promoters - self.detractors) / self.responses

    @property
    def margin(self) -> float | None:
        """95% margin of error in points: 1.96 × √((p + d − (p − d)²) / n) × 100."""
        n = self.responses
        if not n:
            return None
        p, d = self.promoters / n, self.detractors / n
        variance = max(p + d - (p - d) ** 2, 0.0) / n
        return Z_95 * math.sqrt(variance) * 100

    def share(self, count: int) -> float | None:
        return count / self.responses if self.responses else None

    @property
    def shown(self) -> int | None:
        return display(self.nps)


def display(value: float | None) -> int | None:
    """A whole number, rounding half away from zero (−12.5 → −13, 12.5 → 13)."""
    if value is None:
        return None
    rounded = Decimal(str(abs(value))).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    return int(rounded) * (1 if value >= 0 else -1)


def significant_change(before: Score, after: Score) -> bool | None:
    """Whether the change is beyond the margins: |Δ| > √(m₁² + m₂²), the margin of the difference."""
    if before.nps is None or after.nps is None:
        return None
    return abs(after.nps - before.nps) > math.hypot(before.margin, after.margin)


def benchmark_band(segment: str, nps: float | None) -> str:
    if nps is None or segment not in BENCHMARKS:
        return ""
    good, great, world = BENCHMARKS[segment]
    if nps >= world:
        return "world class"
    if nps >= great:
        return "great"
    if nps >= good:
        return "good"
    return "below good"
