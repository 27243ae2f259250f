"""The organisation read serializers write their representation out by hand (speed, README
"Performance and the benchmark"): it must equal, byte for byte, what DRF's generic
field-by-field to_representation makes of the same declared fields, for every role, with
Django's prefetches and with the API list's tuples (selectors.attach_organisation_lists)."""

import json
from datetime import UTC, datetime

import pytest
from django.db.models import F
from django.utils import translation
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from api.serializers import (
    EDITOR_EXTRA_FIELDS,
    OrganisationEditorSerializer,
    OrganisationPublicSerializer,
    OrganisationStaffSerializer,
)
from directory import selectors
from directory.models import Organisation
from tests import factories

pytestmark = pytest.mark.django_db


def generic(serializer, obj) -> dict:
    data = serializers.ModelSerializer.to_representation(serializer, obj)
    if isinstance(serializer, OrganisationEditorSerializer):
        if obj.pk not in serializer.context["editor_org_ids"]:
            for name in EDITOR_EXTRA_FIELDS:
                data.pop(name)
    return data


@pytest.fixture
def organisations(django_user_model):
    verifier = factories.UserFactory(username="verifier")
    full = factories.OrganisationFactory(
        name="Бир Дуйно", name_local="Бир Дуйно", other_names=["Bir Duino", "BD"], acronym="BD",
        country="KG", city="Bishkek", website="https://example.org", email="a@example.org",
        phone="+996", description="Права человека", founded_year=1999, languages=["ky", "ru"],
        verified=True, verified_by=verifier, verified_at=datetime(2024, 5, 1, 10, tzinfo=UTC),
        confirmed_at=datetime(2024, 6, 1, tzinfo=UTC), internal_notes="notes",
        visibility="staff", status="inactive", focus_areas=["environment", "youth", "rule-of-law"],
    )
    factories.IdentifierFactory(organisation=full, scheme="KG-INN", value="2")
    factories.IdentifierFactory(organisation=full, scheme="KG-INN", value="1")
    bare = factories.OrganisationFactory(other_names=[], languages=[], founded_year=None, country="TJ")
    return [full, bare]


@pytest.mark.parametrize("language", ["en", "ru"])
@pytest.mark.parametrize("attach", [False, True])
@pytest.mark.parametrize(
    "serializer_class",
    [OrganisationPublicSerializer, OrganisationEditorSerializer, OrganisationStaffSerializer],
)
def test_written_out_representation_equals_drf(organisations, serializer_class, attach, language):
    request = Request(APIRequestFactory().get("/api/v1/organisations/", secure=True))
    staff = factories.staff_user()
    rows = list(
        selectors.organisation_list(staff)
        .annotate(verified_by_username=F("verified_by__username"))
        .order_by("name")
    )
    if attach:
        rows = list(Organisation.objects.filter(pk__in=[o.pk for o in rows]).order_by("name"))
        selectors.attach_organisation_lists(rows)
    own = frozenset({organisations[0].pk})
    with translation.override(language):
        serializer = serializer_class(context={"request": request, "editor_org_ids": own})
        for obj in rows:
            fast = serializer.to_representation(obj)
            assert json.dumps(fast, ensure_ascii=False) == json.dumps(generic(serializer, obj), ensure_ascii=False)
    assert fast["url"].startswith("https://testserver/api/v1/organisations/")
