"""Identifiers: per-scheme validation, parsing of SCHEME-VALUE, uniqueness through services."""

import pytest
from django.core.exceptions import ValidationError

from directory.identifiers import KNOWN_SCHEMES, parse_identifier, validate_identifier
from directory.models import Organisation, OrganisationIdentifier
from directory.services.organisations import organisation_create, organisation_update
from tests import factories

VALID = {
    "KZ-BIN": "950440001673",
    "KG-ID": "12345-3301-OOO",
    "KG-TIN": "01234567890123",
    "KG-OKPO": "12345678",
    "TJ-TIN": "123456789",
    "UZ-TIN": "301234567",
    "UZ-KTUT": "12345678",
    "TM-TIN": "1234567890",
}

INVALID = {
    "KZ-BIN": (["95044000167", "9504400016731", "95044000167A"], "12 digits"),
    "KG-ID": (["-123", "12 34#", "x" * 31], "registration number"),
    "KG-TIN": (["0123456789012", "012345678901234", "ABCDEFGHIJKLMN"], "14 digits"),
    "KG-OKPO": (["1234567", "123456789", "1234567X"], "8 digits"),
    "TJ-TIN": (["12345678", "1234567890", "12345678A"], "9 digits"),
    "UZ-TIN": (["30123456", "3012345678"], "9 digits"),
    "UZ-KTUT": (["1234567", "123456789"], "8 digits"),
    "TM-TIN": (["12345678", "1234567890123"], "9 to 12 digits"),
}


def test_every_known_scheme_is_covered():
    assert set(VALID) == set(KNOWN_SCHEMES) == set(INVALID)


@pytest.mark.parametrize("scheme", sorted(VALID))
def test_known_scheme_accepts_valid_value(scheme):
    validate_identifier(scheme, VALID[scheme])


@pytest.mark.parametrize(
    ("scheme", "value", "fragment"),
    [(s, v, frag) for s, (values, frag) in INVALID.items() for v in values],
)
def test_known_scheme_rejects_invalid_value_naming_the_format(scheme, value, fragment):
    with pytest.raises(ValidationError) as exc:
        validate_identifier(scheme, value)
    message = " ".join(exc.value.message_dict["value"])
    assert scheme in message
    assert fragment in message


def test_spaces_in_values_and_lowercase_scheme_accepted():
    validate_identifier("kz-bin", "9504 4000 1673")


@pytest.mark.parametrize(("scheme", "value"), [("KZ-REG", "12-345/A"), ("UZ-NGO", "2024.15"), ("tj-reg", "77")])
def test_free_schemes_accepted(scheme, value):
    validate_identifier(scheme, value)


@pytest.mark.parametrize("scheme", ["BIN", "KZBIN", "KZ-", "K-BIN", "123-ABC", "KZ-B", "KZ-BIN-EXTRA", "ҚЗ-БИН"])
def test_malformed_schemes_rejected(scheme):
    with pytest.raises(ValidationError) as exc:
        validate_identifier(scheme, "12345")
    assert "scheme" in exc.value.message_dict
    assert "KZ-REG" in exc.value.message_dict["scheme"][0]


@pytest.mark.parametrize("value", ["", "-12", "12 34#", "a" * 65, "12\x0034"])
def test_free_scheme_bad_values_rejected(value):
    with pytest.raises(ValidationError) as exc:
        validate_identifier("KZ-REG", value)
    assert "value" in exc.value.message_dict


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("KZ-BIN-950440001673", ("KZ-BIN", "950440001673")),
        ("kz-bin-950440001673", ("KZ-BIN", "950440001673")),
        ("KG-ID-12345-3301-OOO", ("KG-ID", "12345-3301-OOO")),
        ("KG-TIN-01234567890123", ("KG-TIN", "01234567890123")),
        ("KZ-REG-12-34", ("KZ-REG", "12-34")),
        ("  UZ-KTUT-12345678 ", ("UZ-KTUT", "12345678")),
    ],
)
def test_parse_identifier(text, expected):
    assert parse_identifier(text) == expected


@pytest.mark.parametrize("text", ["", "junk", "950440001673", "KZ-BIN", "KZ--123", "-BIN-123", "KZ-BIN-"])
def test_parse_identifier_rejects_junk(text):
    with pytest.raises(ValidationError) as exc:
        parse_identifier(text)
    assert "SCHEME-VALUE" in exc.value.messages[0]


@pytest.mark.django_db
def test_service_rejects_identifier_of_another_organisation_and_writes_nothing():
    owner = factories.OrganisationFactory(name="Owner")
    factories.IdentifierFactory(organisation=owner, scheme="KZ-BIN", value="950440001673")
    before = (Organisation.objects.count(), OrganisationIdentifier.objects.count())
    with pytest.raises(ValidationError) as exc:
        organisation_create(
            actor=None,
            data={"name": "Copycat", "country": "KZ"},
            focus_areas=["health"],
            identifiers=[("KZ-REG", "77"), ("kz-bin", "9504 4000 1673")],
        )
    assert "identifiers" in exc.value.message_dict
    assert "KZ-BIN-950440001673 already belongs to another organisation." in exc.value.message_dict["identifiers"]
    assert (Organisation.objects.count(), OrganisationIdentifier.objects.count()) == before
    assert not Organisation.objects.filter(name="Copycat").exists()
    assert not OrganisationIdentifier.objects.filter(scheme="KZ-REG").exists()


@pytest.mark.django_db
def test_service_rejects_invalid_identifier_with_message_on_identifiers():
    with pytest.raises(ValidationError) as exc:
        organisation_create(actor=None, data={"name": "Bad", "country": "KZ"}, identifiers=[("KZ-BIN", "123")])
    assert "12 digits" in " ".join(exc.value.message_dict["identifiers"])
    assert not Organisation.objects.filter(name="Bad").exists()


@pytest.mark.django_db
def test_service_update_keeps_own_identifier_and_replaces_others():
    org = organisation_create(
        actor=None, data={"name": "Mine", "country": "KZ"},
        identifiers=[("KZ-BIN", "950440001673"), ("KZ-REG", "1")],
    )
    organisation_update(actor=None, organisation=org, data={}, identifiers=[("KZ-BIN", "950440001673")])
    assert list(org.identifiers.values_list("scheme", "value")) == [("KZ-BIN", "950440001673")]
