from django.core.management.base import BaseCommand, CommandError

from ...i18n import catalogue_paths, compile_all, problems


class Command(BaseCommand):
    help = (
        "Compile the translation catalogues (.po to .mo) with Babel; GNU gettext is not needed. "
        "--check lists what is missing, untranslated or fuzzy instead."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--check",
            action="store_true",
            help="List marked messages missing from each catalogue and untranslated or fuzzy "
            "entries; fail if there are any. Compiles nothing.",
        )

    def handle(self, *args, **options):
        if options["check"]:
            failed = False
            for path in catalogue_paths():
                found = problems(path)
                failed = failed or bool(found)
                self.stdout.write(f"{path}: {len(found)} problem(s)")
                for line in found:
                    self.stdout.write(f"  {line}")
            if failed:
                raise CommandError("Catalogues are incomplete (see README, Languages).")
            return
        for mo in compile_all():
            if options["verbosity"]:
                self.stdout.write(f"Compiled {mo}")
