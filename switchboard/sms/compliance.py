"""10DLC compliance data (``ChannelConnection.smsCompliance``) and pre-submission checks.

Two layers, because the form is filled progressively (spec: accordions, saved
as the operator goes):

* The pydantic models accept *partial* data: every field is optional and blank
  strings count as "not given". Whatever *is* given must be well-formed, and
  errors carry the camelCase field name in ``loc``.
* :func:`precheck` decides whether the payload is complete and likely to pass
  carrier review. Missing fields, the exact count of five samples and the
  carrier content rules live there, as issues with a severity.

The payload is sensitive operational data (spec: Security & Compliance):
nothing here logs, models hide input values in error strings, and precheck
messages never quote what the operator typed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher
from enum import StrEnum
from typing import Annotated, Any, Final, Literal
from urllib.parse import urlsplit

import phonenumbers
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    EmailStr,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
)
from pydantic.alias_generators import to_camel
from pydantic_core import PydanticCustomError

# --------------------------------------------------------------------------- enums


class EntityType(StrEnum):
    """TCR entity types (legal form of the brand)."""

    PRIVATE_PROFIT = "PRIVATE_PROFIT"
    PUBLIC_PROFIT = "PUBLIC_PROFIT"
    NON_PROFIT = "NON_PROFIT"
    GOVERNMENT = "GOVERNMENT"
    SOLE_PROPRIETOR = "SOLE_PROPRIETOR"


class BrandType(StrEnum):
    """Twilio BrandRegistrations ``BrandType``."""

    STANDARD = "STANDARD"
    SOLE_PROPRIETOR = "SOLE_PROPRIETOR"


class Vertical(StrEnum):
    """The 23 TCR brand verticals."""

    AGRICULTURE = "AGRICULTURE"
    COMMUNICATION = "COMMUNICATION"
    CONSTRUCTION = "CONSTRUCTION"
    EDUCATION = "EDUCATION"
    ENERGY = "ENERGY"
    ENTERTAINMENT = "ENTERTAINMENT"
    FINANCIAL = "FINANCIAL"
    GAMBLING = "GAMBLING"
    GOVERNMENT = "GOVERNMENT"
    HEALTHCARE = "HEALTHCARE"
    HOSPITALITY = "HOSPITALITY"
    HUMAN_RESOURCES = "HUMAN_RESOURCES"
    INSURANCE = "INSURANCE"
    LEGAL = "LEGAL"
    MANUFACTURING = "MANUFACTURING"
    NGO = "NGO"
    POLITICAL = "POLITICAL"
    POSTAL = "POSTAL"
    PROFESSIONAL = "PROFESSIONAL"
    REAL_ESTATE = "REAL_ESTATE"
    RETAIL = "RETAIL"
    TECHNOLOGY = "TECHNOLOGY"
    TRANSPORTATION = "TRANSPORTATION"


class UseCase(StrEnum):
    """Twilio ``UsAppToPersonUsecase`` codes (SOLE_PROPRIETOR only for SP brands)."""

    TWO_FA = "2FA"
    ACCOUNT_NOTIFICATION = "ACCOUNT_NOTIFICATION"
    AGENTS_FRANCHISES = "AGENTS_FRANCHISES"
    CHARITY = "CHARITY"
    PROXY = "PROXY"
    CUSTOMER_CARE = "CUSTOMER_CARE"
    DELIVERY_NOTIFICATION = "DELIVERY_NOTIFICATION"
    EMERGENCY = "EMERGENCY"
    FRAUD_ALERT = "FRAUD_ALERT"
    HIGHER_EDUCATION = "HIGHER_EDUCATION"
    K12_EDUCATION = "K12_EDUCATION"
    LOW_VOLUME = "LOW_VOLUME"
    MARKETING = "MARKETING"
    MIXED = "MIXED"
    POLITICAL = "POLITICAL"
    POLLING_VOTING = "POLLING_VOTING"
    PUBLIC_SERVICE_ANNOUNCEMENT = "PUBLIC_SERVICE_ANNOUNCEMENT"
    SECURITY_ALERT = "SECURITY_ALERT"
    SOCIAL = "SOCIAL"
    SWEEPSTAKE = "SWEEPSTAKE"
    SOLE_PROPRIETOR = "SOLE_PROPRIETOR"


# Age-restricted content (alcohol, tobacco, ...) is promotional; our policy only
# lets it ride on the promotional/mixed use cases, never on transactional,
# education, charity or political traffic where carriers refuse it.
AGE_GATED_USE_CASES: Final = frozenset({UseCase.MARKETING, UseCase.MIXED, UseCase.LOW_VOLUME})

DEFAULT_OPT_OUT_KEYWORDS: Final = ("STOP", "UNSUBSCRIBE", "CANCEL", "END", "QUIT")
DEFAULT_HELP_KEYWORDS: Final = ("HELP", "INFO")

REQUIRED_SAMPLES: Final = 5

# libphonenumber's regions are ISO 3166-1 alpha-2 codes (plus the exceptionally
# reserved AC/TA and user-assigned XK, all of which have phone service).
COUNTRY_CODES: Final = frozenset(phonenumbers.SUPPORTED_REGIONS)

# USPS: states, DC, territories and military "states".
US_STATE_CODES: Final = frozenset({
    "AL", "AK", "AZ", "AR", "CA", "CO", "CT", "DE", "FL", "GA", "HI", "ID", "IL", "IN", "IA", "KS", "KY",
    "LA", "ME", "MD", "MA", "MI", "MN", "MS", "MO", "MT", "NE", "NV", "NH", "NJ", "NM", "NY", "NC", "ND",
    "OH", "OK", "OR", "PA", "RI", "SC", "SD", "TN", "TX", "UT", "VT", "VA", "WA", "WV", "WI", "WY", "DC",
    "AS", "GU", "MP", "PR", "VI", "UM", "FM", "MH", "PW", "AA", "AE", "AP",
})  # fmt: skip

# --------------------------------------------------------------------------- field helpers


def _blank_to_none(value: Any) -> Any:
    # Form inputs post "" for untouched fields; a draft treats that as unset.
    if isinstance(value, str) and not value.strip():
        return None
    return value


def _upper_or_none(value: Any) -> Any:
    value = _blank_to_none(value)
    return value.strip().upper() if isinstance(value, str) else value


def _error(code: str, message: str) -> PydanticCustomError:
    return PydanticCustomError(code, message)


_HOST_RE: Final = re.compile(
    r"^(?:[a-z0-9\u00a1-\uffff](?:[a-z0-9\u00a1-\uffff-]{0,61}[a-z0-9\u00a1-\uffff])?\.)+"
    r"(?:[a-z\u00a1-\uffff]{2,63}|xn--[a-z0-9-]{1,59})$"
)


def _http_url(value: str) -> str:
    # Carriers open these pages during review, so they must be real public
    # http(s) addresses; bare "example.com" is refused rather than guessed at.
    parts = urlsplit(value)
    host = (parts.hostname or "").lower()
    if (
        parts.scheme.lower() not in {"http", "https"}
        or not _HOST_RE.match(host)
        or any(ch.isspace() for ch in value)
    ):
        raise _error("http_url", "Enter a full web address starting with https://, e.g. https://example.com")
    return value


def _split_keywords(value: Any) -> Any:
    value = _blank_to_none(value)
    if isinstance(value, str):
        # A text input may hold "STOP, END"; commas/semicolons/newlines separate.
        value = re.split(r"[,;\n]", value)
    if isinstance(value, list | tuple):
        return [item for item in value if not (isinstance(item, str) and not item.strip())]
    return value


def _check_keyword(value: str) -> str:
    keyword = value.strip().upper()
    if not (keyword.isascii() and keyword.isalnum()):
        raise _error("keyword", "A keyword is one word of letters and digits; separate keywords with commas")
    return keyword


def _dedupe(values: list[str]) -> list[str]:
    return list(dict.fromkeys(values))


def _drop_blank_items(value: Any) -> Any:
    if isinstance(value, list | tuple):
        return [item for item in value if not (isinstance(item, str) and not item.strip())]
    return _blank_to_none(value)


OptionalText = Annotated[str | None, BeforeValidator(_blank_to_none)]
OptionalUrl = Annotated[
    Annotated[str, StringConstraints(max_length=2048), AfterValidator(_http_url)] | None,
    BeforeValidator(_blank_to_none),
]
Keyword = Annotated[str, StringConstraints(max_length=255), AfterValidator(_check_keyword)]
KeywordList = Annotated[list[Keyword], BeforeValidator(_split_keywords), AfterValidator(_dedupe)]
Sample = Annotated[str, StringConstraints(strip_whitespace=True, min_length=20, max_length=1024)]

_MODEL_CONFIG: Final = ConfigDict(
    alias_generator=to_camel,
    populate_by_name=True,
    str_strip_whitespace=True,
    # Unknown keys are most likely misspelt field names; say so instead of
    # silently dropping what the operator typed.
    extra="forbid",
    # Keep payload values out of str(ValidationError), which tends to get logged.
    hide_input_in_errors=True,
)


def _country(info: ValidationInfo) -> str | None:
    # ``country`` is declared first so it is already validated here; it is
    # absent when unset or invalid (then only the generic format applies).
    country = info.data.get("country")
    return country if isinstance(country, str) else None


# --------------------------------------------------------------------------- models


class SmsBrand(BaseModel):
    """Brand (company) registration data; every field optional for drafts."""

    model_config = _MODEL_CONFIG

    # Declared first: registrationNumber, contactPhone, state and zipCode are
    # validated against it (pydantic validates fields in declaration order).
    country: Annotated[str | None, BeforeValidator(_upper_or_none)] = None
    entity: Annotated[EntityType | None, BeforeValidator(_upper_or_none)] = None
    vertical: Annotated[Vertical | None, BeforeValidator(_upper_or_none)] = None
    display_name: OptionalText = Field(None, min_length=1, max_length=255)
    company_name: OptionalText = Field(None, min_length=1, max_length=255)
    registration_number: OptionalText = Field(None, max_length=64)
    brand_type: Annotated[BrandType | None, BeforeValidator(_upper_or_none)] = None
    contact_phone: OptionalText = Field(None, max_length=64)
    contact_email: Annotated[EmailStr | None, BeforeValidator(_blank_to_none)] = None
    website: OptionalUrl = None
    address: OptionalText = Field(None, min_length=1, max_length=255)
    state: OptionalText = Field(None, min_length=1, max_length=64)
    city: OptionalText = Field(None, min_length=1, max_length=100)
    zip_code: OptionalText = Field(None, min_length=1, max_length=16)

    @field_validator("country")
    @classmethod
    def _check_country(cls, value: str | None) -> str | None:
        if value is not None and value not in COUNTRY_CODES:
            raise _error("country_code", "Use the two-letter ISO 3166-1 country code, e.g. US")
        return value

    @field_validator("registration_number")
    @classmethod
    def _check_registration_number(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None:
            return None
        return normalize_registration_number(value, _country(info))

    @field_validator("contact_phone")
    @classmethod
    def _check_contact_phone(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None:
            return None
        return normalize_phone(value, _country(info))

    @field_validator("state")
    @classmethod
    def _check_state(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is not None and _country(info) == "US":
            value = value.upper()
            if value not in US_STATE_CODES:
                raise _error("us_state", "Use the two-letter USPS state code, e.g. CA")
        return value

    @field_validator("zip_code")
    @classmethod
    def _check_zip_code(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None:
            return None
        return normalize_postal_code(value, _country(info))


class SmsCampaign(BaseModel):
    """Campaign (use case) registration data; every field optional for drafts."""

    model_config = _MODEL_CONFIG

    campaign_description: OptionalText = Field(None, min_length=40, max_length=4096)
    message_flow: OptionalText = Field(None, min_length=40, max_length=2048)
    privacy_policy_url: OptionalUrl = None
    use_case_type: Annotated[UseCase | None, BeforeValidator(_upper_or_none)] = None
    # At most five here; exactly five is a submission requirement (precheck),
    # so a half-written set of samples can still be saved.
    message_samples: Annotated[list[Sample] | None, BeforeValidator(_drop_blank_items)] = Field(
        None, max_length=REQUIRED_SAMPLES
    )
    opt_in_keywords: KeywordList = Field(default_factory=list)
    opt_in_message: OptionalText = Field(None, min_length=20, max_length=320)
    # Carriers require STOP/HELP handling, so these lists are never empty:
    # missing, null or empty input falls back to the defaults.
    opt_out_keywords: KeywordList = Field(default_factory=lambda: list(DEFAULT_OPT_OUT_KEYWORDS))
    opt_out_message: OptionalText = Field(None, min_length=20, max_length=320)
    help_keywords: KeywordList = Field(default_factory=lambda: list(DEFAULT_HELP_KEYWORDS))
    help_message: OptionalText = Field(None, min_length=20, max_length=320)
    number_pooling: bool | None = None
    direct_lending: bool | None = None
    embedded_link: bool | None = None
    embedded_phone: bool | None = None
    age_gated_content: bool | None = None
    # Acceptance of the terms and conditions; must be true to submit.
    terms_and_conditions: bool | None = None

    @field_validator("opt_in_keywords", mode="before")
    @classmethod
    def _opt_in_default(cls, value: Any) -> Any:
        return _default_if_empty(value, ())

    @field_validator("opt_out_keywords", mode="before")
    @classmethod
    def _opt_out_default(cls, value: Any) -> Any:
        return _default_if_empty(value, DEFAULT_OPT_OUT_KEYWORDS)

    @field_validator("help_keywords", mode="before")
    @classmethod
    def _help_default(cls, value: Any) -> Any:
        return _default_if_empty(value, DEFAULT_HELP_KEYWORDS)


def _default_if_empty(value: Any, default: Sequence[str]) -> Any:
    split = _split_keywords(value)
    return list(default) if split is None or split == [] else split


class SmsCompliance(BaseModel):
    """``ChannelConnection.smsCompliance``: brand and campaign, each optional."""

    model_config = _MODEL_CONFIG

    brand: SmsBrand | None = None
    campaign: SmsCampaign | None = None

    @classmethod
    def empty(cls) -> SmsCompliance:
        """What the settings dialog starts from when a connection has none yet."""
        return cls(brand=SmsBrand(), campaign=SmsCampaign())


# --------------------------------------------------------------------------- normalisers

_EIN_RE: Final = re.compile(r"^(\d{2})-?(\d{7})$")
_CA_BN_RE: Final = re.compile(r"^(\d{9})(?:([A-Z]{2})(\d{4}))?$")
_GB_CRN_RE: Final = re.compile(r"^(?:\d{8}|[A-Z]{2}\d{6}|[A-Z]\d{7})$")
_GENERIC_REG_RE: Final = re.compile(r"^[A-Za-z0-9 /-]{1,64}$")


def normalize_registration_number(value: str, country: str | None) -> str:
    """Validate a tax/company number for ``country`` and return its canonical form."""
    compact = re.sub(r"\s+", "", value).upper()
    if country == "US":
        if match := _EIN_RE.match(compact):
            return f"{match[1]}-{match[2]}"
        raise _error("registration_number", "A US registration number is an EIN: NN-NNNNNNN (9 digits)")
    if country == "CA":
        if match := _CA_BN_RE.match(compact):
            return compact
        raise _error(
            "registration_number",
            "A Canadian business number is 9 digits, optionally followed by a program account like RT0001",
        )
    if country == "GB":
        if _GB_CRN_RE.match(compact):
            return compact
        raise _error("registration_number", "A UK company number is 8 characters, e.g. 01234567 or SC123456")
    if not _GENERIC_REG_RE.match(value):
        raise _error(
            "registration_number",
            "Use 1-64 letters, digits, spaces, dashes or slashes for the registration number",
        )
    return value


def normalize_phone(value: str, country: str | None) -> str:
    """Parse a phone number (national format allowed when ``country`` is known) to E.164."""
    try:
        number = phonenumbers.parse(value, None if value.startswith("+") else country)
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_valid_number(number):
        raise _error("phone_number", "Enter a valid phone number in international format, e.g. +14155552671")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


_US_ZIP_RE: Final = re.compile(r"^\d{5}(?:-\d{4})?$")
# Canada Post: no D F I O Q U anywhere, no W Z in first position.
_CA_POSTAL_RE: Final = re.compile(r"^([ABCEGHJ-NPRSTVXY]\d[ABCEGHJ-NPRSTV-Z])(\d[ABCEGHJ-NPRSTV-Z]\d)$")


def normalize_postal_code(value: str, country: str | None) -> str:
    """Validate a postal code for ``country``; Canadian codes come back as ``A1A 1A1``."""
    if country == "US":
        if _US_ZIP_RE.match(value):
            return value
        raise _error("zip_code", "A US ZIP code is 5 digits or ZIP+4 (NNNNN-NNNN)")
    if country == "CA":
        if match := _CA_POSTAL_RE.match(re.sub(r"\s+", "", value).upper()):
            return f"{match[1]} {match[2]}"
        raise _error("zip_code", "A Canadian postal code looks like A1A 1A1")
    return value


# --------------------------------------------------------------------------- precheck

Severity = Literal["error", "warning"]


@dataclass(frozen=True, slots=True)
class PrecheckIssue:
    """One finding of :func:`precheck`.

    ``field`` is a camelCase path for the form, such as ``brand.contactEmail``
    or ``campaign.messageSamples[2]`` (zero-based index; messages count from 1).
    ``severity`` "error" blocks submission, "warning" is advice.
    """

    field: str
    code: str
    severity: Severity
    message: str


_BRAND_LABELS: Final = {
    "entity": "Legal entity type",
    "vertical": "Industry (vertical)",
    "displayName": "Brand display name",
    "companyName": "Legal company name",
    "registrationNumber": "Registration number (EIN / tax ID)",
    "brandType": "Brand type",
    "contactPhone": "Contact phone",
    "contactEmail": "Contact email",
    "website": "Website",
    "address": "Street address",
    "country": "Country",
    "state": "State / region",
    "city": "City",
    "zipCode": "ZIP / postal code",
}
_CAMPAIGN_LABELS: Final = {
    "useCaseType": "Use case",
    "campaignDescription": "Campaign description",
    "messageFlow": "Message flow (how users opt in)",
    "messageSamples": "Sample messages",
    "optInMessage": "Opt-in confirmation message",
    "optOutMessage": "Opt-out confirmation message",
    "helpMessage": "Help message",
    "numberPooling": "Number pooling",
    "directLending": "Direct lending",
    "embeddedLink": "Embedded links",
    "embeddedPhone": "Embedded phone numbers",
    "ageGatedContent": "Age-gated content",
}

_FLAGS: Final = frozenset(
    {"numberPooling", "directLending", "embeddedLink", "embeddedPhone", "ageGatedContent"}
)

_SHORTENERS: Final = (
    "bit.ly",
    "bitly.com",
    "tinyurl.com",
    "goo.gl",
    "t.co",
    "ow.ly",
    "is.gd",
    "v.gd",
    "buff.ly",
    "rebrand.ly",
    "cutt.ly",
    "shorturl.at",
    "rb.gy",
    "tiny.cc",
    "t.ly",
    "bl.ink",
    "s.id",
    "lnkd.in",
    "shorte.st",
    "adf.ly",
    "tr.im",
    "soo.gd",
    "clck.ru",
    "short.gy",
)
_SHORTENER_RE: Final = re.compile(
    r"(?<![\w.-])(?:https?://)?(?:www\.)?("
    + "|".join(re.escape(domain) for domain in _SHORTENERS)
    + r")(?![\w-])(?!\.[a-z])",
    re.IGNORECASE,
)
# A scheme or www. marks a link; bare domains only with common TLDs, so that
# "apply.Reply" (a missing space after a full stop) is not taken for a URL.
_URL_RE: Final = re.compile(
    r"(?:https?://|\bwww\.)\S+"
    r"|\b(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+"
    r"(?:com|net|org|edu|gov|io|co|us|ca|uk|me|info|biz|app|ly|gl|gd|to|cc|gy|at|link|site|shop|store"
    r"|online|xyz|ai|dev|tv|page|health|bank|news)\b(?:/\S*)?",
    re.IGNORECASE,
)
_OPT_OUT_RE: Final = re.compile(r"\bopt(?:-|\s)?out\b|\bunsubscribe\b", re.IGNORECASE)
_RATES_RE: Final = re.compile(
    r"\b(?:msgs?|messages?|messaging)\s*(?:&|and|\+|/)\s*data\s*rates?\b", re.IGNORECASE
)
_FREQUENCY_RE: Final = re.compile(
    r"\bfreq(?:uency|\.)?(?!\w)"
    r"|\brecurring\b"
    r"|\b(?:daily|weekly|monthly)\b"
    r"|\b\d+\s*(?:msgs?|messages?|texts?|alerts?)\s*(?:/|per|a|an|each|every)\s*"
    r"(?:day|week|wk|month|mo|mth|year|yr)s?\b",
    re.IGNORECASE,
)
_CONSENT_RE: Final = re.compile(
    r"\bopt(?:s|ed|ing)?(?:-|\s)?in\b|\bconsent|\bcheck(?:-|\s)?box|\bkeywords?\b|\bweb(?:-|\s)?form"
    r"|\b(?:online|paper|sign[- ]?up|signup|registration|intake)\s+form\b|\b(?:text|txt)\s+\S+\s+to\b",
    re.IGNORECASE,
)
_LEGAL_SUFFIXES: Final = frozenset(
    {
        "inc",
        "incorporated",
        "llc",
        "ltd",
        "limited",
        "corp",
        "corporation",
        "co",
        "company",
        "plc",
        "gmbh",
        "llp",
        "lp",
        "pllc",
        "pc",
        "sa",
        "srl",
        "bv",
        "ag",
    }
)
_NEAR_DUPLICATE_RATIO: Final = 0.9


def precheck(c: SmsCompliance) -> list[PrecheckIssue]:
    """Everything that would block or likely fail a 10DLC submission, in form order."""
    brand = c.brand or SmsBrand()
    campaign = c.campaign or SmsCampaign()
    issues: list[PrecheckIssue] = []
    issues += _missing_brand_fields(brand)
    issues += _brand_type_rules(brand, campaign)
    issues += _missing_campaign_fields(campaign)
    issues += _sample_rules(brand, campaign)
    issues += _opt_in_rules(campaign)
    issues += _keyword_rules(campaign)
    issues += _embedded_content_rules(brand, campaign)
    issues += _age_gate_rules(campaign)
    issues += _message_flow_rules(campaign)
    return issues


def ready_to_submit(issues: Iterable[PrecheckIssue]) -> bool:
    """True when no issue blocks submission (warnings do not)."""
    return not any(issue.severity == "error" for issue in issues)


def _issue(field: str, code: str, message: str, severity: Severity = "error") -> PrecheckIssue:
    return PrecheckIssue(field=field, code=code, severity=severity, message=message)


def _values(model: BaseModel) -> dict[str, Any]:
    return model.model_dump(by_alias=True)


def _missing_brand_fields(brand: SmsBrand) -> list[PrecheckIssue]:
    values = _values(brand)
    optional: set[str] = set()
    if brand.entity == EntityType.SOLE_PROPRIETOR:
        # Sole proprietors register with personal details, without a tax ID,
        # and often without a website.
        optional = {"registrationNumber", "website"}
    return [
        _issue(f"brand.{name}", "missing", f"{label} is required before submitting.")
        for name, label in _BRAND_LABELS.items()
        if name not in optional and values.get(name) is None
    ]


def _brand_type_rules(brand: SmsBrand, campaign: SmsCampaign) -> list[PrecheckIssue]:
    issues = []
    sole_entity = brand.entity == EntityType.SOLE_PROPRIETOR
    sole_type = brand.brand_type == BrandType.SOLE_PROPRIETOR
    if brand.entity is not None and brand.brand_type is not None and sole_entity != sole_type:
        issues.append(
            _issue(
                "brand.brandType",
                "brand_type_mismatch",
                "Brand type must be Sole proprietor exactly when the entity type is Sole proprietor.",
            )
        )
    # Only judge the use case once the brand says what kind of brand it is.
    brand_known = brand.entity is not None or brand.brand_type is not None
    sole_use_case = campaign.use_case_type == UseCase.SOLE_PROPRIETOR
    if campaign.use_case_type is not None and brand_known and (sole_entity or sole_type) != sole_use_case:
        issues.append(
            _issue(
                "campaign.useCaseType",
                "use_case_brand_mismatch",
                "Sole proprietor brands must use the Sole proprietor use case, and only they can.",
            )
        )
    return issues


def _missing_campaign_fields(campaign: SmsCampaign) -> list[PrecheckIssue]:
    values = _values(campaign)
    issues = []
    for name, label in _CAMPAIGN_LABELS.items():
        if name == "messageSamples":
            count = len(campaign.message_samples or [])
            if count == 0:
                issues.append(_issue("campaign.messageSamples", "missing", f"{label} are required."))
            elif count < REQUIRED_SAMPLES:
                issues.append(
                    _issue(
                        "campaign.messageSamples",
                        "sample_count",
                        f"Provide {REQUIRED_SAMPLES} sample messages ({count} given), "
                        "each showing a different message you will send.",
                    )
                )
        elif values.get(name) is None:
            # Yes/no flags have no default: the operator must answer them.
            action = f"Answer Yes or No for {label}" if name in _FLAGS else f"{label} is required"
            issues.append(_issue(f"campaign.{name}", "missing", f"{action} before submitting."))
    if campaign.privacy_policy_url is None:
        issues.append(
            _issue(
                "campaign.privacyPolicyUrl",
                "privacy_policy_missing",
                "Add the URL of your privacy policy; carriers reject campaigns without one.",
            )
        )
    if campaign.terms_and_conditions is not True:
        issues.append(
            _issue(
                "campaign.termsAndConditions",
                "terms_not_accepted",
                "Accept the terms and conditions to submit the campaign.",
            )
        )
    return issues


def _normalize_name(text: str) -> str:
    return " ".join(re.sub(r"[\W_]+", " ", text.casefold()).split())


def _brand_names(brand: SmsBrand) -> list[str]:
    names = []
    for name in (brand.display_name, brand.company_name):
        if not name:
            continue
        words = _normalize_name(name).split()
        # "Acme Widgets, Inc." is written "Acme Widgets" in messages.
        while len(words) > 1 and words[-1] in _LEGAL_SUFFIXES:
            words.pop()
        if words:
            names.append(" ".join(words))
    return names


def _mentions(text: str, phrase: str) -> bool:
    return f" {phrase} " in f" {_normalize_name(text)} "


def _has_opt_out_language(sample: str, keywords: Sequence[str]) -> bool:
    if _OPT_OUT_RE.search(sample):
        return True
    for keyword in keywords:
        word = re.escape(keyword)
        # "STOP" in capitals, or "reply/text stop" in any case; a lowercase
        # "end" in running text is not an instruction.
        if re.search(rf"(?<!\w){word}(?!\w)", sample):
            return True
        if re.search(rf"\b(?:reply|text|txt|send|respond)(?:\s+with)?\s+[\"'“]?{word}\b", sample, re.I):
            return True
    return False


def _normalize_sample(text: str) -> str:
    return " ".join(re.sub(r"[^\w]+", " ", text.casefold()).split())


def _sample_rules(brand: SmsBrand, campaign: SmsCampaign) -> list[PrecheckIssue]:
    samples = campaign.message_samples or []
    if not samples:
        return []
    issues = []
    names = _brand_names(brand)
    for index, sample in enumerate(samples):
        field = f"campaign.messageSamples[{index}]"
        if names and not any(_mentions(sample, name) for name in names):
            issues.append(
                _issue(
                    field,
                    "sample_missing_brand",
                    f"Sample {index + 1} does not name your brand; include your brand or company name, "
                    "ideally at the start.",
                )
            )
        for match in _SHORTENER_RE.finditer(sample):
            issues.append(
                _issue(
                    field,
                    "public_url_shortener",
                    f"Sample {index + 1} uses the public link shortener {match[1].lower()}; carriers block "
                    "these. Use a full link on your own domain (or a branded short domain).",
                )
            )
            break
    if not any(_has_opt_out_language(sample, campaign.opt_out_keywords) for sample in samples):
        issues.append(
            _issue(
                "campaign.messageSamples",
                "samples_missing_opt_out",
                'At least one sample must tell recipients how to opt out, e.g. "Reply STOP to unsubscribe".',
            )
        )
    issues += _duplicate_samples(samples)
    return issues


def _duplicate_samples(samples: Sequence[str]) -> list[PrecheckIssue]:
    issues = []
    normalized = [_normalize_sample(sample) for sample in samples]
    for later in range(1, len(samples)):
        for earlier in range(later):
            if normalized[later] == normalized[earlier]:
                issues.append(
                    _issue(
                        f"campaign.messageSamples[{later}]",
                        "duplicate_sample",
                        f"Sample {later + 1} repeats sample {earlier + 1}; each sample must show a different "
                        "message.",
                    )
                )
                break
            ratio = SequenceMatcher(None, normalized[earlier], normalized[later], autojunk=False).ratio()
            if ratio >= _NEAR_DUPLICATE_RATIO:
                issues.append(
                    _issue(
                        f"campaign.messageSamples[{later}]",
                        "near_duplicate_sample",
                        f"Sample {later + 1} is nearly identical to sample {earlier + 1}; show a different "
                        "kind of message you will send.",
                        "warning",
                    )
                )
                break
    return issues


def _opt_in_rules(campaign: SmsCampaign) -> list[PrecheckIssue]:
    message = campaign.opt_in_message
    if message is None:
        return []
    issues = []
    if not _FREQUENCY_RE.search(message):
        issues.append(
            _issue(
                "campaign.optInMessage",
                "opt_in_missing_frequency",
                'Say how often you will text, e.g. "Msg frequency varies" or "Up to 4 msgs/month".',
            )
        )
    if not _RATES_RE.search(message):
        issues.append(
            _issue(
                "campaign.optInMessage",
                "opt_in_missing_rates",
                'Add "Msg & data rates may apply" to the opt-in message.',
            )
        )
    return issues


def _keyword_rules(campaign: SmsCampaign) -> list[PrecheckIssue]:
    issues = []
    if "STOP" not in campaign.opt_out_keywords:
        issues.append(
            _issue(
                "campaign.optOutKeywords",
                "opt_out_keyword_stop",
                "Include STOP in the opt-out keywords; carriers expect it to work everywhere.",
                "warning",
            )
        )
    if "HELP" not in campaign.help_keywords:
        issues.append(
            _issue(
                "campaign.helpKeywords",
                "help_keyword_help",
                "Include HELP in the help keywords; carriers expect it to work everywhere.",
                "warning",
            )
        )
    return issues


def _embedded_content_rules(brand: SmsBrand, campaign: SmsCampaign) -> list[PrecheckIssue]:
    samples = campaign.message_samples or []
    if not samples:
        return []
    region = brand.country if brand.country in COUNTRY_CODES else "US"
    with_link = [i + 1 for i, sample in enumerate(samples) if _URL_RE.search(sample)]
    with_phone = [i + 1 for i, sample in enumerate(samples) if _has_phone_number(sample, region)]
    issues = []
    for flag, found, field, code, what in (
        (campaign.embedded_link, with_link, "embeddedLink", "embedded_link", "link"),
        (campaign.embedded_phone, with_phone, "embeddedPhone", "embedded_phone", "phone number"),
    ):
        if flag is True and not found:
            issues.append(
                _issue(
                    f"campaign.{field}",
                    f"{code}_not_in_samples",
                    f"You declared messages will contain a {what}, but no sample has one. "
                    f"Add a sample with the {what}, or answer No.",
                )
            )
        elif flag is False and found:
            listed = ", ".join(str(n) for n in found)
            issues.append(
                _issue(
                    f"campaign.{field}",
                    f"undeclared_{code}",
                    f"Sample(s) {listed} contain a {what} but you answered No. "
                    f"Answer Yes, or remove the {what} from the samples.",
                )
            )
    return issues


def _has_phone_number(text: str, region: str) -> bool:
    return any(True for _ in phonenumbers.PhoneNumberMatcher(text, region))


def _age_gate_rules(campaign: SmsCampaign) -> list[PrecheckIssue]:
    use_case = campaign.use_case_type
    if campaign.age_gated_content is True and use_case is not None and use_case not in AGE_GATED_USE_CASES:
        return [
            _issue(
                "campaign.ageGatedContent",
                "age_gated_use_case",
                "Age-gated content is only allowed on Marketing, Mixed or Low volume campaigns; "
                "change the use case or answer No.",
            )
        ]
    return []


def _message_flow_rules(campaign: SmsCampaign) -> list[PrecheckIssue]:
    flow = campaign.message_flow
    if flow is not None and not _CONSENT_RE.search(flow):
        return [
            _issue(
                "campaign.messageFlow",
                "message_flow_no_consent",
                "Describe how recipients give consent: e.g. an unchecked opt-in checkbox on a web form, "
                "or texting a keyword to your number, and where that happens.",
            )
        ]
    return []
