"""Thompson-sampling arms: Beta posteriors from impressions and clicks, decayed by event time."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tables.decay import DAY, decay_factor

ARM_HALF_LIFE = DAY
PRIOR_ALPHA = 1.0
PRIOR_BETA = 1.0


@dataclass(slots=True)
class BetaArm:
    """Decayed impressions and clicks, both expressed at reference time `at` (newest seen)."""

    impressions: float = 0.0
    clicks: float = 0.0
    at: float = 0.0

    def observe(
        self, timestamp: float, impressions: float, clicks: float, half_life: float
    ) -> None:
        """Add impressions and clicks seen at `timestamp` (mutates the arm; order-independent)."""
        if timestamp > self.at:
            factor = decay_factor(timestamp - self.at, half_life)
            self.impressions *= factor
            self.clicks *= factor
            self.at = timestamp
            weight = 1.0
        else:
            weight = decay_factor(self.at - timestamp, half_life)
        self.impressions += impressions * weight
        self.clicks += clicks * weight

    def params(self, now: float, half_life: float) -> tuple[float, float]:
        """Beta(alpha, beta) at `now`: prior 1, 1 plus decayed clicks and misses."""
        factor = decay_factor(max(now - self.at, 0.0), half_life)
        clicks = self.clicks * factor
        misses = max(self.impressions - self.clicks, 0.0) * factor
        return PRIOR_ALPHA + clicks, PRIOR_BETA + misses

    def to_json(self) -> list[float]:
        """Plain JSON form: [impressions, clicks, at]."""
        return [self.impressions, self.clicks, self.at]

    @classmethod
    def from_json(cls, data: list[Any]) -> BetaArm:
        """Inverse of `to_json`."""
        impressions, clicks, at = data
        return cls(impressions=float(impressions), clicks=float(clicks), at=float(at))
