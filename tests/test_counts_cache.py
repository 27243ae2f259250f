"""The cached facet counts of the unfiltered organisation list (directory/counts_cache.py).

Counts must be exact after every kind of write (a stale count is a bug) and never cross from
one access class to another. These tests commit for real (a transactional database): the
version is kept by database triggers, and on PostgreSQL it changes at commit.
"""

import pytest
from django.core.cache import cache
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from directory import counts_cache
from directory.models import FocusArea, Organisation
from directory.services.imports import organisation_import
from directory.services.merge import organisation_merge
from directory.services.organisations import (
    organisation_create,
    organisation_delete,
    organisation_update,
)
from tests import factories

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

URL = "/api/v1/organisations/"


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()
    yield
    cache.clear()


def client_for(user=None):
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


def facets(user=None, **params):
    response = client_for(user).get(URL, {"facets": 1, **params})
    assert response.status_code == 200, response.content
    return response.json()["facets"]


def live(user, dimensions=("country", "focus_area", "type")):
    """The same counts computed without the cache."""
    from directory import selectors

    return selectors.organisation_facets(selectors.organisation_list(user), dimensions)


def changed(write):
    before = counts_cache.version()
    write()
    after = counts_cache.version()
    assert before is not None and after is not None
    return before != after


# --- the version changes with every writer -----------------------------------------------------


def test_every_kind_of_write_changes_the_version():
    staff = factories.staff_user()
    org = factories.OrganisationFactory(name="First", focus_areas=["water"])
    other = factories.OrganisationFactory(name="Second", country="KG")
    area = FocusArea.objects.get(slug="youth")

    assert changed(lambda: organisation_create(actor=staff, data={"name": "New", "country": "TJ",
                                                                  "city": "Dushanbe", "type": "ngo"}))
    assert changed(lambda: organisation_update(actor=staff, organisation=org, data={"country": "UZ"}))
    assert changed(lambda: organisation_update(actor=staff, organisation=org, data={},
                                               focus_areas=["water", "youth"]))
    assert changed(lambda: org.focus_areas.remove(area))
    assert changed(lambda: Organisation.objects.filter(pk=other.pk).update(visibility="staff"))
    assert changed(lambda: Organisation.objects.bulk_create([Organisation(name="Bulk", country="KZ",
                                                                          city="Almaty")]))
    assert changed(lambda: FocusArea.objects.filter(slug="youth").update(name="Youth!"))

    def raw():
        with connection.cursor() as cursor:
            cursor.execute("UPDATE directory_organisation SET type = 'media' WHERE name = 'Bulk'")

    assert changed(raw)
    assert changed(lambda: organisation_delete(actor=staff, organisation=Organisation.objects.get(name="Bulk")))
    assert changed(lambda: Organisation.objects.filter(name="New").delete())


def test_merge_and_import_change_the_version():
    staff = factories.staff_user()
    keep = factories.OrganisationFactory(name="Keep", focus_areas=["water"])
    lose = factories.OrganisationFactory(name="Lose", focus_areas=["youth"], country="KG")
    assert changed(lambda: organisation_merge(actor=staff, keep=keep, lose=lose))
    content = b"name,country,city,type\nImported Org,KG,Bishkek,ngo\n"
    assert changed(lambda: organisation_import(actor=None, content=content, filename="i.csv"))


def test_a_rolled_back_write_and_a_read_leave_the_version_alone():
    factories.OrganisationFactory(name="Only")

    def rolled_back():
        with pytest.raises(RuntimeError), transaction.atomic():
            Organisation.objects.update(country="UZ")
            raise RuntimeError

    assert not changed(rolled_back)
    assert not changed(lambda: list(Organisation.objects.all()))


def test_a_write_after_an_empty_or_rolled_back_one_changes_the_version():
    """The bump is queued once per transaction: a statement that wrote nothing, or a write in
    a rolled-back savepoint, must not use up that one bump."""
    org = factories.OrganisationFactory(name="Only")

    def empty_then_real():
        with transaction.atomic():
            Organisation.objects.filter(pk__in=[]).update(country="UZ")
            Organisation.objects.filter(name="Nobody").update(country="UZ")
            Organisation.objects.filter(pk=org.pk).update(country="TJ")

    def rolled_back_savepoint_then_real():
        with transaction.atomic():
            with pytest.raises(RuntimeError), transaction.atomic():
                Organisation.objects.filter(pk=org.pk).update(country="KG")
                raise RuntimeError
            FocusArea.objects.filter(slug="water").update(name="Water!")

    assert changed(empty_then_real)
    assert changed(rolled_back_savepoint_then_real)


# --- the cached counts stay exact ------------------------------------------------------------


def test_cached_counts_follow_every_write():
    staff = factories.staff_user()
    org = factories.OrganisationFactory(name="A", country="KZ", focus_areas=["water"])
    factories.OrganisationFactory(name="B", country="KG", type="media")
    assert facets() == live(None)
    assert facets() == live(None)  # served from the cache now

    created = organisation_create(actor=staff, data={"name": "C", "country": "TJ", "city": "Dushanbe",
                                                     "type": "ngo", "visibility": "public"},
                                  focus_areas=["youth"])
    assert facets()["country"] == {"KG": 1, "KZ": 1, "TJ": 1}
    organisation_update(actor=staff, organisation=org, data={"country": "UZ"}, focus_areas=["youth"])
    body = facets()
    assert body["country"] == {"KG": 1, "TJ": 1, "UZ": 1}
    assert "water" not in body["focus_area"] and body["focus_area"]["youth"] == 2
    Organisation.objects.filter(pk=created.pk).update(visibility="staff")  # no signal, no save()
    assert facets()["country"] == {"KG": 1, "UZ": 1}
    organisation_merge(actor=staff, keep=org, lose=Organisation.objects.get(name="B"))
    assert facets()["country"] == {"UZ": 1}
    organisation_import(actor=None, content=b"name,country,city,type,visibility\nImported,KG,Bishkek,ngo,public\n",
                        filename="i.csv")
    assert facets()["country"] == {"KG": 1, "UZ": 1}
    organisation_delete(actor=staff, organisation=org)
    assert facets() == live(None)
    assert facets()["country"] == {"KG": 1}


def test_the_cache_is_used_for_the_unfiltered_list_only():
    factories.OrganisationFactory(name="A", country="KZ", focus_areas=["water"])
    factories.OrganisationFactory(name="B", country="KG")
    client = client_for()
    client.get(URL, {"facets": 1})
    with CaptureQueriesContext(connection) as cached:
        first = client.get(URL, {"facets": 1}).json()
    with CaptureQueriesContext(connection) as filtered:
        second = client.get(URL, {"facets": 1, "country": "KZ"}).json()
    assert len(cached.captured_queries) < len(filtered.captured_queries)
    assert first["facets"]["country"] == {"KG": 1, "KZ": 1}
    assert second["facets"]["country"] == {"KZ": 1}


def one_of_each_access():
    """An organisation of each visibility and status, one per country, and a user of each
    access class: {name: user}."""
    factories.OrganisationFactory(name="Public", country="KZ")
    factories.OrganisationFactory(name="Staff only", country="KG", visibility="staff")
    factories.OrganisationFactory(name="Inactive", country="UZ", status="inactive")
    factories.OrganisationFactory(name="Restricted", country="TM", visibility="restricted")
    own = factories.OrganisationFactory(name="Editor's own", country="TJ", visibility="staff")
    restricted = factories.staff_user()
    factories.grant(restricted, "view_restricted")
    return {"staff": factories.staff_user(), "restricted": restricted, "organiser": factories.organiser(),
            "editor": factories.editor_of(own), "admin": factories.UserFactory(is_superuser=True)}


def test_counts_never_cross_access_classes():
    users = one_of_each_access()
    staff, restricted, organiser = users["staff"], users["restricted"], users["organiser"]
    editor, admin = users["editor"], users["admin"]

    expected = {
        None: {"KZ": 1},
        staff: {"KG": 1, "KZ": 1, "TJ": 1, "UZ": 1},
        organiser: {"KG": 1, "KZ": 1, "TJ": 1, "UZ": 1},
        restricted: {"KG": 1, "KZ": 1, "TJ": 1, "TM": 1, "UZ": 1},
        admin: {"KG": 1, "KZ": 1, "TJ": 1, "TM": 1, "UZ": 1},
        editor: {"KZ": 1, "TJ": 1},
    }
    # Each order twice: whoever fills the cache first, nobody reads another class's counts.
    for users in (list(expected), list(reversed(expected)), list(expected)):
        for user in users:
            assert facets(user)["country"] == expected[user], user
    assert counts_cache.access_class(editor) is None


def test_the_html_list_counts_follow_writes_and_roles():
    factories.OrganisationFactory(name="Public", country="KZ", languages=["kk"])
    factories.OrganisationFactory(name="Staff only", country="KG", visibility="staff", languages=["ky"])
    staff = factories.staff_user()
    anonymous, signed_in = Client(), Client()
    signed_in.force_login(staff)

    def counts(client, name="country", query=""):
        options = client.get(f"/organisations/{query}").context["options"][name]
        return {option["value"]: option["count"] for option in options}

    for _ in range(2):
        assert counts(anonymous) == {"KZ": 1}
        assert counts(anonymous, "language") == {"kk": 1}
        assert counts(signed_in) == {"KG": 1, "KZ": 1}
        assert counts(signed_in, "language") == {"kk": 1, "ky": 1}
        # One country selected: the country options still count every visible organisation.
        assert counts(anonymous, query="?country=KZ") == {"KZ": 1}
        assert counts(signed_in, query="?country=KZ") == {"KG": 1, "KZ": 1}
        assert counts(signed_in, "language", query="?country=KZ") == {"kk": 1}
    Organisation.objects.filter(name="Staff only").update(visibility="public")
    assert counts(anonymous) == {"KG": 1, "KZ": 1}
    assert counts(anonymous, query="?country=KZ") == {"KG": 1, "KZ": 1}


def test_no_cache_inside_a_transaction():
    """Inside a transaction the counts may include its own uncommitted writes: they are
    computed, never cached (nor read from the cache)."""
    factories.OrganisationFactory(name="A", country="KZ")
    assert facets()["country"] == {"KZ": 1}
    with pytest.raises(RuntimeError), transaction.atomic():
        factories.OrganisationFactory(name="Uncommitted", country="KG")
        from django.contrib.auth.models import AnonymousUser

        from directory import selectors

        user = AnonymousUser()
        inside = selectors.organisation_facets(selectors.organisation_list(user), user=user)
        assert inside["country"] == {"KG": 1, "KZ": 1}
        raise RuntimeError
    assert facets()["country"] == {"KZ": 1}


# --- the unfiltered list's total (`count`) ---------------------------------------------------


def total(user=None, **params):
    response = client_for(user).get(URL, params)
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["count"] >= len(body["results"])
    return body["count"]


def test_the_total_is_cached_exact_and_per_access_class():
    users = one_of_each_access()
    staff, restricted, editor, admin = users["staff"], users["restricted"], users["editor"], users["admin"]
    expected = {None: 1, staff: 4, users["organiser"]: 4, restricted: 5, admin: 5, editor: 2}
    # Each order twice: whoever fills the cache first, nobody reads another class's total.
    for users in (list(expected), list(reversed(expected)), list(expected)):
        for user in users:
            assert total(user) == expected[user], user

    # Every kind of write is seen at once (no signal for QuerySet.update(), nor raw SQL).
    Organisation.objects.filter(name="Staff only").update(visibility="public")
    assert total() == 2 and total(staff) == 4
    with connection.cursor() as cursor:
        cursor.execute("UPDATE directory_organisation SET status = 'active' WHERE name = 'Inactive'")
    assert total() == 3 and total(staff) == 4
    organisation_delete(actor=admin, organisation=Organisation.objects.get(name="Public"))
    assert total() == 2 and total(staff) == 3 and total(admin) == 4
    factories.OrganisationFactory(name="New public")
    assert total() == 3 and total(editor) == 4
    # Filtered lists count live.
    assert total(country="KG") == 1


def test_the_cached_total_skips_the_count_query():
    factories.OrganisationFactory(name="A")
    client = client_for()
    client.get(URL)
    with CaptureQueriesContext(connection) as cached:
        assert client.get(URL).json()["count"] == 1
    with CaptureQueriesContext(connection) as filtered:
        assert client.get(URL, {"country": "KZ"}).json()["count"] == 1
    assert not any("COUNT(" in q["sql"].upper() for q in cached.captured_queries)
    assert any("COUNT(" in q["sql"].upper() for q in filtered.captured_queries)


def test_a_page_beyond_the_cached_total_is_a_404():
    for i in range(3):
        factories.OrganisationFactory(name=f"Org {i}")
    client = client_for()
    assert client.get(URL, {"page_size": 2, "page": 2}).json()["count"] == 3
    assert client.get(URL, {"page_size": 2, "page": 3}).status_code == 404
    Organisation.objects.filter(name="Org 2").delete()
    assert client.get(URL, {"page_size": 2, "page": 2}).status_code == 404
