"""The organisation CSV export's row builder (api/organisation_csv.py) writes exactly what the
serializer path (`CSVListMixin.export_csv`: one `to_representation` per row) wrote, byte for
byte, for every role, with filters and orderings, across chunk boundaries."""

import csv
import io
from datetime import date, datetime

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from api import organisation_csv, renderers
from api.views import CSVListMixin, OrganisationViewSet
from directory.choices import InteractionSensitivity
from tests import factories
from tests.access_world import INTERACTION_VIEWERS, world_fixture  # noqa: F401 (fixture)

pytestmark = pytest.mark.django_db
URL = "/api/v1/organisations/"
QUERIES = (
    {}, {"country": "KZ"}, {"ordering": "-updated_at"}, {"q": "Mx"}, {"focus_area": "water"},
    {"not_contacted_since": "2025-03-02"}, {"visibility": "staff"},
)


@pytest.fixture
def richer(world):
    """Cells of every kind: identifiers, focus areas, formula-like text, lists, dates, a
    verifier, interactions of every sensitivity on several organisations."""
    orgs = world.orgs
    verifier = world.users["staff"]
    tricky = factories.OrganisationFactory(
        name="=Mx Formula", acronym="+A", other_names=["-x", "Мх, \"quoted\"\nline"], languages=["ru", "kk"],
        description="@sum\r\n", phone="+7 701", website="https://mx.example.org", founded_year=1999,
        verified=True, verified_by=verifier, verified_at=timezone.make_aware(datetime(2024, 5, 1, 23, 30)),
        confirmed_at=timezone.make_aware(datetime(2024, 6, 1, 1, 0)), internal_notes="=notes",
        focus_areas=["water", "youth"], country="KG",
    )
    factories.IdentifierFactory(organisation=tricky, scheme="KZ-BIN", value="950440001673")
    factories.IdentifierFactory(organisation=tricky, scheme="KG-INN", value="=1")
    factories.IdentifierFactory(organisation=orgs["x_staff_org"], scheme="KZ-BIN", value="1")
    orgs["x_staff_org"].focus_areas.set(orgs["x_staff_org"].focus_areas.model.objects.filter(slug="water"))
    factories.interaction(
        world.users["other_team_staff"], subject="mx-team-b", sensitivity=InteractionSensitivity.TEAM,
        occurred_on=date(2025, 4, 1), organisations=[tricky, orgs["x_staff_org"]],
    )
    factories.interaction(
        world.users["staff"], subject="mx-own", sensitivity=InteractionSensitivity.PARTICIPANTS,
        occurred_on=date(2025, 2, 1), organisations=[tricky],
    )
    return tricky


def api(world, role) -> APIClient:
    client = APIClient()
    if role != "public":
        client.force_authenticate(world.users[role])
    return client


def body(response) -> str:
    assert response.status_code == 200, response
    return b"".join(response.streaming_content).decode("utf-8")


def serializer_csv(client, params, monkeypatch):
    monkeypatch.setattr(OrganisationViewSet, "export_csv", CSVListMixin.export_csv)
    try:
        return body(client.get(URL, {**params, "format": "csv"}))
    finally:
        monkeypatch.undo()


@pytest.mark.parametrize("whole", [False, True], ids=["per-organisation", "whole-directory"])
@pytest.mark.parametrize("role", sorted(set(INTERACTION_VIEWERS) | {"staff_restricted", "moderator"}))
def test_fast_rows_equal_the_serializer_rows(world, richer, role, whole, monkeypatch):
    # whole: the latest contact aggregated over every visible record (exports of 10,000+
    # organisations; the compartment rule's whole-table form).
    monkeypatch.setattr(organisation_csv, "WHOLE_AGGREGATE_FROM", 0 if whole else 10**9)
    for params in QUERIES:
        client = api(world, role)
        fast = body(client.get(URL, {**params, "format": "csv"}))
        slow = serializer_csv(api(world, role), params, monkeypatch)
        monkeypatch.setattr(organisation_csv, "WHOLE_AGGREGATE_FROM", 0 if whole else 10**9)
        assert fast == slow, (role, params)
        assert fast.count("\r\n") >= 1


def test_fast_rows_across_chunks(world, richer, monkeypatch):
    monkeypatch.setattr(renderers, "CHUNK_SIZE", 2)
    monkeypatch.setattr(organisation_csv, "CHUNK_SIZE", 2)
    for role in ("staff", "editor", "admin", "public"):
        fast = body(api(world, role).get(URL, {"format": "csv"}))
        slow = serializer_csv(api(world, role), {}, monkeypatch)
        monkeypatch.setattr(renderers, "CHUNK_SIZE", 2)
        monkeypatch.setattr(organisation_csv, "CHUNK_SIZE", 2)
        assert fast == slow, role
        assert fast.count("\r\n") > 3  # more than one chunk of 2 rows


def test_last_contacted_is_the_latest_visible_interaction(world, richer):
    def latest(role):
        text = body(api(world, role).get(URL, {"format": "csv"}))
        return {row["id"]: row["last_contacted_on"] for row in csv.DictReader(io.StringIO(text))}

    # staff (team A) sees its own participants record (2025-02-01), not team B's (2025-04-01).
    assert latest("staff")[str(richer.pk)] == "2025-02-01"
    assert latest("other_team_staff")[str(richer.pk)] == "2025-04-01"
    assert latest("admin")[str(richer.pk)] == "2025-04-01"
