"""Blank the notes of interactions older than the retention period (SECURITY.md).

    python manage.py purge_interaction_notes            # INTERACTION_NOTES_RETENTION_DAYS
    python manage.py purge_interaction_notes --days 730 --dry-run
"""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from directory.services.retention import purge_interaction_notes


class Command(BaseCommand):
    help = "Blank the notes of interactions (and their history) older than the retention period."

    def add_arguments(self, parser):
        parser.add_argument(
            "--days", type=int, default=None,
            help="Purge notes of interactions that occurred more than this many days ago "
                 "(default: the INTERACTION_NOTES_RETENTION_DAYS setting).",
        )
        parser.add_argument("--dry-run", action="store_true", help="Only count what would be purged.")

    def handle(self, *args, days=None, dry_run=False, **options):
        if days is None:
            days = getattr(settings, "INTERACTION_NOTES_RETENTION_DAYS", 0)
            if not days:
                raise CommandError(
                    "Retention is off (INTERACTION_NOTES_RETENTION_DAYS is 0: notes are kept "
                    "forever). Set it, or pass --days N."
                )
        if days < 1:
            raise CommandError("--days must be at least 1.")
        result = purge_interaction_notes(days=days, dry_run=dry_run)
        verb = "Would purge" if result.dry_run else "Purged"
        self.stdout.write(
            f"{verb} the notes of {result.interactions} interaction(s) and {result.history_rows} "
            f"history row(s) from before {result.cutoff.isoformat()}."
        )
