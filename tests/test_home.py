"""The staff home page (issue 6): follow-ups, recent interactions, organisations not
contacted for a year, server-drawn charts, a fixed number of queries."""

import re
from datetime import date, timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from directory.models import Interaction, Organisation
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def team():
    return factories.TeamFactory(name="EU Delegation KZ", countries=["KZ", "TJ"])


@pytest.fixture
def me(team):
    return factories.staff_user(team=team, username="me", first_name="Aida")


def client_for(user):
    client = Client()
    client.force_login(user)
    return client


def test_root_redirects_staff_home_and_others_to_the_directory(me):
    assert client_for(me).get("/")["Location"] == "/home/"
    assert Client().get("/")["Location"] == "/organisations/"
    editor = factories.editor_of(factories.OrganisationFactory())
    assert client_for(editor).get("/")["Location"] == "/organisations/"
    assert client_for(editor).get("/home/").status_code == 404
    assert Client().get("/home/")["Location"].startswith("/accounts/login/")


def test_follow_ups_overdue_first_with_mark_done_buttons(me, team):
    today = timezone.localdate()
    mate = factories.staff_user(team=team, username="mate")
    later = factories.interaction(me, subject="Due in a week", follow_up_due=today + timedelta(days=7))
    overdue_old = factories.interaction(me, subject="Overdue long ago", follow_up_due=today - timedelta(days=20))
    overdue = factories.interaction(me, subject="Overdue yesterday", follow_up_due=today - timedelta(days=1))
    factories.interaction(me, subject="Already done", follow_up_due=today - timedelta(days=3), follow_up_done=True)
    factories.interaction(mate, subject="Mate's own", follow_up_due=today - timedelta(days=3))
    html = client_for(me).get("/home/").content.decode()
    section = html.split('id="followups-h"')[1].split("</section>")[0]
    positions = [section.index(s) for s in ("Overdue long ago", "Overdue yesterday", "Due in a week")]
    assert positions == sorted(positions)
    assert "Already done" not in section and "Mate's own" not in section
    assert section.count("overdue</span>") == 2
    for record in (later, overdue_old, overdue):
        assert f'action="/interactions/{record.pk}/follow-up/"' in section
    assert section.count("csrfmiddlewaretoken") == 3


def test_mark_done_from_home(me):
    record = factories.interaction(me, subject="Close me", follow_up_due=timezone.localdate())
    client = Client(enforce_csrf_checks=True)
    client.force_login(me)
    client.get("/home/")
    response = client.post(f"/interactions/{record.pk}/follow-up/",
                           {"done": "true", "next": "/home/", "csrfmiddlewaretoken": client.cookies["csrftoken"].value})
    assert response.status_code == 302
    record.refresh_from_db()
    assert record.follow_up_done
    assert "Close me" not in client.get("/home/").content.decode().split('id="recent-h"')[0]


def test_recent_interactions_of_my_teams_and_stale_organisations(me, team):
    other_team_user = factories.staff_user(username="elsewhere")
    today = timezone.localdate()
    fresh = factories.OrganisationFactory(name="Contacted recently", country="KZ")
    stale = factories.OrganisationFactory(name="Contacted long ago", country="TJ")
    factories.OrganisationFactory(name="Never contacted", country="KZ")
    factories.OrganisationFactory(name="Kyrgyz organisation", country="KG")
    factories.OrganisationFactory(name="Restricted KZ", country="KZ", visibility="restricted")
    factories.interaction(me, organisations=[fresh], subject="Recent one", occurred_on=today - timedelta(days=10))
    factories.interaction(me, organisations=[stale], subject="Old one", occurred_on=today - timedelta(days=500))
    factories.interaction(other_team_user, subject="Other team's", sensitivity="staff", occurred_on=today)
    for i in range(11):
        factories.interaction(me, subject=f"Filler {i:02}", occurred_on=today - timedelta(days=30 + i))
    html = client_for(me).get("/home/").content.decode()
    recent = html.split('id="recent-h"')[1].split("</section>")[0]
    assert recent.count('class="card interaction"') == 10
    assert "Recent one" in recent and "Other team's" not in recent and "Old one" not in recent
    stale_section = html.split('id="stale-h"')[1].split("</section>")[0]
    assert "Never contacted" in stale_section and "Contacted long ago" in stale_section
    assert "Contacted recently" not in stale_section and "Kyrgyz organisation" not in stale_section
    assert "Restricted KZ" not in stale_section
    assert "2 active organisations in" in stale_section
    assert stale_section.index("Never contacted") < stale_section.index("Contacted long ago")



def stale_names(user):
    html = client_for(user).get("/home/").content.decode()
    return html.split('id="stale-h"')[1].split("</section>")[0]


def test_stale_organisations_follow_changes_and_compartments(me, team):
    """The maintained "last contact open to all staff" date narrows the candidates; the list
    stays exact when interactions move, are relinked or deleted, and per compartment."""
    from directory.services.interactions import interaction_delete, interaction_update

    today = timezone.localdate()
    org = factories.OrganisationFactory(name="Moving target", country="KZ")
    record = factories.interaction(me, organisations=[org], sensitivity="staff", occurred_on=today - timedelta(days=5))
    org.refresh_from_db()
    assert org.staff_contacted_on == today - timedelta(days=5)
    assert "Moving target" not in stale_names(me)
    org.name = "Moving target"  # an edit of the organisation does not write the date back
    org.save()
    interaction_update(actor=me, interaction=record, data={"occurred_on": today - timedelta(days=400)})
    assert "Moving target" in stale_names(me)
    interaction_update(actor=me, interaction=record, data={"occurred_on": today - timedelta(days=3)})
    assert "Moving target" not in stale_names(me)
    elsewhere = factories.OrganisationFactory(name="Elsewhere", country="KZ")
    interaction_update(actor=me, interaction=record, data={}, organisations=[elsewhere.pk])
    assert "Moving target" in stale_names(me) and "Elsewhere" not in stale_names(me)
    interaction_delete(actor=me, interaction=record)
    org.refresh_from_db()
    assert org.staff_contacted_on is None
    assert "Elsewhere" in stale_names(me)
    # A recent record of another team's compartment: still "not contacted" for me, whose
    # candidates come from the all-staff date, and contacted for its author.
    outsider_team_kz = factories.TeamFactory(name="Outsider KZ", countries=["KZ"])
    author = factories.staff_user(team=outsider_team_kz, username="author")
    factories.interaction(author, organisations=[org], sensitivity="team", occurred_on=today - timedelta(days=2))
    assert "Moving target" in stale_names(me)
    assert "Moving target" not in stale_names(author)


def chart_checks(html):
    svgs = re.findall(r"<svg [^>]*role=\"img\"[^>]*>.*?</svg>", html, flags=re.S)
    assert len(svgs) == 3
    for svg in svgs:
        assert "<title id=" in svg and "<desc id=" in svg
    assert html.count('<details class="chart-data">') == 3
    assert "<script" not in html.split('id="charts-h"')[1]
    assert "style=" not in html
    return svgs


def test_charts_with_no_data(me):
    Organisation.objects.all().delete()
    html = client_for(me).get("/home/").content.decode()
    svgs = chart_checks(html)
    assert "<rect" not in "".join(svgs)
    assert "No interactions in the last 12 months yet." in html
    assert html.count("No organisations to count yet.") == 2


def test_charts_with_data(me):
    today = timezone.localdate()
    this_month = today.replace(day=1)
    kz = factories.OrganisationFactory(name="KZ one", country="KZ", focus_areas=["water", "climate"])
    factories.OrganisationFactory(name="KZ two", country="KZ", focus_areas=["youth"])
    factories.OrganisationFactory(name="KG one", country="KG", focus_areas=["water"])
    for kind in ("meeting", "meeting", "call"):
        factories.interaction(me, organisations=[kz], kind=kind, occurred_on=this_month)
    factories.interaction(me, kind="visit", occurred_on=this_month - timedelta(days=40))
    factories.interaction(me, kind="email", occurred_on=today - timedelta(days=800))  # outside the window
    html = client_for(me).get("/home/").content.decode()
    svgs = chart_checks(html)
    monthly, by_country, by_focus = svgs
    assert monthly.count('class="kind-meeting"') == 1 and monthly.count('class="kind-call"') == 1
    assert 'class="kind-visit"' in monthly and 'class="kind-email"' not in monthly
    assert "4 interactions over the last 12 months" in monthly
    legend = html.split('class="legend"')[1].split("</ul>")[0]
    assert "Meeting" in legend and "Call" in legend and "Site visit" in legend and "Email" not in legend
    table = html.split('<details class="chart-data">')[1].split("</details>")[0]
    row = re.search(r"<th scope=\"row\">[^<]+</th>((?:<td>\d+</td>)+)</tr></tbody>", table).group(1)
    assert re.findall(r"\d+", row) == ["2", "1", "0", "0", "0", "0", "0", "3"]  # this month: 2 meetings, 1 call
    assert by_country.count("<rect") == 2 and "Kazakhstan: 2" in by_country
    focus_table = html.split('<details class="chart-data">')[3].split("</details>")[0]
    assert '<th scope="row">Environment</th><td>2</td>' in focus_table  # water + climate count once for KZ one
    assert '<th scope="row">Youth</th><td>1</td>' in focus_table
    assert by_focus.count("<rect") == 2



def test_cached_figures_count_contact_history_changes_at_once(me, django_capture_on_commit_callbacks):
    from directory.services.interactions import interaction_delete

    this_month = timezone.localdate().replace(day=1)
    kz = factories.OrganisationFactory(name="KZ one", country="KZ")

    def monthly():
        html = client_for(me).get("/home/").content.decode()
        return chart_checks(html)[0]

    with django_capture_on_commit_callbacks(execute=True):
        record = factories.interaction(me, organisations=[kz], kind="call", occurred_on=this_month)
    with CaptureQueriesContext(connection) as computed:
        assert "1 interaction over the last 12 months" in monthly()
    with CaptureQueriesContext(connection) as cached:
        assert "1 interaction over the last 12 months" in monthly()
    # The three figures' aggregates (monthly, by country, by focus area) come from the cache.
    assert len(cached.captured_queries) == len(computed.captured_queries) - 3
    with django_capture_on_commit_callbacks(execute=True):
        factories.interaction(me, organisations=[kz], kind="meeting", occurred_on=this_month)
    assert "2 interactions over the last 12 months" in monthly()
    with django_capture_on_commit_callbacks(execute=True):
        interaction_delete(actor=me, interaction=record)
    assert "1 interaction over the last 12 months" in monthly()


def test_home_query_count_is_fixed(me, team, django_capture_on_commit_callbacks):
    def build(n):
        with django_capture_on_commit_callbacks(execute=True):  # as committed: new figures
            _build(n)

    def _build(n):
        Interaction.objects.all().delete()
        Organisation.objects.all().delete()
        today = timezone.localdate()
        for i in range(n):
            org = factories.OrganisationFactory(name=f"Org {i}", country=("KZ", "TJ", "KG")[i % 3],
                                                focus_areas=["water", "youth"])
            factories.OrganisationFactory(name=f"Stale {i}", country="KZ", focus_areas=["health"])
            person = factories.AffiliationFactory(organisation=org).person
            factories.interaction(
                me, organisations=[org], people=[person], focus_areas=["water"], kind=("meeting", "call", "visit")[i % 3],
                sensitivity=("staff", "team", "participants")[i % 3], occurred_on=today - timedelta(days=11 * i),
                follow_up_due=today + timedelta(days=i - 10),
            )

    counts = []
    for n in (3, 30):
        build(n)
        client = client_for(type(me).objects.get(pk=me.pk))
        with CaptureQueriesContext(connection) as ctx:
            response = client.get("/home/")
        assert response.status_code == 200
        assert response.content.decode().count('<li class="follow-up') == n
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1], counts


def test_admin_without_team_gets_a_home_page(db):
    admin = factories.UserFactory(is_superuser=True, is_staff=True)
    factories.interaction(factories.staff_user(), subject="Team secret", occurred_on=date(2025, 1, 1))
    response = client_for(admin).get("/home/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Team secret" not in html and "Your teams cover no countries yet." in html


def test_cached_figures_follow_a_role_change_at_once(me, team, django_capture_on_commit_callbacks):
    # Counts cached under one access must not be served after a team change (no interaction
    # was written, so the contact-history version does not move).
    from directory.models import TeamMembership

    this_month = timezone.localdate().replace(day=1)
    other_team = factories.TeamFactory(name="EU Delegation KG", countries=["KG"])
    colleague = factories.staff_user(team=other_team, username="colleague")
    TeamMembership.objects.create(team=team, user=colleague)
    kz = factories.OrganisationFactory(name="KZ one", country="KZ")
    with django_capture_on_commit_callbacks(execute=True):
        factories.interaction(me, organisations=[kz], kind="call", occurred_on=this_month,
                              team=team, sensitivity="team")

    def monthly():
        return chart_checks(client_for(colleague).get("/home/").content.decode())[0]

    assert "1 interaction over the last 12 months" in monthly()
    TeamMembership.objects.filter(team=team, user=colleague).delete()
    after = monthly()
    assert "1 interaction over the last 12 months" not in after and "No data yet" in after


def test_refreshing_every_organisation_matches_the_per_organisation_rule(me, team):
    """After a bulk load (the benchmark seeder, which bypasses the services), one set-based
    refresh gives each organisation its latest all-staff interaction, clears stale dates and
    ignores compartmented records."""
    from directory.models import Organisation
    from directory.services.interactions import refresh_staff_contacted_on

    today = timezone.localdate()
    both = factories.OrganisationFactory(name="Two records", country="KZ")
    team_only = factories.OrganisationFactory(name="Team only", country="KZ")
    factories.OrganisationFactory(name="Never", country="KZ")
    factories.interaction(me, organisations=[both], sensitivity="staff", occurred_on=today - timedelta(days=30))
    factories.interaction(me, organisations=[both, team_only], sensitivity="staff", occurred_on=today - timedelta(days=9))
    factories.interaction(me, organisations=[both], sensitivity="team", occurred_on=today - timedelta(days=1))
    # Rows as a bulk load leaves them: wrong dates everywhere.
    Organisation.objects.update(staff_contacted_on=today - timedelta(days=999))
    Organisation.objects.filter(pk=team_only.pk).update(staff_contacted_on=None)
    refresh_staff_contacted_on()
    dates = dict(Organisation.objects.values_list("name", "staff_contacted_on"))
    assert dates == {"Two records": today - timedelta(days=9), "Team only": today - timedelta(days=9), "Never": None}
