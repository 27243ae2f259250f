import os

from django.core.management import call_command
from django.core.management.base import BaseCommand

from ...demo_data import seed_demo
from .seed_demo import print_logins


class Command(BaseCommand):
    help = "Migrate, seed the demo data, print the demo logins and serve the app (default 127.0.0.1:8000)."

    def add_arguments(self, parser):
        parser.add_argument("addrport", nargs="?", default="127.0.0.1:8000", help="Optional port or ipaddr:port.")
        parser.add_argument("--no-serve", action="store_true", help="Prepare the demo but do not start the server.")

    def handle(self, *args, **options):
        call_command("compile_translations", verbosity=0)
        call_command("migrate", interactive=False, verbosity=0)
        self.stdout.write("Seeding demo data…")
        result = seed_demo(password=os.environ.get("DEMO_PASSWORD") or None)
        self.stdout.write(self.style.SUCCESS(
            f"{result['organisations']} organisations, {result['people']} people."
        ))
        print_logins(self.stdout, self.style, result)
        if options["no_serve"]:
            return
        addrport = options["addrport"]
        host = addrport if ":" in addrport else f"127.0.0.1:{addrport}"
        self.stdout.write(f"Open http://{host}/organisations/  (API docs: http://{host}/api/v1/docs/)")
        # DEBUG stays off; --insecure serves the static files without a front server.
        call_command("runserver", addrport, insecure_serving=True, use_reloader=False)
