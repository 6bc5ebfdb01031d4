"""Email reputation tiers: the transition table, the thresholds and the evaluation, as data.

Pure: no database, no clock of its own (the caller passes ``now``). docs/reputation.md explains
every figure; tests/usecases/test_tiers.py pins each boundary.

Rates are exact fractions (bounces / sends), so a boundary such as "10%" is exactly 10 bounces
in 100 sends, never a float rounding away from it. Sends are distinct messages seen in the
window (a Send, Delivery or Bounce event); bounces are permanent (hard) bounces, as SES counts
them for its bounce rate; complaints are distinct complained-about messages.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from fractions import Fraction
from typing import Any, Protocol


class Tier(StrEnum):
    ONBOARDING = "onboarding"
    STANDARD = "standard"
    PREMIUM = "premium"
    SUSPENDED = "suspended"


# The one table of allowed transitions: up one step at a time, anything down to suspended, and
# back from suspended (to the tier held before, see RECOVERY).
TRANSITIONS: dict[Tier, frozenset[Tier]] = {
    Tier.ONBOARDING: frozenset({Tier.STANDARD, Tier.SUSPENDED}),
    Tier.STANDARD: frozenset({Tier.PREMIUM, Tier.SUSPENDED}),
    Tier.PREMIUM: frozenset({Tier.SUSPENDED}),
    Tier.SUSPENDED: frozenset({Tier.ONBOARDING, Tier.STANDARD, Tier.PREMIUM}),
}

INITIAL_TIER = Tier.ONBOARDING

# Messages a use case may send per UTC day. Suspended use cases send through the shared pool
# of their email type, with a small allowance so password resets and receipts still go out.
DAILY_SEND_CAP: dict[Tier, int] = {
    Tier.ONBOARDING: 1_000,
    Tier.STANDARD: 50_000,
    Tier.PREMIUM: 500_000,
    Tier.SUSPENDED: 200,
}


class IllegalTransition(Exception):
    def __init__(self, current: Tier, target: Tier) -> None:
        super().__init__(f"A use case cannot go from {current.value} to {target.value}.")
        self.current = current
        self.target = target


def check_transition(current: Tier, target: Tier) -> None:
    if target not in TRANSITIONS[current]:
        raise IllegalTransition(current, target)


# --------------------------------------------------------------------------- windows


WINDOWS: dict[str, timedelta] = {
    "24h": timedelta(hours=24),
    "72h": timedelta(hours=72),
    "7d": timedelta(days=7),
    "30d": timedelta(days=30),
}
LONGEST_WINDOW = max(WINDOWS.values())


@dataclass(frozen=True)
class WindowStats:
    window: str
    sends: int = 0
    bounces: int = 0
    complaints: int = 0

    @property
    def bounce_rate(self) -> Fraction:
        return Fraction(self.bounces, self.sends) if self.sends else Fraction(0)

    @property
    def complaint_rate(self) -> Fraction:
        return Fraction(self.complaints, self.sends) if self.sends else Fraction(0)

    def figures(self) -> dict[str, Any]:
        return {
            "window": self.window,
            "sends": self.sends,
            "bounces": self.bounces,
            "complaints": self.complaints,
            "bounce_rate": round(float(self.bounce_rate), 6),
            "complaint_rate": round(float(self.complaint_rate), 6),
        }


def pct(value: Fraction) -> str:
    """0.1 -> "10%", 0.0005 -> "0.05%" (for reasons people read)."""
    text = f"{float(value) * 100:.4f}".rstrip("0").rstrip(".")
    return f"{text}%"


# --------------------------------------------------------------------------- thresholds


@dataclass(frozen=True)
class RateLimit:
    """A breach: at least ``min_sends`` in ``window`` and either rate at or above its level."""

    window: str
    min_sends: int
    bounce_rate: Fraction
    complaint_rate: Fraction

    def breached_by(self, stats: WindowStats) -> str | None:
        if stats.sends < self.min_sends:
            return None
        if stats.bounce_rate >= self.bounce_rate:
            return f"bounce rate {pct(stats.bounce_rate)} >= {pct(self.bounce_rate)}"
        if stats.complaint_rate >= self.complaint_rate:
            return f"complaint rate {pct(stats.complaint_rate)} >= {pct(self.complaint_rate)}"
        return None


@dataclass(frozen=True)
class Promotion:
    """Move up after ``min_time`` in ``from_tier`` with enough clean volume in ``window``.

    Both rates must be strictly below their maximum.
    """

    from_tier: Tier
    to_tier: Tier
    min_time: timedelta
    window: str
    min_sends: int
    max_bounce_rate: Fraction
    max_complaint_rate: Fraction

    def thresholds(self) -> dict[str, Any]:
        return {
            "min_days_in_tier": self.min_time / timedelta(days=1),
            "min_sends": self.min_sends,
            "max_bounce_rate": float(self.max_bounce_rate),
            "max_complaint_rate": float(self.max_complaint_rate),
        }


@dataclass(frozen=True)
class Recovery:
    """Leave suspended after ``min_time`` with both rates strictly below their maximum in ``window``."""

    min_time: timedelta
    window: str
    max_bounce_rate: Fraction
    max_complaint_rate: Fraction


# SES pauses sending at 10% bounces or 0.5% complaints: we suspend at the same level, measured
# over one day and only once there are enough sends for a rate to mean something.
SUSPEND = RateLimit(
    window="24h", min_sends=100, bounce_rate=Fraction(10, 100), complaint_rate=Fraction(5, 1000)
)
# SES puts an account under review at 5% bounces or 0.1% complaints: we raise a warning there.
REVIEW = RateLimit(
    window="24h", min_sends=100, bounce_rate=Fraction(5, 100), complaint_rate=Fraction(1, 1000)
)

PROMOTIONS: tuple[Promotion, ...] = (
    Promotion(
        from_tier=Tier.ONBOARDING,
        to_tier=Tier.STANDARD,
        min_time=timedelta(days=7),
        window="7d",
        min_sends=1_000,
        max_bounce_rate=Fraction(2, 100),
        max_complaint_rate=Fraction(5, 10_000),
    ),
    Promotion(
        from_tier=Tier.STANDARD,
        to_tier=Tier.PREMIUM,
        min_time=timedelta(days=30),
        window="30d",
        min_sends=100_000,
        max_bounce_rate=Fraction(1, 100),
        max_complaint_rate=Fraction(3, 10_000),
    ),
)

RECOVERY = Recovery(
    min_time=timedelta(hours=72),
    window="72h",
    max_bounce_rate=Fraction(2, 100),
    max_complaint_rate=Fraction(5, 10_000),
)


# --------------------------------------------------------------------------- evaluation


class TierState(Protocol):
    """What evaluation reads from a use case (a UseCase row fits)."""

    @property
    def tier(self) -> str | None: ...

    @property
    def tier_changed_at(self) -> datetime | None: ...

    @property
    def tier_before_suspension(self) -> str | None: ...


@dataclass(frozen=True)
class TierDecision:
    from_tier: Tier
    to_tier: Tier
    reason: str
    figures: dict[str, Any]


def _stats(window_stats: Mapping[str, WindowStats], window: str) -> WindowStats:
    return window_stats.get(window) or WindowStats(window)


def review_warning(window_stats: Mapping[str, WindowStats]) -> str | None:
    """SES's review level reached (a warning shown on the use case, not a tier change)."""
    breach = REVIEW.breached_by(_stats(window_stats, REVIEW.window))
    return f"Review level: {breach} over the last {REVIEW.window}" if breach else None


def evaluate(
    use_case: TierState, window_stats: Mapping[str, WindowStats], now: datetime
) -> TierDecision | None:
    """The tier change the figures call for, or None. Suspension is checked first."""
    current = Tier(use_case.tier or INITIAL_TIER)
    since = use_case.tier_changed_at or now
    in_tier = now - since
    days = round(in_tier / timedelta(days=1), 3)

    if current is not Tier.SUSPENDED:
        stats = _stats(window_stats, SUSPEND.window)
        breach = SUSPEND.breached_by(stats)
        if breach:
            figures = stats.figures() | {
                "days_in_tier": days,
                "thresholds": {
                    "min_sends": SUSPEND.min_sends,
                    "bounce_rate": float(SUSPEND.bounce_rate),
                    "complaint_rate": float(SUSPEND.complaint_rate),
                },
            }
            return TierDecision(
                current, Tier.SUSPENDED, f"Suspended: {breach} over the last {stats.window}", figures
            )
        for promotion in PROMOTIONS:
            if promotion.from_tier is not current or in_tier < promotion.min_time:
                continue
            stats = _stats(window_stats, promotion.window)
            if (
                stats.sends >= promotion.min_sends
                and stats.bounce_rate < promotion.max_bounce_rate
                and stats.complaint_rate < promotion.max_complaint_rate
            ):
                reason = (
                    f"Promoted: {stats.sends} sends over the last {stats.window} with bounce rate "
                    f"{pct(stats.bounce_rate)} and complaint rate {pct(stats.complaint_rate)}"
                )
                figures = stats.figures() | {"days_in_tier": days, "thresholds": promotion.thresholds()}
                return TierDecision(current, promotion.to_tier, reason, figures)
        return None

    if in_tier < RECOVERY.min_time:
        return None
    stats = _stats(window_stats, RECOVERY.window)
    if stats.bounce_rate < RECOVERY.max_bounce_rate and stats.complaint_rate < RECOVERY.max_complaint_rate:
        back = Tier(use_case.tier_before_suspension or INITIAL_TIER)
        if back is Tier.SUSPENDED:
            back = INITIAL_TIER
        reason = (
            f"Recovered after {days} days suspended: bounce rate {pct(stats.bounce_rate)} and complaint "
            f"rate {pct(stats.complaint_rate)} over the last {stats.window}"
        )
        figures = stats.figures() | {
            "days_in_tier": days,
            "thresholds": {
                "min_days_suspended": RECOVERY.min_time / timedelta(days=1),
                "max_bounce_rate": float(RECOVERY.max_bounce_rate),
                "max_complaint_rate": float(RECOVERY.max_complaint_rate),
            },
        }
        return TierDecision(current, back, reason, figures)
    return None
