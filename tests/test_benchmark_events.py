"""`manage.py benchmark_events` on a tiny benchmark data set (the test database)."""

import io
import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from directory.benchmarking import seed as seeding
from directory.models import Interaction, Invitation

pytestmark = pytest.mark.django_db


def test_refuses_without_benchmark_data():
    with pytest.raises(CommandError):
        call_command("benchmark_events", stdout=io.StringIO())


def test_reports_seconds_and_queries_and_cleans_up():
    seeding.seed(200, 0, stream=None)
    out = io.StringIO()
    call_command("benchmark_events", "--filters", "type=ngo", "--rounds", "2", stdout=out)
    report = json.loads(out.getvalue())
    assert report["organisations_matching"] > 0 and report["added"] == report["previewed"] > 0
    assert report["preview_queries"] > 0 and report["add_queries"] > report["preview_queries"]
    assert report["preview_seconds_median"] > 0 and report["add_seconds"] > 0
    assert report["bulk_invited_queries"] > 0 and report["bulk_attended_seconds"] > 0
    assert not Invitation.objects.exists() and not Interaction.objects.filter(kind="event").exists()
