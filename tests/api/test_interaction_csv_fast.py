"""The contact-history API CSV's row builder (api/interaction_csv.py) writes exactly what the
serializer path (`stream_csv`: one `InteractionSerializer.to_representation` per row) wrote,
byte for byte, for every staff role, with every filter, on timelines, across chunk
boundaries; metadata-only records never leak their content."""

import csv
import io
from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient
from rest_framework.throttling import SimpleRateThrottle

from api import interaction_csv
from directory.choices import InteractionSensitivity
from directory.models import AccessAction, AccessLog
from directory.services import exports
from tests import factories
from tests.access_world import world_fixture  # noqa: F401 (fixture)

pytestmark = pytest.mark.django_db
URL = "/api/v1/interactions/"
STAFF = ("author", "staff", "other_team_staff", "participant", "staff_restricted", "admin")
CONTENT = ("subject", "notes", "organisations", "people", "staff_participants", "focus_areas",
           "follow_up_due", "follow_up_assignee", "follow_up_done")


@pytest.fixture(autouse=True)
def no_export_throttle(monkeypatch):
    # Each test exports many times; throttling has its own tests (test_interactions.py).
    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", {
        "anon": "100000/minute", "user": "100000/minute", "token": "100000/minute", "export": "100000/minute"})


@pytest.fixture
def richer(world):
    """Cells of every kind: formula-like and multi-line text, links the viewer may not see
    (a restricted organisation and person), several participants, focus areas, follow-ups."""
    users, orgs, people = world.users, world.orgs, world.people
    zed = factories.staff_user(username="=zed", team=world.teams["a"])
    records = {
        "formula": factories.interaction(
            users["staff_restricted"],  # may link the restricted organisation and person
            subject="=SUM(A1)", notes="-notes, \"quoted\"\nsecond line", kind="call",
            sensitivity=InteractionSensitivity.TEAM, occurred_on=date(2025, 4, 1),
            organisations=[orgs["restricted_org"], orgs["public_org"], orgs["staff_org"]],
            people=[people["restricted_person"], people["person_public_org"]],
            staff_participants=[zed, users["participant"], users["staff"]], focus_areas=["youth", "water"],
            follow_up_due=date(2025, 5, 1), follow_up_assignee=zed,
        ),
        "other_team": factories.interaction(
            users["other_team_staff"], subject="mx-other-team-secret", notes="+hidden",
            sensitivity=InteractionSensitivity.TEAM, occurred_on=date(2025, 4, 2),
            organisations=[orgs["public_org"]], people=[people["person_public_org"]], focus_areas=["water"],
            follow_up_due=date(2025, 6, 1), follow_up_assignee=users["other_team_staff"],
        ),
        "participants": factories.interaction(
            users["other_team_staff"], subject="@participants-only", sensitivity=InteractionSensitivity.PARTICIPANTS,
            occurred_on=date(2025, 4, 2), organisations=[orgs["staff_org"]], staff_participants=[users["staff"]],
        ),
    }
    return records


def api(world, role) -> APIClient:
    client = APIClient()
    client.force_authenticate(world.users[role])
    return client


def body(response) -> str:
    assert response.status_code == 200, response
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    return b"".join(response.streaming_content).decode("utf-8")


def both(world, role, url, params, monkeypatch):
    """(fast path, serializer path) bodies of one request, with their responses' headers."""
    fast = api(world, role).get(url, {**params, "format": "csv"})
    with monkeypatch.context() as patch:
        patch.setattr(interaction_csv, "fast_columns", lambda columns: False)
        slow = api(world, role).get(url, {**params, "format": "csv"})
    assert fast.status_code == slow.status_code == 200, (url, fast.status_code, slow.status_code)
    for name in ("Content-Disposition", "Cache-Control", "Content-Type"):
        assert fast[name] == slow[name], name
    return body(fast), body(slow)


def queries(world, richer):
    orgs, people, team = world.orgs, world.people, world.teams["a"]
    return (
        {}, {"kind": "call"}, {"occurred_after": "2025-03-02"}, {"occurred_before": "2025-03-02"},
        {"q": "sum"}, {"organisation": str(orgs["public_org"].pk)}, {"person": str(people["person_public_org"].pk)},
        {"country": "KG"}, {"focus_area": "water"}, {"team": str(team.pk)}, {"follow_up_open": "true"},
        {"follow_up_open": "false"}, {"assigned_to": "me"}, {"sensitivity": "team"},
    )


@pytest.mark.parametrize("role", STAFF)
def test_fast_rows_equal_the_serializer_rows(world, richer, role, monkeypatch):
    for params in queries(world, richer):
        fast, slow = both(world, role, URL, params, monkeypatch)
        assert fast == slow, (role, params)
    timelines = (f"/api/v1/organisations/{world.orgs['public_org'].pk}/interactions/",
                 f"/api/v1/people/{world.people['person_public_org'].pk}/interactions/")
    for url in timelines:
        for params in ({}, {"kind": "meeting"}):
            fast, slow = both(world, role, url, params, monkeypatch)
            assert fast == slow, (role, url, params)


@pytest.mark.parametrize("joined", [True, False])
def test_fast_rows_across_chunks(world, richer, monkeypatch, joined):
    """Both ways of reading the links: one joined statement (PostgreSQL) and the per-chunk
    look-ups (other databases, and a query the join does not recognise)."""
    monkeypatch.setattr(exports, "INTERACTION_CHUNK", 2)
    if not joined:
        monkeypatch.setattr(exports, "_joined_sql", lambda *args: None)
    for role in ("admin", "author", "staff"):
        fast, slow = both(world, role, URL, {}, monkeypatch)
        assert fast == slow, role
        assert fast.count("\r\n") > 4  # the header and more than two chunks of 2 rows


def test_metadata_only_rows_keep_no_content(world, richer):
    """The admin sees the other team's record and the participants-only ones as metadata:
    no subject, notes, links or follow-up, not even the restricted organisation's id."""
    text = body(api(world, "admin").get(URL, {"format": "csv"}))
    rows = {row["id"]: row for row in csv.DictReader(io.StringIO(text))}
    for key in ("other_team", "participants", "formula"):
        row = rows[str(richer[key].pk)]
        assert all(row[name] == "" for name in CONTENT), key
        assert row["author"] and row["sensitivity"] and row["team"]
    for secret in ("mx-other-team-secret", "hidden", "participants-only", "SUM(A1)"):
        assert secret not in text


def test_readable_rows_show_only_visible_links(world, richer):
    """A staff member reads the team record but not the restricted organisation and person
    linked to it; formula-like cells are escaped; participants sorted by username."""
    text = body(api(world, "author").get(URL, {"format": "csv"}))
    row = next(r for r in csv.DictReader(io.StringIO(text)) if r["id"] == str(richer["formula"].pk))
    orgs, people = world.orgs, world.people
    assert row["organisations"] == f"{orgs['public_org'].pk};{orgs['staff_org'].pk}"
    assert row["people"] == str(people["person_public_org"].pk)
    assert row["subject"] == "'=SUM(A1)" and row["notes"] == "'-notes, \"quoted\"\nsecond line"
    assert row["staff_participants"] == "'=zed;mx.participant;mx.staff"
    assert row["focus_areas"] == "water;youth"
    assert (row["follow_up_due"], row["follow_up_assignee"], row["follow_up_done"]) == ("2025-05-01", "'=zed", "false")
    assert row["url"].endswith(f"{URL}{richer['formula'].pk}/")
    restricted = body(api(world, "staff_restricted").get(URL, {"format": "csv"}))
    row = next(r for r in csv.DictReader(io.StringIO(restricted)) if r["id"] == str(richer["formula"].pk))
    assert str(orgs["restricted_org"].pk) in row["organisations"]


def test_export_is_logged_once_with_the_filtered_count(world, richer):
    response = api(world, "author").get(URL, {"format": "csv", "kind": "call"})
    rows = list(csv.DictReader(io.StringIO(body(response))))
    log = AccessLog.objects.get(action=AccessAction.EXPORT_INTERACTIONS)
    assert log.rows == len(rows) == 1 and response["Cache-Control"] == "no-store"


def test_query_count_does_not_grow_with_rows_in_a_chunk(world, richer):
    def count():
        with CaptureQueriesContext(connection) as ctx:
            text = body(api(world, "admin").get(URL, {"format": "csv"}))
        return len(ctx.captured_queries), text.count("\r\n")

    small = count()
    for i in range(20):
        factories.interaction(world.users["author"], subject=f"More {i}", organisations=[world.orgs["public_org"]],
                              people=[world.people["person_public_org"]], staff_participants=[world.users["staff"]],
                              focus_areas=["water"])
    large = count()
    assert large[1] == small[1] + 20
    assert large[0] == small[0]
