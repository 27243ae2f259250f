"""Retention of contact-history notes (SECURITY.md, personal data): notes of interactions that
happened more than N days ago are blanked, in the records and in their history rows. The rest
of the record (date, kind, subject, links, team, author) stays: the contact happened."""

from dataclasses import dataclass
from datetime import date, timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from ..models import Interaction


@dataclass(frozen=True)
class PurgeResult:
    cutoff: date
    interactions: int
    history_rows: int
    dry_run: bool


def purge_interaction_notes(*, days: int, dry_run: bool = False, today: date | None = None) -> PurgeResult:
    """Blank `notes` of interactions that occurred before today - `days` and of their history
    rows (and of history rows of deleted interactions from before the cut-off)."""
    if isinstance(days, bool) or not isinstance(days, int) or days < 1:
        raise ValueError("days must be a whole number of at least 1.")
    cutoff = (today or timezone.localdate()) - timedelta(days=days)
    old = Interaction.objects.filter(occurred_on__lt=cutoff)
    records = old.exclude(notes="")
    history = Interaction.history.model.objects.filter(
        Q(id__in=old.values("pk")) | Q(occurred_on__lt=cutoff)
    ).exclude(notes="")
    with transaction.atomic():
        if dry_run:
            return PurgeResult(cutoff, records.count(), history.count(), True)
        # update(): no new history row that would itself be a copy of the record.
        purged = records.update(notes="")
        purged_history = history.update(notes="")
    return PurgeResult(cutoff, purged, purged_history, False)
