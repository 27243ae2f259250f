"""`python manage.py benchmark_events [--filters QUERYSTRING] [--per-organisation N] [--rounds N]`

Times building an invitation list from a directory filter (issue 7, "Performance") on the
configured database, which must hold the benchmark data set (`manage.py benchmark --keep`, then
point DATABASE_URL at the kept `<name>_bench` database). Reports seconds and query counts for
the preview (dry run), the atomic add, and bulk status changes of the whole list (invited, then
attended); what it adds (invitations, attendance interactions) is removed afterwards.
"""

import json
import statistics
import time
from datetime import date

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.http import QueryDict
from django.test.utils import CaptureQueriesContext

from directory.benchmarking import seed as seeding
from directory.models import Event, Interaction, Invitation, Organisation, Team, TeamMembership
from directory.services import events as services

DEFAULT_FILTERS = "country=KZ&country=TJ&country=UZ&type=media&focus_area=environment"


class Command(BaseCommand):
    help = (
        "Time building a ~300-person invitation list from a directory filter (benchmark data set)."
    )
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument(
            "--filters", default=DEFAULT_FILTERS, help="Directory filters as a query string."
        )
        parser.add_argument("--per-organisation", type=int, default=1)
        parser.add_argument(
            "--rounds", type=int, default=5, help="Preview timings (median reported)."
        )
        parser.add_argument("--keep", action="store_true", help="Keep the invitations added.")

    def handle(self, *args, filters, per_organisation, rounds, keep, **options):
        if not seeding.is_seeded():
            raise CommandError(
                "No benchmark data here: run `manage.py benchmark --keep` and point "
                "DATABASE_URL at the kept database."
            )
        organiser, event = self._fixture()
        Invitation.objects.filter(event=event).delete()
        query = QueryDict(filters)
        matching = services.filtered_organisations(actor=organiser, filters=query).count()

        def preview():
            return services.add_from_directory(
                actor=organiser,
                event=event,
                filters=query,
                per_organisation=per_organisation,
                dry_run=True,
            )

        preview()  # warm the role and permission caches, like any later request of a session
        timings = []
        for _round in range(rounds):
            with CaptureQueriesContext(connection) as ctx:
                started = time.perf_counter()
                result = preview()
                timings.append(time.perf_counter() - started)
        preview_queries = len(ctx)
        with CaptureQueriesContext(connection) as ctx:
            started = time.perf_counter()
            added = services.add_from_directory(
                actor=organiser, event=event, filters=query, per_organisation=per_organisation
            )
            add_seconds = time.perf_counter() - started
        report = {
            "database": connection.vendor,
            "organisations_in_directory": Organisation.objects.count(),
            "filters": filters,
            "organisations_matching": matching,
            "added": len(added.added),
            "skipped": len(added.skipped),
            "preview_seconds_median": round(statistics.median(timings), 3),
            "preview_queries": preview_queries,
            "add_seconds": round(add_seconds, 3),
            "add_queries": len(ctx),
            "previewed": len(result.added),
        }
        # Then the whole list at once: invited, then attended (contact history written).
        ids = [inv.pk for inv in added.added]
        for status in ("invited", "attended"):
            with CaptureQueriesContext(connection) as ctx:
                started = time.perf_counter()
                services.invitations_bulk_status(actor=organiser, event=event, ids=ids, status=status)
                report[f"bulk_{status}_seconds"] = round(time.perf_counter() - started, 3)
            report[f"bulk_{status}_queries"] = len(ctx)
        if not keep:
            Interaction.objects.filter(event=event).delete()
            Invitation.objects.filter(event=event).delete()
        self.stdout.write(json.dumps(report, indent=2))

    @staticmethod
    def _fixture():
        User = get_user_model()
        team, _ = Team.objects.get_or_create(
            name="Bench events team", defaults={"countries": ["KZ"]}
        )
        organiser, _ = User.objects.get_or_create(username="bench-organiser")
        TeamMembership.objects.get_or_create(team=team, user=organiser)
        organiser.user_permissions.add(Permission.objects.get(codename="manage_events"))
        organiser = User.objects.get(pk=organiser.pk)  # fresh permission cache
        event, _ = Event.objects.get_or_create(
            name="Benchmark forum",
            team=team,
            defaults={
                "starts_on": date(2026, 10, 6),
                "ends_on": date(2026, 10, 7),
                "country": "KZ",
                "city": "Almaty",
            },
        )
        return organiser, event
