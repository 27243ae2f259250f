"""python manage.py export_organisations [--format csv|xlsx] [--output FILE] [filters]

Writes the import columns (an export re-imports unchanged). Filters are the list page's:
--country KZ --focus-area environment --type ngo --q "bir duino" (repeatable where the page
allows several values). Commands see every organisation (no access gate) and are logged."""

import sys

from django.core.management.base import BaseCommand, CommandError
from django.http import QueryDict

from directory.filtersets import OrganisationFilterSet
from directory.models import AccessAction, Organisation
from directory.services import audit
from directory.services.exports import iter_csv, write_xlsx

FILTERS = ("q", "country", "focus_area", "type", "city", "language", "verified", "identifier")
INTERNAL = ("status", "visibility")


class Command(BaseCommand):
    help = "Export organisations as CSV or XLSX with the import columns."

    def add_arguments(self, parser):
        parser.add_argument("--format", choices=["csv", "xlsx"], default="csv")
        parser.add_argument("--output", "-o", help="File to write (default: standard output; xlsx needs a file).")
        for name in FILTERS + INTERNAL:
            parser.add_argument(f"--{name.replace('_', '-')}", dest=name, action="append")

    def handle(self, *args, format="csv", output=None, **options):
        data = QueryDict(mutable=True)
        for name in FILTERS:
            for value in options.get(name) or []:
                data.appendlist(name, value)
        # A command runs with the operator's authority: every organisation, internal fields too.
        queryset = Organisation.objects.prefetch_related("focus_areas", "identifiers")
        for name in INTERNAL:
            if options.get(name):
                queryset = queryset.filter(**{f"{name}__in": options[name]})
        filterset = OrganisationFilterSet(data, queryset=queryset)
        if not filterset.is_valid():
            raise CommandError("; ".join(f"{k}: {' '.join(v)}" for k, v in filterset.form.errors.items()))
        qs = filterset.qs
        rows = qs.order_by().count()
        if format == "xlsx":
            if not output:
                raise CommandError("--format xlsx needs --output FILE.")
            with open(output, "wb") as handle:
                handle.write(write_xlsx(qs))
        else:
            handle = open(output, "w", encoding="utf-8", newline="") if output else sys.stdout
            try:
                for line in iter_csv(qs, bom=bool(output)):
                    handle.write(line)
            finally:
                if output:
                    handle.close()
        audit.log_access(action=AccessAction.EXPORT_ORGANISATIONS, object_type="organisation", rows=rows)
        self.stderr.write(f"Exported {rows} organisations.")

