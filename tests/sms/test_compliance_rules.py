"""10DLC compliance model validation and pre-submission checks (no database)."""

from __future__ import annotations

import copy
import logging
from typing import Any

import pytest
from pydantic import ValidationError

from switchboard.sms.compliance import (
    DEFAULT_HELP_KEYWORDS,
    DEFAULT_OPT_OUT_KEYWORDS,
    BrandType,
    EntityType,
    PrecheckIssue,
    SmsBrand,
    SmsCampaign,
    SmsCompliance,
    UseCase,
    Vertical,
    precheck,
    ready_to_submit,
)

SAMPLES = [
    "Acme Outdoors: your order #4821 has shipped and should arrive Thursday. Reply STOP to opt out.",
    "Acme Outdoors: your tent rental is ready for pickup at our Mission St store until 6pm today.",
    "Hi Sam, thanks for contacting Acme Outdoors support. An agent will reply within 2 hours.",
    "ACME OUTDOORS: we received your return and a refund of $42.50 is on its way to your card.",
    "Reminder from acme outdoors: your bike tune-up is tomorrow at 10am. Reply C to cancel it.",
]


def valid_payload() -> dict[str, Any]:
    """A complete submission that passes every precheck rule."""
    return {
        "brand": {
            "entity": "PRIVATE_PROFIT",
            "vertical": "RETAIL",
            "displayName": "Acme Outdoors",
            "companyName": "Acme Outdoors, Inc.",
            "registrationNumber": "12-3456789",
            "brandType": "STANDARD",
            "contactPhone": "+14155552671",
            "contactEmail": "compliance@acme-outdoors.com",
            "website": "https://acme-outdoors.com",
            "address": "100 Market St",
            "country": "US",
            "state": "CA",
            "city": "San Francisco",
            "zipCode": "94105",
        },
        "campaign": {
            "campaignDescription": "Order, pickup and refund updates plus support replies for Acme shoppers.",
            "messageFlow": (
                "Customers opt in by ticking an unchecked SMS consent checkbox on the checkout web form "
                "at https://acme-outdoors.com/checkout."
            ),
            "privacyPolicyUrl": "https://acme-outdoors.com/privacy",
            "useCaseType": "MIXED",
            "messageSamples": list(SAMPLES),
            "optInKeywords": ["START"],
            "optInMessage": (
                "Acme Outdoors: you're subscribed to order updates. Msg frequency varies. "
                "Msg & data rates may apply. Reply HELP for help, STOP to cancel."
            ),
            "optOutKeywords": list(DEFAULT_OPT_OUT_KEYWORDS),
            "optOutMessage": "Acme Outdoors: you are unsubscribed and will get no further messages.",
            "helpKeywords": list(DEFAULT_HELP_KEYWORDS),
            "helpMessage": "Acme Outdoors: for help email support@acme-outdoors.com. Reply STOP to cancel.",
            "numberPooling": False,
            "directLending": False,
            "embeddedLink": False,
            "embeddedPhone": False,
            "ageGatedContent": False,
            "termsAndConditions": True,
        },
    }


def brand(**changes: Any) -> SmsBrand:
    return SmsBrand.model_validate(changes)


def campaign(**changes: Any) -> SmsCampaign:
    return SmsCampaign.model_validate(changes)


def error_locs(
    model: type[SmsBrand | SmsCampaign | SmsCompliance], data: dict[str, Any]
) -> set[tuple[Any, ...]]:
    with pytest.raises(ValidationError) as excinfo:
        model.model_validate(data)
    return {error["loc"] for error in excinfo.value.errors()}


def compliance_with(section: str, **changes: Any) -> SmsCompliance:
    payload = valid_payload()
    payload[section].update(changes)
    return SmsCompliance.model_validate(payload)


def codes(issues: list[PrecheckIssue]) -> set[tuple[str, str]]:
    return {(issue.field, issue.code) for issue in issues}


# =============================================================== model: partial data


def test_valid_payload_round_trips_with_camel_case_aliases() -> None:
    model = SmsCompliance.model_validate(valid_payload())
    assert model.brand is not None
    assert model.brand.display_name == "Acme Outdoors"
    dumped = model.model_dump(by_alias=True, mode="json")
    assert set(dumped["brand"]) == set(valid_payload()["brand"])
    assert set(dumped["campaign"]) == set(valid_payload()["campaign"])
    assert dumped == valid_payload()


def test_field_names_also_accepted() -> None:
    assert brand(display_name="Acme").display_name == "Acme"
    assert SmsCampaign(use_case_type=UseCase.MARKETING).use_case_type is UseCase.MARKETING


def test_partial_drafts_are_accepted() -> None:
    assert SmsCompliance.model_validate({}) == SmsCompliance()
    draft = SmsCompliance.model_validate({"brand": {"displayName": "Acme"}})
    assert draft.campaign is None
    assert draft.brand is not None
    assert draft.brand.company_name is None
    empty = SmsCompliance.empty()
    assert empty.brand == SmsBrand()
    assert empty.campaign == SmsCampaign()


def test_blank_strings_mean_not_given() -> None:
    draft = SmsCompliance.model_validate(
        {
            "brand": {"displayName": "", "registrationNumber": "  ", "contactEmail": "", "country": ""},
            "campaign": {"campaignDescription": "", "privacyPolicyUrl": " ", "messageSamples": ["", " "]},
        }
    )
    assert draft.brand == SmsBrand()
    assert draft.campaign is not None
    assert draft.campaign.campaign_description is None
    assert draft.campaign.message_samples == []


def test_unknown_fields_are_rejected_by_name() -> None:
    assert error_locs(SmsBrand, {"displayname": "Acme"}) == {("displayname",)}
    assert error_locs(SmsCampaign, {"messageSample": ["x"]}) == {("messageSample",)}


def test_nested_errors_name_section_and_field() -> None:
    locs = error_locs(SmsCompliance, {"brand": {"contactEmail": "nope"}, "campaign": {"useCaseType": "X"}})
    assert locs == {("brand", "contactEmail"), ("campaign", "useCaseType")}


def test_error_strings_do_not_echo_values() -> None:
    secret = "secret-ein-value-123456789xx"
    with pytest.raises(ValidationError) as excinfo:
        SmsBrand.model_validate({"country": "US", "registrationNumber": secret})
    assert secret not in str(excinfo.value)
    assert "registrationNumber" in str(excinfo.value)


# =============================================================== model: brand rules


@pytest.mark.parametrize("value", [e.value for e in EntityType])
def test_entity_accepts_tcr_entity_types(value: str) -> None:
    assert brand(entity=value).entity == value
    assert brand(entity=value.lower()).entity == value


def test_entity_rejects_other_values() -> None:
    assert error_locs(SmsBrand, {"entity": "LLC"}) == {("entity",)}


@pytest.mark.parametrize("value", ["STANDARD", "SOLE_PROPRIETOR"])
def test_brand_type_accepts_twilio_brand_types(value: str) -> None:
    assert brand(brandType=value).brand_type == BrandType(value)


def test_brand_type_rejects_other_values() -> None:
    assert error_locs(SmsBrand, {"brandType": "STARTER"}) == {("brandType",)}


def test_vertical_list_is_the_23_tcr_verticals() -> None:
    assert len(Vertical) == 23
    for vertical in Vertical:
        assert brand(vertical=vertical.value).vertical is vertical
    assert error_locs(SmsBrand, {"vertical": "FOOD"}) == {("vertical",)}


@pytest.mark.parametrize("field", ["displayName", "companyName", "address"])
def test_names_and_address_are_1_to_255(field: str) -> None:
    assert SmsBrand.model_validate({field: "x" * 255})
    assert SmsBrand.model_validate({field: "A"})
    assert error_locs(SmsBrand, {field: "x" * 256}) == {(field,)}


def test_country_is_uppercase_iso_alpha2() -> None:
    assert brand(country="us").country == "US"
    assert brand(country="CA").country == "CA"
    assert error_locs(SmsBrand, {"country": "ZZ"}) == {("country",)}
    assert error_locs(SmsBrand, {"country": "USA"}) == {("country",)}


@pytest.mark.parametrize(
    ("country", "given", "stored"),
    [
        ("US", "12-3456789", "12-3456789"),
        ("US", "123456789", "12-3456789"),
        ("US", " 12 3456789 ", "12-3456789"),
        ("CA", "123456789", "123456789"),
        ("CA", "123456789RT0001", "123456789RT0001"),
        ("CA", "123456789 rt 0001", "123456789RT0001"),
        ("GB", "01234567", "01234567"),
        ("GB", "sc123456", "SC123456"),
        ("DE", "HRB 12345", "HRB 12345"),
        ("FR", "732 829 320/00074", "732 829 320/00074"),
        (None, "AB-12/34", "AB-12/34"),
    ],
)
def test_registration_number_valid_per_country(country: str | None, given: str, stored: str) -> None:
    assert brand(country=country, registrationNumber=given).registration_number == stored


@pytest.mark.parametrize(
    ("country", "given"),
    [
        ("US", "1234567"),
        ("US", "123-45-6789"),
        ("US", "12-345678A"),
        ("CA", "12345678"),
        ("CA", "123456789RT001"),
        ("GB", "1234567"),
        ("GB", "123456789"),
        ("DE", "HRB#12345"),
        ("DE", "x" * 65),
    ],
)
def test_registration_number_invalid_per_country(country: str, given: str) -> None:
    assert error_locs(SmsBrand, {"country": country, "registrationNumber": given}) == {
        ("registrationNumber",)
    }


def test_registration_number_with_invalid_country_uses_generic_rule() -> None:
    # The country error is reported; the number is not judged by US rules.
    assert error_locs(SmsBrand, {"country": "XX", "registrationNumber": "HRB 1"}) == {("country",)}


@pytest.mark.parametrize(
    ("country", "given", "stored"),
    [
        (None, "+14155552671", "+14155552671"),
        (None, "+1 (415) 555-2671", "+14155552671"),
        ("US", "(415) 555-2671", "+14155552671"),
        ("GB", "020 7946 0958", "+442079460958"),
        ("US", "+44 20 7946 0958", "+442079460958"),
    ],
)
def test_contact_phone_normalised_to_e164(country: str | None, given: str, stored: str) -> None:
    assert brand(country=country, contactPhone=given).contact_phone == stored


@pytest.mark.parametrize(
    ("country", "given"),
    [(None, "4155552671"), ("US", "12345"), ("US", "+1 415 555 267"), (None, "call me")],
)
def test_contact_phone_invalid(country: str | None, given: str) -> None:
    assert error_locs(SmsBrand, {"country": country, "contactPhone": given}) == {("contactPhone",)}


def test_contact_email() -> None:
    assert brand(contactEmail="ops@acme.com").contact_email == "ops@acme.com"
    assert error_locs(SmsBrand, {"contactEmail": "ops.acme.com"}) == {("contactEmail",)}
    assert error_locs(SmsBrand, {"contactEmail": "ops@"}) == {("contactEmail",)}


@pytest.mark.parametrize(
    "url", ["https://acme.com", "http://www.acme.co.uk/about?x=1", "https://shop.acme.io/"]
)
def test_website_and_privacy_url_accept_http_urls(url: str) -> None:
    assert brand(website=url).website == url
    assert campaign(privacyPolicyUrl=url).privacy_policy_url == url


@pytest.mark.parametrize(
    "url",
    ["acme.com", "ftp://acme.com", "https://localhost", "https://10.0.0.1", "https://ac me.com", "https://"],
)
def test_website_and_privacy_url_reject_non_http_urls(url: str) -> None:
    assert error_locs(SmsBrand, {"website": url}) == {("website",)}
    assert error_locs(SmsCampaign, {"privacyPolicyUrl": url}) == {("privacyPolicyUrl",)}


def test_state_us_requires_usps_code() -> None:
    assert brand(country="US", state="ca").state == "CA"
    assert brand(country="US", state="PR").state == "PR"
    assert error_locs(SmsBrand, {"country": "US", "state": "California"}) == {("state",)}
    assert error_locs(SmsBrand, {"country": "US", "state": "XX"}) == {("state",)}


def test_state_elsewhere_is_1_to_64_characters() -> None:
    assert brand(country="CA", state="Ontario").state == "Ontario"
    assert brand(state="Bavaria").state == "Bavaria"
    assert error_locs(SmsBrand, {"country": "DE", "state": "x" * 65}) == {("state",)}


def test_city_is_1_to_100_characters() -> None:
    assert brand(city="x" * 100).city == "x" * 100
    assert error_locs(SmsBrand, {"city": "x" * 101}) == {("city",)}


@pytest.mark.parametrize(
    ("country", "given", "stored"),
    [
        ("US", "94105", "94105"),
        ("US", "94105-1234", "94105-1234"),
        ("CA", "K1A 0B1", "K1A 0B1"),
        ("CA", "k1a0b1", "K1A 0B1"),
        ("GB", "SW1A 1AA", "SW1A 1AA"),
        (None, "1234567890123456", "1234567890123456"),
    ],
)
def test_zip_code_valid(country: str | None, given: str, stored: str) -> None:
    assert brand(country=country, zipCode=given).zip_code == stored


@pytest.mark.parametrize(
    ("country", "given"),
    [
        ("US", "9410"),
        ("US", "94105-12"),
        ("US", "941051234"),
        ("CA", "D1A 0B1"),  # D is never used
        ("CA", "K1A0B"),
        ("GB", "x" * 17),
    ],
)
def test_zip_code_invalid(country: str, given: str) -> None:
    assert error_locs(SmsBrand, {"country": country, "zipCode": given}) == {("zipCode",)}


# =============================================================== model: campaign rules


@pytest.mark.parametrize(
    ("field", "low", "high"),
    [
        ("campaignDescription", 40, 4096),
        ("messageFlow", 40, 2048),
        ("optInMessage", 20, 320),
        ("optOutMessage", 20, 320),
        ("helpMessage", 20, 320),
    ],
)
def test_text_length_limits(field: str, low: int, high: int) -> None:
    assert SmsCampaign.model_validate({field: "x" * low})
    assert SmsCampaign.model_validate({field: "x" * high})
    assert error_locs(SmsCampaign, {field: "x" * (low - 1)}) == {(field,)}
    assert error_locs(SmsCampaign, {field: "x" * (high + 1)}) == {(field,)}


def test_use_case_accepts_twilio_codes() -> None:
    # PROVIDERS.md "2. Twilio A2P 10DLC", Usecases list.
    codes_in_providers_md = {
        "2FA", "ACCOUNT_NOTIFICATION", "AGENTS_FRANCHISES", "CHARITY", "PROXY", "CUSTOMER_CARE",
        "DELIVERY_NOTIFICATION", "EMERGENCY", "FRAUD_ALERT", "HIGHER_EDUCATION", "K12_EDUCATION",
        "LOW_VOLUME", "MARKETING", "MIXED", "POLITICAL", "POLLING_VOTING", "PUBLIC_SERVICE_ANNOUNCEMENT",
        "SECURITY_ALERT", "SOCIAL", "SWEEPSTAKE", "SOLE_PROPRIETOR",
    }  # fmt: skip
    assert {use_case.value for use_case in UseCase} == codes_in_providers_md
    assert campaign(useCaseType="2FA").use_case_type is UseCase.TWO_FA
    assert campaign(useCaseType="marketing").use_case_type is UseCase.MARKETING
    assert error_locs(SmsCampaign, {"useCaseType": "NEWSLETTER"}) == {("useCaseType",)}


def test_message_samples_each_20_to_1024() -> None:
    assert campaign(messageSamples=["x" * 20, "y" * 1024]).message_samples == ["x" * 20, "y" * 1024]
    assert error_locs(SmsCampaign, {"messageSamples": ["x" * 20, "too short"]}) == {("messageSamples", 1)}
    assert error_locs(SmsCampaign, {"messageSamples": ["x" * 1025]}) == {("messageSamples", 0)}


def test_message_samples_at_most_five() -> None:
    assert len(campaign(messageSamples=list(SAMPLES)).message_samples or []) == 5
    assert error_locs(SmsCampaign, {"messageSamples": [*SAMPLES, SAMPLES[0] + "!"]}) == {("messageSamples",)}


def test_keyword_defaults_when_not_given() -> None:
    empty = SmsCampaign()
    assert empty.opt_out_keywords == ["STOP", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"]
    assert empty.help_keywords == ["HELP", "INFO"]
    assert empty.opt_in_keywords == []
    for missing in (None, [], "", ["", " "]):
        model = campaign(optOutKeywords=missing, helpKeywords=missing, optInKeywords=missing)
        assert model.opt_out_keywords == list(DEFAULT_OPT_OUT_KEYWORDS)
        assert model.help_keywords == list(DEFAULT_HELP_KEYWORDS)
        assert model.opt_in_keywords == []


def test_given_keywords_replace_defaults_uppercased_and_deduplicated() -> None:
    model = campaign(optOutKeywords=["stop", "Arret", "STOP", " end "], helpKeywords="help, aide;HELP")
    assert model.opt_out_keywords == ["STOP", "ARRET", "END"]
    assert model.help_keywords == ["HELP", "AIDE"]
    assert campaign(optInKeywords="join\nstart2").opt_in_keywords == ["JOIN", "START2"]


@pytest.mark.parametrize("bad", ["opt out", "STOP!", "ARRÊT", "x" * 256])
@pytest.mark.parametrize("field", ["optInKeywords", "optOutKeywords", "helpKeywords"])
def test_keywords_must_be_alphanumeric_words_up_to_255(field: str, bad: str) -> None:
    assert error_locs(SmsCampaign, {field: ["OK", bad]}) == {(field, 1)}


def test_keyword_of_255_characters_is_allowed() -> None:
    assert campaign(helpKeywords=["h" * 255]).help_keywords == ["H" * 255]


@pytest.mark.parametrize(
    "field",
    [
        "numberPooling",
        "directLending",
        "embeddedLink",
        "embeddedPhone",
        "ageGatedContent",
        "termsAndConditions",
    ],
)
def test_flags_are_booleans(field: str) -> None:
    assert SmsCampaign.model_validate({field: True}).model_dump(by_alias=True)[field] is True
    assert SmsCampaign.model_validate({field: "false"}).model_dump(by_alias=True)[field] is False
    assert SmsCampaign.model_validate({}).model_dump(by_alias=True)[field] is None
    assert error_locs(SmsCampaign, {field: "maybe"}) == {(field,)}


# =============================================================== precheck


def test_complete_valid_payload_has_no_issues() -> None:
    issues = precheck(SmsCompliance.model_validate(valid_payload()))
    assert issues == []
    assert ready_to_submit(issues)


def test_empty_compliance_lists_every_missing_field() -> None:
    issues = precheck(SmsCompliance())
    missing = {issue.field for issue in issues if issue.code == "missing"}
    assert missing == {
        *(f"brand.{name}" for name in valid_payload()["brand"]),
        "campaign.useCaseType",
        "campaign.campaignDescription",
        "campaign.messageFlow",
        "campaign.messageSamples",
        "campaign.optInMessage",
        "campaign.optOutMessage",
        "campaign.helpMessage",
        "campaign.numberPooling",
        "campaign.directLending",
        "campaign.embeddedLink",
        "campaign.embeddedPhone",
        "campaign.ageGatedContent",
    }
    assert ("campaign.privacyPolicyUrl", "privacy_policy_missing") in codes(issues)
    assert ("campaign.termsAndConditions", "terms_not_accepted") in codes(issues)
    assert all(issue.severity == "error" for issue in issues)
    assert not ready_to_submit(issues)
    # Keyword lists have defaults, so they are never missing.
    assert not any("Keywords" in issue.field for issue in issues)


def test_missing_fields_of_a_partial_draft() -> None:
    payload = valid_payload()
    del payload["brand"]["city"]
    payload["brand"]["website"] = ""
    payload["campaign"]["embeddedPhone"] = None
    issues = precheck(SmsCompliance.model_validate(payload))
    assert codes(issues) == {
        ("brand.city", "missing"),
        ("brand.website", "missing"),
        ("campaign.embeddedPhone", "missing"),
    }
    flag_issue = next(issue for issue in issues if issue.field == "campaign.embeddedPhone")
    assert "Yes or No" in flag_issue.message


def test_sole_proprietor_needs_no_tax_id_or_website() -> None:
    payload = valid_payload()
    payload["brand"].update(entity="SOLE_PROPRIETOR", brandType="SOLE_PROPRIETOR", registrationNumber=None)
    payload["brand"].pop("website")
    payload["campaign"]["useCaseType"] = "SOLE_PROPRIETOR"
    assert precheck(SmsCompliance.model_validate(payload)) == []


def test_sample_count_must_be_five() -> None:
    issues = precheck(compliance_with("campaign", messageSamples=SAMPLES[:3]))
    assert codes(issues) == {("campaign.messageSamples", "sample_count")}
    assert "5" in issues[0].message


def test_privacy_policy_missing() -> None:
    issues = precheck(compliance_with("campaign", privacyPolicyUrl=None))
    assert codes(issues) == {("campaign.privacyPolicyUrl", "privacy_policy_missing")}


@pytest.mark.parametrize("value", [False, None])
def test_terms_must_be_accepted(value: bool | None) -> None:
    issues = precheck(compliance_with("campaign", termsAndConditions=value))
    assert codes(issues) == {("campaign.termsAndConditions", "terms_not_accepted")}


def test_sample_without_brand_name() -> None:
    samples = list(SAMPLES)
    samples[2] = "Hi Sam, thanks for contacting our support team. An agent will reply within 2 hours."
    issues = precheck(compliance_with("campaign", messageSamples=samples))
    assert codes(issues) == {("campaign.messageSamples[2]", "sample_missing_brand")}
    assert "Sample 3" in issues[0].message


def test_brand_name_match_is_case_insensitive_and_ignores_legal_suffix() -> None:
    # Samples name "Acme Outdoors" in three casings; companyName has ", Inc.".
    payload = valid_payload()
    payload["brand"]["displayName"] = "AO Gear"
    assert precheck(SmsCompliance.model_validate(payload)) == []
    # Either name is enough.
    payload["brand"]["companyName"] = "Outdoor Holdings LLC"
    payload["brand"]["displayName"] = "acme OUTDOORS"
    assert precheck(SmsCompliance.model_validate(payload)) == []


def test_no_sample_with_opt_out_language() -> None:
    samples = [sample.replace(" Reply STOP to opt out.", " See you soon!") for sample in SAMPLES]
    issues = precheck(compliance_with("campaign", messageSamples=samples))
    assert codes(issues) == {("campaign.messageSamples", "samples_missing_opt_out")}


@pytest.mark.parametrize(
    "ending",
    [
        "Reply STOP to opt out.",
        "reply stop to unsubscribe.",
        "Text END to leave.",
        "Txt QUIT to end msgs.",
        "STOP to end.",
        "Opt-out anytime with the word on our site.",
        "To unsubscribe just tell us.",
    ],
)
def test_opt_out_language_variants(ending: str) -> None:
    samples = [sample.replace(" Reply STOP to opt out.", "") for sample in SAMPLES]
    samples[0] = samples[0] + " " + ending
    assert precheck(compliance_with("campaign", messageSamples=samples)) == []


def test_lowercase_keyword_in_prose_is_not_opt_out_language() -> None:
    samples = [sample.replace(" Reply STOP to opt out.", "") for sample in SAMPLES]
    samples[0] = samples[0] + " Don't stop exploring, the end of summer is near!"
    issues = precheck(compliance_with("campaign", messageSamples=samples))
    assert codes(issues) == {("campaign.messageSamples", "samples_missing_opt_out")}


def test_opt_in_message_without_frequency_or_rates() -> None:
    issues = precheck(
        compliance_with(
            "campaign", optInMessage="Acme Outdoors: thanks for subscribing! Reply STOP to cancel."
        )
    )
    assert codes(issues) == {
        ("campaign.optInMessage", "opt_in_missing_frequency"),
        ("campaign.optInMessage", "opt_in_missing_rates"),
    }


@pytest.mark.parametrize(
    "message",
    [
        "Acme: subscribed. Msg frequency varies. Msg & data rates may apply. STOP to end.",
        "Acme: subscribed. Message frequency varies. Message and data rates may apply.",
        "Acme: subscribed. Msg freq varies. msg&data rates may apply. Reply STOP to end.",
        "Acme: subscribed. Up to 4 msgs/month. Msg&Data Rates May Apply. Reply STOP to end.",
        "Acme: recurring order alerts. Messaging & data rates may apply.",
        "Acme: weekly deals. Standard message and data rates apply.",
        "Acme: 2 messages per week. Msgs + data rates may apply.",
    ],
)
def test_opt_in_message_variants_accepted(message: str) -> None:
    assert precheck(compliance_with("campaign", optInMessage=message)) == []


def test_embedded_link_declared_but_absent() -> None:
    issues = precheck(compliance_with("campaign", embeddedLink=True))
    assert codes(issues) == {("campaign.embeddedLink", "embedded_link_not_in_samples")}


@pytest.mark.parametrize(
    "link",
    ["https://acme-outdoors.com/t/4821", "www.acme-outdoors.com/track", "acme-outdoors.com/track", "acme.co"],
)
def test_undeclared_link_in_sample(link: str) -> None:
    samples = list(SAMPLES)
    samples[1] = samples[1] + f" Details: {link}"
    issues = precheck(compliance_with("campaign", messageSamples=samples))
    assert codes(issues) == {("campaign.embeddedLink", "undeclared_embedded_link")}
    assert "2" in issues[0].message
    assert precheck(compliance_with("campaign", messageSamples=samples, embeddedLink=True)) == []


def test_missing_space_after_full_stop_is_not_a_link() -> None:
    samples = list(SAMPLES)
    samples[1] = "Acme Outdoors: your tent is ready.Reply STOP to opt out.Thanks for shopping."
    assert precheck(compliance_with("campaign", messageSamples=samples)) == []


def test_embedded_phone_declared_but_absent() -> None:
    issues = precheck(compliance_with("campaign", embeddedPhone=True))
    assert codes(issues) == {("campaign.embeddedPhone", "embedded_phone_not_in_samples")}


@pytest.mark.parametrize("phone", ["(415) 555-2671", "415-555-2671", "+1 415 555 2671", "1-800-555-0199"])
def test_undeclared_phone_in_sample(phone: str) -> None:
    samples = list(SAMPLES)
    samples[2] = samples[2] + f" Or call {phone}."
    issues = precheck(compliance_with("campaign", messageSamples=samples))
    assert codes(issues) == {("campaign.embeddedPhone", "undeclared_embedded_phone")}
    assert precheck(compliance_with("campaign", messageSamples=samples, embeddedPhone=True)) == []


def test_identical_samples() -> None:
    samples = list(SAMPLES)
    samples[4] = samples[1].upper() + "  "
    issues = precheck(compliance_with("campaign", messageSamples=samples))
    assert codes(issues) == {("campaign.messageSamples[4]", "duplicate_sample")}
    assert issues[0].severity == "error"
    assert "Sample 5" in issues[0].message
    assert "sample 2" in issues[0].message


def test_near_identical_samples_warn() -> None:
    samples = list(SAMPLES)
    samples[3] = samples[0].replace("#4821", "#9917").replace("Thursday", "Friday")
    issues = precheck(compliance_with("campaign", messageSamples=samples))
    assert codes(issues) == {("campaign.messageSamples[3]", "near_duplicate_sample")}
    assert issues[0].severity == "warning"
    assert ready_to_submit(issues)


@pytest.mark.parametrize(
    ("link", "domain"),
    [
        ("https://bit.ly/3xYz", "bit.ly"),
        ("bit.ly/3xYz", "bit.ly"),
        ("http://TinyURL.com/acme", "tinyurl.com"),
        ("goo.gl/abc", "goo.gl"),
        ("https://t.co/abc", "t.co"),
    ],
)
def test_public_shortened_links(link: str, domain: str) -> None:
    samples = list(SAMPLES)
    samples[1] = samples[1] + f" {link}"
    issues = precheck(compliance_with("campaign", messageSamples=samples, embeddedLink=True))
    assert codes(issues) == {("campaign.messageSamples[1]", "public_url_shortener")}
    assert domain in issues[0].message


def test_shortener_lookalikes_are_not_flagged() -> None:
    samples = list(SAMPLES)
    samples[1] = samples[1] + " https://bit.lyrics.com/a and https://at.com/b"
    assert precheck(compliance_with("campaign", messageSamples=samples, embeddedLink=True)) == []


@pytest.mark.parametrize("use_case", ["2FA", "K12_EDUCATION", "CHARITY", "ACCOUNT_NOTIFICATION"])
def test_age_gated_content_with_disallowed_use_case(use_case: str) -> None:
    issues = precheck(compliance_with("campaign", ageGatedContent=True, useCaseType=use_case))
    assert codes(issues) == {("campaign.ageGatedContent", "age_gated_use_case")}


@pytest.mark.parametrize("use_case", ["MARKETING", "MIXED", "LOW_VOLUME"])
def test_age_gated_content_with_allowed_use_case(use_case: str) -> None:
    assert precheck(compliance_with("campaign", ageGatedContent=True, useCaseType=use_case)) == []


def test_message_flow_without_consent_collection() -> None:
    flow = "We send customers updates about their orders and deliveries from our online store."
    issues = precheck(compliance_with("campaign", messageFlow=flow))
    assert codes(issues) == {("campaign.messageFlow", "message_flow_no_consent")}


@pytest.mark.parametrize(
    "flow",
    [
        "Customers opt-in on the account page of our website before any texts are sent.",
        "Users opted in at the register by telling the cashier they want order texts.",
        "End users give express written consent during online checkout on our site.",
        "Customers tick a check box next to the phone field when booking an appointment.",
        "Subscribers text the keyword JOIN to our number shown on in-store posters.",
        "Visitors submit the web form at acme-outdoors.com/sms with their mobile number.",
        "Customers fill in the paper form at the front desk and add their mobile number.",
        "Customers text JOIN to 55555 as printed on the receipts we hand out in store.",
    ],
)
def test_message_flow_consent_variants(flow: str) -> None:
    assert precheck(compliance_with("campaign", messageFlow=flow)) == []


def test_brand_type_must_match_sole_proprietor_entity() -> None:
    issues = precheck(compliance_with("brand", brandType="SOLE_PROPRIETOR"))
    assert ("brand.brandType", "brand_type_mismatch") in codes(issues)
    issues = precheck(compliance_with("brand", entity="SOLE_PROPRIETOR"))
    assert ("brand.brandType", "brand_type_mismatch") in codes(issues)


def test_sole_proprietor_use_case_only_for_sole_proprietor_brands() -> None:
    issues = precheck(compliance_with("campaign", useCaseType="SOLE_PROPRIETOR"))
    assert codes(issues) == {("campaign.useCaseType", "use_case_brand_mismatch")}
    payload = valid_payload()
    payload["brand"].update(entity="SOLE_PROPRIETOR", brandType="SOLE_PROPRIETOR")
    issues = precheck(SmsCompliance.model_validate(payload))
    assert codes(issues) == {("campaign.useCaseType", "use_case_brand_mismatch")}


def test_keyword_lists_without_stop_or_help_warn() -> None:
    issues = precheck(compliance_with("campaign", optOutKeywords=["END"], helpKeywords=["INFO"]))
    assert codes(issues) == {
        ("campaign.optOutKeywords", "opt_out_keyword_stop"),
        ("campaign.helpKeywords", "help_keyword_help"),
    }
    assert {issue.severity for issue in issues} == {"warning"}
    assert ready_to_submit(issues)


def test_ready_to_submit() -> None:
    warning = PrecheckIssue("campaign.messageSamples[1]", "near_duplicate_sample", "warning", "w")
    error = PrecheckIssue("campaign.messageFlow", "missing", "error", "e")
    assert ready_to_submit([])
    assert ready_to_submit([warning])
    assert not ready_to_submit([warning, error])
    assert ready_to_submit(iter([warning]))


def test_precheck_accepts_missing_sections() -> None:
    only_brand = SmsCompliance.model_validate({"brand": valid_payload()["brand"]})
    assert all(issue.field.startswith("campaign.") for issue in precheck(only_brand))
    only_campaign = SmsCompliance.model_validate({"campaign": valid_payload()["campaign"]})
    # No brand name known yet, so samples are not judged on it.
    assert all(issue.field.startswith("brand.") for issue in precheck(only_campaign))


def test_messages_never_quote_payload_values_and_nothing_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    payload = copy.deepcopy(valid_payload())
    payload["campaign"]["messageSamples"] = [
        "Zanzibar Quux sample one, no brand here at all http://private.example.com/zz",
        "Zanzibar Quux sample one, no brand here at all http://private.example.com/zz",
        "call 415-555-2671 now please, this is sample three",
    ]
    payload["campaign"]["messageFlow"] = "Completely private description of the flow, no way to say yes."
    payload["campaign"]["optInMessage"] = "Private opt-in wording with nothing required."
    with caplog.at_level(logging.DEBUG):
        model = SmsCompliance.model_validate(payload)
        issues = precheck(model)
    assert caplog.records == []
    assert len(issues) >= 8
    for issue in issues:
        for secret in ("Zanzibar", "private.example", "415", "Completely private", "Private opt-in"):
            assert secret not in issue.message
        assert issue.message.endswith(".")
