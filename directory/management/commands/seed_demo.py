import os

from django.core.management.base import BaseCommand

from ...demo_data import seed_demo


class Command(BaseCommand):
    help = "Create or refresh the synthetic demo data and demo users (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument("--password", help="Password for every demo user (default: $DEMO_PASSWORD, else generated).")

    def handle(self, *args, **options):
        password = options.get("password") or os.environ.get("DEMO_PASSWORD") or None
        result = seed_demo(password=password)
        self.stdout.write(self.style.SUCCESS(
            f"Demo data ready: {result['organisations']} organisations, {result['people']} people, "
            f"teams: {', '.join(result['teams'])}; {result['invitations']} invitations to the forum."
        ))
        print_logins(self.stdout, self.style, result)
        return None


def print_logins(stdout, style, result):
    stdout.write("")
    stdout.write(style.MIGRATE_HEADING("Demo logins (all share one password):"))
    roles = {
        "admin": "administrator (superuser)",
        "staff.kz": "EU staff, EU Delegation to Kazakhstan (may see restricted records, moderate, import)",
        "staff.kg": "EU staff, EU Delegation to the Kyrgyz Republic",
        "organiser": "event organiser, EU Delegation to Kazakhstan (owns the forum's list)",
        "editor": "CSO editor of Kylym Shamy Human Rights Centre",
    }
    for username in result["users"]:
        stdout.write(f"  {username:<10} {roles[username]}")
    origin = "generated for this run; set DEMO_PASSWORD to choose one" if result["generated"] else "from DEMO_PASSWORD"
    stdout.write(f"  password:  {result['password']}   ({origin})")
    stdout.write("")
