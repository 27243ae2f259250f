"""python manage.py import_organisations FILE [--dry-run] [--user USERNAME]

CSV (UTF-8) or .xlsx; all or nothing; prints the report; exits non-zero on any error."""

import sys
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from directory.services.imports import MAX_FILE_BYTES, organisation_import

STAGES = {"validate": "Validating", "match": "Matching", "duplicates": "Duplicates", "write": "Writing"}


class ProgressBar:
    """A one-line progress bar on stderr (plain lines when stderr is not a terminal)."""

    def __init__(self, stream, width=30):
        self.stream, self.width, self.last = stream, width, None
        self.tty = getattr(stream, "isatty", lambda: False)()

    def __call__(self, stage, done, total):
        total = max(total, 1)
        filled = int(self.width * done / total)
        line = f"{STAGES.get(stage, stage):<11} [{'#' * filled}{'.' * (self.width - filled)}] {done}/{total}"
        if self.tty:
            self.stream.write("\r" + line + ("\n" if done >= total else ""))
        elif done >= total and self.last != (stage, done):
            self.stream.write(line + "\n")
        self.last = (stage, done)
        self.stream.flush()


class Command(BaseCommand):
    help = "Import organisations from a CSV (UTF-8) or .xlsx file (see API.md, Import)."

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--dry-run", action="store_true", help="Validate and report; write nothing.")
        parser.add_argument("--user", help="Record the changes in history as this user.")

    def handle(self, *args, file, dry_run=False, user=None, **options):
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"No such file: {file}")
        if path.stat().st_size > MAX_FILE_BYTES:
            raise CommandError(f"The file is larger than {MAX_FILE_BYTES // (1024 * 1024)} MB; split it.")
        actor = None
        if user:
            actor = get_user_model().objects.filter(username=user).first()
            if actor is None:
                raise CommandError(f"No user {user!r}.")
        report = organisation_import(
            actor=actor, content=path.read_bytes(), filename=path.name, dry_run=dry_run,
            progress=ProgressBar(getattr(self.stderr, "_out", sys.stderr)),
        )
        out = self.stdout
        if report.errors:
            for error in report.errors:
                where = f"row {error['row']}" if error["row"] else "file"
                if error["column"]:
                    where += f", {error['column']}"
                self.stderr.write(f"{where}: {error['message']}")
            raise CommandError(
                f"{len(report.errors)} error(s) in {path.name}; nothing was written."
            )
        would = "would be " if dry_run else ""
        out.write(f"{report.rows} rows: {report.created} {would}created, {report.updated} {would}updated, "
                  f"{report.unchanged} unchanged.")
        for result in report.likely_duplicates:
            found = "; ".join(f"{d.name} ({d.country}, {d.reason_text.lower()}, {d.score:.2f}, {d.organisation_id})"
                              for d in result.duplicates)
            more = f" and {result.more_duplicates} more" if result.more_duplicates else ""
            out.write(f"row {result.row} {result.name}: likely duplicate of {found}{more}")
        if dry_run:
            out.write("Dry run: nothing was written.")
