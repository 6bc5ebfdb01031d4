"""10DLC registration status: one table of allowed transitions, and who may cause each.

    draft ──submit──▶ submitted ──provider──▶ approved
                          │
                          └──────provider──▶ rejected ──submit (after edits)──▶ submitted

Only the provider's answer moves a registration to approved or rejected; no user action, API call
or page can. Until then every surface says "submitted / awaiting carrier review", never anything
that reads as approval. An illegal transition is a 409 carrying the current state.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Final, Literal

from switchboard.core.errors import Conflict

Actor = Literal["user", "provider"]


class RegistrationStatus(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    APPROVED = "approved"
    REJECTED = "rejected"


# (from, to) -> who may cause it.
TRANSITIONS: Final[dict[tuple[RegistrationStatus, RegistrationStatus], Actor]] = {
    (RegistrationStatus.DRAFT, RegistrationStatus.SUBMITTED): "user",
    (RegistrationStatus.REJECTED, RegistrationStatus.SUBMITTED): "user",
    (RegistrationStatus.SUBMITTED, RegistrationStatus.APPROVED): "provider",
    (RegistrationStatus.SUBMITTED, RegistrationStatus.REJECTED): "provider",
}

# Worded so that nothing before the provider's approval reads as approval.
LABELS: Final = {
    RegistrationStatus.DRAFT: "Draft — not submitted",
    RegistrationStatus.SUBMITTED: "Submitted — awaiting carrier review",
    RegistrationStatus.APPROVED: "Approved by carrier",
    RegistrationStatus.REJECTED: "Rejected",
}

# While a registration is with the carrier (or approved), what was registered stays as it was:
# only the consent, opt-in, opt-out and help fields remain editable (spec: operator workflow).
ALWAYS_EDITABLE_CAMPAIGN_FIELDS: Final = frozenset(
    {
        "messageFlow",
        "optInKeywords",
        "optInMessage",
        "optOutKeywords",
        "optOutMessage",
        "helpKeywords",
        "helpMessage",
    }
)
LOCKED_STATES: Final = frozenset({RegistrationStatus.SUBMITTED, RegistrationStatus.APPROVED})


def check_transition(current: str, target: RegistrationStatus, actor: Actor) -> RegistrationStatus:
    """The new status, or a 409 naming the current state when the table does not allow it."""
    state = RegistrationStatus(current)
    allowed = TRANSITIONS.get((state, target))
    if allowed is None or allowed != actor:
        if state is RegistrationStatus.SUBMITTED and target is RegistrationStatus.SUBMITTED:
            message = "This registration is already submitted and awaiting carrier review."
        elif state is RegistrationStatus.APPROVED:
            message = "This registration is already approved by the carrier."
        elif allowed is not None:
            message = f"Only the provider's answer can move a registration to {target.value}."
        else:
            message = f"A registration cannot go from {state.value} to {target.value}."
        raise Conflict(message, code="illegal_transition", extra={"current_state": state.value})
    return target


def label(status: str, reason: str | None = None) -> str:
    state = RegistrationStatus(status)
    if state is RegistrationStatus.REJECTED and reason:
        return f"Rejected: {reason}"
    return LABELS[state]


# The provider's own words, in ours: Twilio calls a registered brand "APPROVED", which on its own
# would read as if the registration were approved; only a verified campaign is.
_BRAND_STAGES: Final = {"PENDING": "in_review", "IN_REVIEW": "in_review", "APPROVED": "registered"}
_CAMPAIGN_STAGES: Final = {"PENDING": "in_review", "IN_PROGRESS": "in_review", "VERIFIED": "verified"}


def brand_stage(provider_status: str | None) -> str | None:
    if provider_status is None:
        return None
    return _BRAND_STAGES.get(provider_status.upper(), "failed")


def campaign_stage(provider_status: str | None) -> str | None:
    if provider_status is None:
        return None
    return _CAMPAIGN_STAGES.get(provider_status.upper(), "failed")
