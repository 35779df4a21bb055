"""How much one event says about a user's interest: by type, rating value and age."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

DEFAULT_TYPE_WEIGHTS: dict[str, float] = {
    "view": 1.0,
    "click": 2.0,
    "add_to_cart": 4.0,
    "purchase": 8.0,
}
RATING_MODES: tuple[str, ...] = ("shifted", "scaled")


@dataclass(frozen=True)
class EventWeighting:
    """Weights by event type, the rating rule and the recency half-life (None: no decay)."""

    type_weights: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_TYPE_WEIGHTS))
    rating_mode: str = "shifted"
    half_life_days: float | None = 90.0
    dislike_rating: float = 2.0

    def dislike_weight(self, event_type: str, value: float | None) -> float:
        """How strongly an event says the user does not want the item: a rating at most
        `dislike_rating` weighs 1 plus the stars below it (0 for everything else)."""
        if event_type != "rating" or value is None or value > self.dislike_rating:
            return 0.0
        return 1.0 + self.dislike_rating - float(value)

    def dislikes(self, event_type: str, value: float | None) -> bool:
        """Whether the event is a low rating: never a reason's anchor."""
        return self.dislike_weight(event_type, value) > 0

    def rating_weight(self, value: float | None) -> float:
        """`shifted`: max(value - 2, 0) so 1-2 stars say nothing; `scaled`: value / 5 * 4."""
        rating = 0.0 if value is None else float(value)
        if self.rating_mode == "scaled":
            return rating / 5.0 * 4.0
        return max(rating - 2.0, 0.0)

    def type_weight(self, event_type: str, value: float | None = None) -> float:
        """The weight of one event before recency decay."""
        if event_type == "rating":
            return self.rating_weight(value)
        return self.type_weights.get(event_type, 0.0)

    def decay(self, age_seconds: float) -> float:
        """Exponential recency factor: 1 now, 0.5 one half-life ago."""
        if self.half_life_days is None:
            return 1.0
        return math.exp(-math.log(2.0) * max(age_seconds, 0.0) / (self.half_life_days * 86400.0))


LABEL_GRADES: dict[str, int] = {"view": 1, "click": 2, "add_to_cart": 3, "purchase": 4}


def label_grade(event_type: str, value: float | None) -> int:
    """Relevance grade of an event after a ranker's cut: 0 (none) to 4 (purchase, 5 stars)."""
    if event_type == "rating":
        return max(round(value or 0.0) - 1, 0)
    return LABEL_GRADES.get(event_type, 0)
