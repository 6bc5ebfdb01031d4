"""The reputation tier rules (switchboard/usecases/tiers.py), boundary by boundary.

Each threshold of docs/reputation.md is tested on both sides: at the boundary and one step off.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from switchboard.email.provider import pool_name
from switchboard.usecases.tiers import (
    DAILY_SEND_CAP,
    TRANSITIONS,
    IllegalTransition,
    Tier,
    WindowStats,
    check_transition,
    evaluate,
    review_warning,
)

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


@dataclass
class State:
    tier: str | None
    tier_changed_at: datetime | None
    tier_before_suspension: str | None = None


def state(tier: Tier, days: float, before: Tier | None = None) -> State:
    return State(tier.value, NOW - timedelta(days=days), before.value if before else None)


def stats(**windows: tuple[int, int, int]) -> dict[str, WindowStats]:
    return {name: WindowStats(name, *figures) for name, figures in windows.items()}


# --------------------------------------------------------------------------- transition table


def test_the_transition_table() -> None:
    expected = {
        Tier.ONBOARDING: {Tier.STANDARD, Tier.SUSPENDED},
        Tier.STANDARD: {Tier.PREMIUM, Tier.SUSPENDED},
        Tier.PREMIUM: {Tier.SUSPENDED},
        Tier.SUSPENDED: {Tier.ONBOARDING, Tier.STANDARD, Tier.PREMIUM},
    }
    assert dict(TRANSITIONS) == expected


@pytest.mark.parametrize(
    ("current", "target"),
    [
        (Tier.ONBOARDING, Tier.PREMIUM),
        (Tier.PREMIUM, Tier.STANDARD),
        (Tier.STANDARD, Tier.ONBOARDING),
        (Tier.SUSPENDED, Tier.SUSPENDED),
    ],
)
def test_illegal_transitions_name_the_current_state(current: Tier, target: Tier) -> None:
    with pytest.raises(IllegalTransition) as caught:
        check_transition(current, target)
    assert caught.value.current is current
    assert current.value in str(caught.value)


def test_daily_caps_grow_with_the_tier_and_suspended_is_smallest() -> None:
    assert DAILY_SEND_CAP[Tier.ONBOARDING] == 1_000
    assert DAILY_SEND_CAP[Tier.STANDARD] == 50_000
    assert DAILY_SEND_CAP[Tier.PREMIUM] == 500_000
    assert DAILY_SEND_CAP[Tier.SUSPENDED] < DAILY_SEND_CAP[Tier.ONBOARDING]


@pytest.mark.parametrize("tier", list(Tier))
def test_pools_never_mix_transactional_and_marketing(tier: Tier) -> None:
    transactional, marketing = pool_name("transactional", tier.value), pool_name("marketing", tier.value)
    assert transactional != marketing
    assert "transactional" in transactional
    assert "marketing" in marketing
    if tier is Tier.SUSPENDED:
        assert transactional == "shared-transactional"


# --------------------------------------------------------------------------- suspension (SES pause level)


@pytest.mark.parametrize("tier", [Tier.ONBOARDING, Tier.STANDARD, Tier.PREMIUM])
def test_bounce_rate_of_10_percent_suspends_any_tier(tier: Tier) -> None:
    decision = evaluate(state(tier, 1), stats(**{"24h": (100, 10, 0)}), NOW)
    assert decision is not None
    assert (decision.from_tier, decision.to_tier) == (tier, Tier.SUSPENDED)
    assert "bounce rate 10% >= 10%" in decision.reason
    assert decision.figures["sends"] == 100
    assert decision.figures["bounces"] == 10
    assert decision.figures["bounce_rate"] == 0.1
    assert decision.figures["window"] == "24h"


def test_bounce_rate_just_under_10_percent_does_not_suspend() -> None:
    assert evaluate(state(Tier.STANDARD, 1), stats(**{"24h": (1000, 99, 0)}), NOW) is None


def test_complaint_rate_of_half_a_percent_suspends() -> None:
    decision = evaluate(state(Tier.STANDARD, 1), stats(**{"24h": (1000, 0, 5)}), NOW)
    assert decision is not None
    assert decision.to_tier is Tier.SUSPENDED
    assert "complaint rate 0.5% >= 0.5%" in decision.reason
    assert decision.figures["complaint_rate"] == 0.005
    assert evaluate(state(Tier.STANDARD, 1), stats(**{"24h": (1000, 0, 4)}), NOW) is None


def test_suspension_needs_100_sends_in_the_day() -> None:
    assert evaluate(state(Tier.ONBOARDING, 1), stats(**{"24h": (99, 99, 0)}), NOW) is None
    assert evaluate(state(Tier.ONBOARDING, 1), stats(**{"24h": (100, 100, 0)}), NOW) is not None


# ------------------------------------------------------------------------- review warning (SES review level)


def test_review_warning_at_5_percent_bounces_or_a_tenth_percent_complaints() -> None:
    assert (
        review_warning(stats(**{"24h": (1000, 50, 0)}))
        == "Review level: bounce rate 5% >= 5% over the last 24h"
    )
    assert review_warning(stats(**{"24h": (1000, 49, 0)})) is None
    assert review_warning(stats(**{"24h": (1000, 0, 1)})) is not None
    assert review_warning(stats(**{"24h": (1001, 0, 1)})) is None
    assert review_warning(stats(**{"24h": (99, 50, 5)})) is None
    # A warning is not a tier change.
    assert evaluate(state(Tier.STANDARD, 1), stats(**{"24h": (1000, 50, 0)}), NOW) is None


# --------------------------------------------------------------------------- promotions


CLEAN_WEEK = {"7d": (1000, 19, 0), "24h": (150, 0, 0)}


def test_onboarding_to_standard_after_a_clean_week() -> None:
    decision = evaluate(state(Tier.ONBOARDING, 7), stats(**CLEAN_WEEK), NOW)
    assert decision is not None
    assert (decision.from_tier, decision.to_tier) == (Tier.ONBOARDING, Tier.STANDARD)
    assert decision.figures["window"] == "7d"
    assert decision.figures["sends"] == 1000
    assert decision.figures["thresholds"]["min_sends"] == 1000


@pytest.mark.parametrize(
    ("days", "week", "why"),
    [
        (6.99, (1000, 19, 0), "less than 7 days at onboarding"),
        (7, (999, 0, 0), "fewer than 1,000 sends"),
        (7, (1000, 20, 0), "bounce rate exactly 2%"),
        (7, (2000, 0, 1), "complaint rate exactly 0.05%"),
    ],
)
def test_onboarding_stays_when_a_promotion_rule_is_missed(
    days: float, week: tuple[int, int, int], why: str
) -> None:
    assert evaluate(state(Tier.ONBOARDING, days), stats(**{"7d": week}), NOW) is None, why


def test_onboarding_complaints_just_under_the_limit_promote() -> None:
    assert evaluate(state(Tier.ONBOARDING, 7), stats(**{"7d": (2001, 0, 1)}), NOW) is not None


def test_standard_to_premium_after_a_clean_month() -> None:
    decision = evaluate(state(Tier.STANDARD, 30), stats(**{"30d": (100_000, 999, 29)}), NOW)
    assert decision is not None
    assert (decision.from_tier, decision.to_tier) == (Tier.STANDARD, Tier.PREMIUM)


@pytest.mark.parametrize(
    ("days", "month"),
    [(29.9, (100_000, 0, 0)), (30, (99_999, 0, 0)), (30, (100_000, 1000, 0)), (30, (100_000, 0, 30))],
)
def test_standard_stays_when_a_premium_rule_is_missed(days: float, month: tuple[int, int, int]) -> None:
    assert evaluate(state(Tier.STANDARD, days), stats(**{"30d": month}), NOW) is None


def test_premium_is_the_top() -> None:
    assert (
        evaluate(state(Tier.PREMIUM, 400), stats(**{"30d": (10**7, 0, 0), "7d": (10**6, 0, 0)}), NOW) is None
    )


def test_suspension_wins_over_promotion() -> None:
    decision = evaluate(state(Tier.ONBOARDING, 8), stats(**{"7d": (5000, 0, 0), "24h": (100, 10, 0)}), NOW)
    assert decision is not None
    assert decision.to_tier is Tier.SUSPENDED


# --------------------------------------------------------------------------- recovery


@pytest.mark.parametrize("before", [Tier.ONBOARDING, Tier.STANDARD, Tier.PREMIUM])
def test_recovery_returns_to_the_tier_held_before(before: Tier) -> None:
    decision = evaluate(state(Tier.SUSPENDED, 3, before), stats(**{"72h": (500, 9, 0)}), NOW)
    assert decision is not None
    assert (decision.from_tier, decision.to_tier) == (Tier.SUSPENDED, before)
    assert decision.figures["window"] == "72h"


def test_recovery_waits_72_hours() -> None:
    almost = State(Tier.SUSPENDED.value, NOW - timedelta(hours=71, minutes=59), Tier.STANDARD.value)
    assert evaluate(almost, stats(**{"72h": (0, 0, 0)}), NOW) is None
    exactly = State(Tier.SUSPENDED.value, NOW - timedelta(hours=72), Tier.STANDARD.value)
    assert evaluate(exactly, stats(**{"72h": (0, 0, 0)}), NOW) is not None


def test_recovery_needs_rates_under_the_onboarding_limits() -> None:
    assert evaluate(state(Tier.SUSPENDED, 4, Tier.STANDARD), stats(**{"72h": (100, 2, 0)}), NOW) is None
    assert evaluate(state(Tier.SUSPENDED, 4, Tier.STANDARD), stats(**{"72h": (2000, 0, 1)}), NOW) is None
    assert evaluate(state(Tier.SUSPENDED, 4, Tier.STANDARD), stats(**{"72h": (101, 2, 0)}), NOW) is not None


def test_recovery_without_a_known_previous_tier_goes_to_onboarding() -> None:
    decision = evaluate(state(Tier.SUSPENDED, 4), stats(), NOW)
    assert decision is not None
    assert decision.to_tier is Tier.ONBOARDING


def test_a_suspended_use_case_is_not_suspended_again() -> None:
    assert evaluate(state(Tier.SUSPENDED, 1, Tier.STANDARD), stats(**{"24h": (1000, 500, 0)}), NOW) is None
