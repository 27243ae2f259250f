"""Daily reminder of open follow-ups (cron): one email per assignee with follow-ups due
tomorrow or overdue. Emails carry the subject, the due date and a link; never the notes."""

from collections import defaultdict
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist
from django.core.mail import EmailMessage, get_connection
from django.core.management.base import BaseCommand
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from ...models import Interaction
from ...roles import get_roles


def _language_of(user) -> str:
    try:
        return user.preference.language or settings.LANGUAGE_CODE
    except ObjectDoesNotExist:
        return settings.LANGUAGE_CODE


def _compose(user, items, today, tomorrow, site) -> tuple[str, str]:
    lines = []
    for item in items:
        subject = item.subject if item.readable else _("(restricted record)")
        if item.follow_up_due < today:
            state = _("OVERDUE")
        elif item.follow_up_due == tomorrow:
            state = _("due tomorrow")
        else:
            state = _("due today")
        due = date_format(item.follow_up_due, "DATE_FORMAT")
        lines.append(f"- {subject}\n  {state}: {due}\n  {site}{item.get_absolute_url()}")
    count = len(lines)
    body = (
        _("Hello %(name)s,") % {"name": user.get_short_name() or user.get_username()}
        + "\n\n"
        + ngettext(
            "You have %(count)d open follow-up due by %(date)s:",
            "You have %(count)d open follow-ups due by %(date)s:",
            count,
        ) % {"count": count, "date": date_format(tomorrow, "DATE_FORMAT")}
        + "\n\n"
        + "\n\n".join(lines)
        + "\n\n"
        + _("Mark them done from your home page: %(url)s") % {"url": f"{site}/home/"}
        + "\n"
    )
    subject = ngettext(
        "[CA Civil Society Directory] %(count)d follow-up due",
        "[CA Civil Society Directory] %(count)d follow-ups due",
        count,
    ) % {"count": count}
    return subject, body


class Command(BaseCommand):
    help = "Email each user their open follow-ups that are due tomorrow or overdue."

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="Print what would be sent; send nothing.")

    def handle(self, *args, **options):
        today = timezone.localdate()
        tomorrow = today + timedelta(days=1)
        due = (
            Interaction.objects.filter(
                follow_up_done=False,
                follow_up_due__isnull=False,
                follow_up_due__lte=tomorrow,
                follow_up_assignee__isnull=False,
                follow_up_assignee__is_active=True,
            )
            .select_related("follow_up_assignee__preference")
            .order_by("follow_up_assignee_id", "follow_up_due", "id")
        )
        by_user = defaultdict(list)
        users = {}
        for interaction in due:
            users[interaction.follow_up_assignee_id] = interaction.follow_up_assignee
            by_user[interaction.follow_up_assignee_id].append(interaction.pk)

        site = settings.SITE_URL.rstrip("/")
        messages = []
        skipped = 0
        for user_id, ids in by_user.items():
            user = users[user_id]
            if not user.email or not get_roles(user).staff:
                skipped += 1
                continue
            # Subjects only where the assignee may read the record (compartments).
            items = (
                Interaction.objects.filter(pk__in=ids)
                .with_readable(user)
                .only("id", "subject", "kind", "occurred_on", "follow_up_due")
                .order_by("follow_up_due", "occurred_on", "id")
            )
            # In the language the user chose in the interface (the site default otherwise).
            with translation.override(_language_of(user)):
                subject, body = _compose(user, items, today, tomorrow, site)
            messages.append(EmailMessage(subject, body, settings.DEFAULT_FROM_EMAIL, [user.email]))

        if options["dry_run"]:
            for message in messages:
                self.stdout.write(f"To: {', '.join(message.to)}\nSubject: {message.subject}\n\n{message.body}\n")
            self.stdout.write(f"Dry run: {len(messages)} email(s) would be sent.")
            return
        sent = get_connection().send_messages(messages) if messages else 0
        note = f" ({skipped} assignee(s) without an email address or staff role skipped)" if skipped else ""
        self.stdout.write(self.style.SUCCESS(f"Sent {sent or 0} reminder email(s){note}."))
