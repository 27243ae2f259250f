"""Concurrency on PostgreSQL (issue 9 point 5): concurrent writes with the same If-Match, and
the same import file submitted twice at once. Real threads, real connections, committed data."""

import threading

import pytest
from django.core.cache import cache
from django.db import connection
from rest_framework.test import APIClient

from directory.models import Interaction, Organisation
from directory.services.imports import organisation_import
from tests import factories
from tests.import_data import make_rows, to_csv

pytestmark = [
    pytest.mark.postgresql,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

WRITERS = 20


def run_at_once(count, work):
    """`work(i)` in `count` threads released together; each thread closes its own connection."""
    barrier = threading.Barrier(count)
    results, errors = [None] * count, []

    def target(i):
        try:
            barrier.wait(timeout=30)
            results[i] = work(i)
        except Exception as exc:  # reported below with the thread's index
            errors.append((i, repr(exc)))
        finally:
            connection.close()

    threads = [threading.Thread(target=target, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    return results


def api_for(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_parallel_patches_with_the_same_if_match_exactly_one_wins():
    cache.clear()
    user = factories.staff_user()
    organisation = factories.OrganisationFactory(name="Original")
    url = f"/api/v1/organisations/{organisation.pk}/"
    etag = api_for(user).get(url)["ETag"]
    history_before = organisation.history.count()

    def patch(i):
        response = api_for(user).patch(
            url, {"name": f"Writer {i}"}, format="json", HTTP_IF_MATCH=etag
        )
        return response.status_code, response.json().get("name")

    results = run_at_once(WRITERS, patch)
    statuses = sorted(status for status, _name in results)
    assert statuses == [200] + [412] * (WRITERS - 1), statuses
    winner = next(name for status, name in results if status == 200)
    organisation.refresh_from_db()
    assert organisation.name == winner  # no lost update: the one 200 is what is stored
    assert organisation.history.count() == history_before + 1
    assert api_for(user).get(url)["ETag"] != etag


def test_parallel_interaction_patches_with_the_same_if_match_exactly_one_wins():
    cache.clear()
    author = factories.staff_user()
    record = factories.interaction(author, subject="Original", sensitivity="staff")
    url = f"/api/v1/interactions/{record.pk}/"
    etag = api_for(author).get(url)["ETag"]

    def patch(i):
        return (
            api_for(author)
            .patch(url, {"subject": f"Writer {i}"}, format="json", HTTP_IF_MATCH=etag)
            .status_code
        )

    statuses = sorted(run_at_once(WRITERS, patch))
    assert statuses == [200] + [412] * (WRITERS - 1), statuses
    assert Interaction.objects.get(pk=record.pk).subject.startswith("Writer ")


def test_the_same_file_imported_twice_at_once_creates_no_duplicates():
    rows = make_rows(300, seed=9)
    content = to_csv(rows)

    def run(_i):
        report = organisation_import(actor=None, content=content, filename="same.csv")
        assert report.errors == []
        return report.created, report.updated, report.unchanged

    results = run_at_once(2, run)
    assert sorted(results) == [(0, 0, 300), (300, 0, 0)], results
    assert Organisation.objects.count() == 300
    assert Organisation.history.count() == 300
