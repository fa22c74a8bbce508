"""How numbers appear in the book's prose: every one through :func:`fmt`.

A number in a sentence carries its 95% interval, or says why it has none ("one seed", "not
identified: ..."). Chapters build :class:`Estimate` values from the analysis functions and
format them here, so a bare point estimate cannot slip into the text unnoticed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class Estimate:
    """A point estimate with its 95% interval, or with the reason it has none."""

    value: float
    low: float | None = None
    high: float | None = None
    reason: str | None = None

    def __post_init__(self) -> None:
        has_interval = self.low is not None and self.high is not None
        if has_interval == bool(self.reason):
            raise ValueError("an estimate needs either an interval (low, high) or a reason for having none")
        if has_interval and not (self.low <= self.value <= self.high or math.isnan(self.value)):
            raise ValueError(f"{self.value} lies outside its interval [{self.low}, {self.high}]")

    @property
    def excludes_zero(self) -> bool:
        return self.low is not None and (self.low > 0 or self.high < 0)


def fmt(estimate: Estimate, digits: int = 2, percent: bool = False, unit: str = "") -> str:
    """ "0.41 (95% CI 0.33–0.49)" or "0.41 (no interval: one seed)"; ``percent`` shows points."""
    scale, suffix = (100.0, " pp") if percent else (1.0, unit and f" {unit}")

    def number(x: float) -> str:
        return f"{x * scale:.{digits if not percent else max(0, digits - 2)}f}"

    if math.isnan(estimate.value):
        return f"n/a ({estimate.reason or 'no value'})"
    if estimate.reason:
        return f"{number(estimate.value)}{suffix} (no interval: {estimate.reason})"
    return f"{number(estimate.value)}{suffix} (95% CI {number(estimate.low)} to {number(estimate.high)})"
