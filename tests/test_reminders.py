"""`send_follow_up_reminders` (daily cron): one email per assignee with follow-ups due
tomorrow or overdue; nothing for done or later ones; never the notes."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core import mail
from django.core.management import call_command
from django.utils import timezone

from tests import factories

pytestmark = pytest.mark.django_db

NOTES = "Confidential note about the shelter address"


def run(*args):
    out = StringIO()
    call_command("send_follow_up_reminders", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def setup(settings):
    settings.SITE_URL = "https://directory.example.eu"
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    today = timezone.localdate()
    team = factories.TeamFactory()
    ann = factories.staff_user(team=team, username="ann", email="ann@example.eu")
    bob = factories.staff_user(team=team, username="bob", email="bob@example.eu")
    carl = factories.staff_user(team=team, username="carl", email="carl@example.eu")
    records = {
        "ann_tomorrow": factories.interaction(ann, subject="Ann tomorrow", notes=NOTES, follow_up_due=today + timedelta(days=1)),
        "ann_overdue": factories.interaction(ann, subject="Ann overdue", notes=NOTES, follow_up_due=today - timedelta(days=4)),
        "ann_later": factories.interaction(ann, subject="Ann later", notes=NOTES, follow_up_due=today + timedelta(days=5)),
        # Authored by Ann, assigned to Bob: Bob gets it, not Ann.
        "bob_overdue": factories.interaction(ann, subject="Bob overdue", notes=NOTES, follow_up_due=today - timedelta(days=1),
                                             follow_up_assignee=bob),
        "carl_done": factories.interaction(carl, subject="Carl done", notes=NOTES, follow_up_due=today - timedelta(days=2),
                                           follow_up_done=True),
        # Named participants only and Bob is not named: he gets the reminder without the subject.
        "bob_private": factories.interaction(ann, subject="Private subject", notes=NOTES, sensitivity="participants",
                                             follow_up_due=today, follow_up_assignee=bob),
    }
    return {"ann": ann, "bob": bob, "carl": carl, "records": records}


def test_one_email_per_assignee_without_notes(setup):
    output = run()
    assert "Sent 2 reminder email(s)" in output
    assert len(mail.outbox) == 2
    by_to = {m.to[0]: m for m in mail.outbox}
    assert set(by_to) == {"ann@example.eu", "bob@example.eu"}
    ann_body = by_to["ann@example.eu"].body
    assert "Ann tomorrow" in ann_body and "Ann overdue" in ann_body and "Ann later" not in ann_body
    assert "Bob overdue" not in ann_body
    assert ann_body.index("Ann overdue") < ann_body.index("Ann tomorrow")
    assert f"https://directory.example.eu/interactions/{setup['records']['ann_overdue'].pk}/" in ann_body
    bob_body = by_to["bob@example.eu"].body
    assert "Bob overdue" in bob_body and "Private subject" not in bob_body and "(restricted record)" in bob_body
    for message in mail.outbox:
        assert NOTES not in message.body and NOTES not in message.subject
        assert "Carl done" not in message.body


def test_dry_run_sends_nothing(setup):
    output = run("--dry-run")
    assert mail.outbox == []
    assert "Dry run: 2 email(s) would be sent." in output
    assert "ann@example.eu" in output and NOTES not in output


def test_nothing_due_sends_nothing(setup):
    for record in setup["records"].values():
        record.follow_up_done = True
        record.save()
    assert "Sent 0 reminder email(s)" in run()
    assert mail.outbox == []
