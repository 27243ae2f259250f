"""Retention of contact-history notes: `purge_interaction_notes` and its service."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from directory.models import Interaction
from directory.services.interactions import interaction_update
from directory.services.retention import purge_interaction_notes
from tests import factories


@pytest.fixture
def records(db):
    staff = factories.staff_user()
    today = timezone.localdate()
    old = factories.interaction(staff, occurred_on=today - timedelta(days=400), notes="old secret", subject="Old")
    interaction_update(actor=staff, interaction=old, data={"notes": "old secret, edited"})
    recent = factories.interaction(staff, occurred_on=today - timedelta(days=10), notes="recent notes", subject="Recent")
    gone = factories.interaction(staff, occurred_on=today - timedelta(days=500), notes="deleted secret")
    Interaction.objects.filter(pk=gone.pk).delete()
    return {"old": old, "recent": recent, "gone_pk": gone.pk, "staff": staff}


def history_notes(pk):
    return list(Interaction.history.model.objects.filter(id=pk).values_list("notes", flat=True))


def run(*args, **settings_days):
    out = StringIO()
    call_command("purge_interaction_notes", *args, stdout=out)
    return out.getvalue()


def test_purges_old_notes_and_their_history_only(records):
    old, recent = records["old"], records["recent"]
    assert any(history_notes(old.pk))
    output = run("--days", "365")
    old.refresh_from_db()
    recent.refresh_from_db()
    assert old.notes == "" and old.subject == "Old"  # the contact stays, its notes go
    assert set(history_notes(old.pk)) == {""}
    assert recent.notes == "recent notes" and set(history_notes(recent.pk)) == {"recent notes"}
    assert history_notes(records["gone_pk"]) and set(history_notes(records["gone_pk"])) == {""}
    assert "Purged the notes of 1 interaction(s)" in output


def test_dry_run_counts_and_changes_nothing(records):
    before = (list(Interaction.objects.values_list("notes", flat=True)),
              list(Interaction.history.model.objects.values_list("notes", flat=True)))
    output = run("--days", "365", "--dry-run")
    assert "Would purge the notes of 1 interaction(s)" in output
    assert "history row(s)" in output
    after = (list(Interaction.objects.values_list("notes", flat=True)),
             list(Interaction.history.model.objects.values_list("notes", flat=True)))
    assert after == before


def test_default_comes_from_the_setting(records, settings):
    settings.INTERACTION_NOTES_RETENTION_DAYS = 5
    output = run()
    assert "Purged the notes of 2 interaction(s)" in output  # old and recent (10 days)
    assert not Interaction.objects.exclude(notes="").exists()


def test_refuses_to_run_when_retention_is_off_without_days(records, settings):
    settings.INTERACTION_NOTES_RETENTION_DAYS = 0
    with pytest.raises(CommandError, match="Retention is off"):
        run()
    assert Interaction.objects.get(pk=records["old"].pk).notes == "old secret, edited"


@pytest.mark.parametrize("days", ["0", "-3"])
def test_refuses_non_positive_days(records, days):
    with pytest.raises(CommandError):
        run("--days", days)
    assert Interaction.objects.exclude(notes="").count() == 2


def test_running_twice_is_harmless(records):
    run("--days", "365")
    assert "of 0 interaction(s) and 0 history row(s)" in run("--days", "365")


@pytest.mark.parametrize("days", [0, -1, True, "30"])
def test_service_rejects_bad_days(db, days):
    with pytest.raises(ValueError):
        purge_interaction_notes(days=days)


def test_setting_defaults_to_keep_forever():
    from directory import settings as project_settings

    assert project_settings.INTERACTION_NOTES_RETENTION_DAYS == 0
