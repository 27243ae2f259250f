from django.core.management.base import BaseCommand

from ...i18n import compile_all


class Command(BaseCommand):
    help = "Compile the translation catalogues (.po to .mo) with Babel; GNU gettext is not needed."

    def handle(self, *args, **options):
        for mo in compile_all():
            if options["verbosity"]:
                self.stdout.write(f"Compiled {mo}")
