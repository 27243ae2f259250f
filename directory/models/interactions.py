import uuid

from django.conf import settings
from django.core.validators import MaxLengthValidator
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from ..choices import InteractionKind, InteractionSensitivity
from ..querysets import InteractionQuerySet

NOTES_MAX_LENGTH = 20000


class Interaction(models.Model):
    """One contact with organisations and people: a meeting, call, email, visit...

    `sensitivity` is a compartment: all EU staff, the owning team, or only the author and
    the named staff participants (see querysets.InteractionQuerySet).
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    occurred_on = models.DateField(_("date"))
    kind = models.CharField(_("kind"), max_length=20, choices=InteractionKind.choices)
    subject = models.CharField(_("subject"), max_length=200)
    notes = models.TextField(
        _("notes"), blank=True, max_length=NOTES_MAX_LENGTH, validators=[MaxLengthValidator(NOTES_MAX_LENGTH)]
    )
    organisations = models.ManyToManyField(
        "directory.Organisation", related_name="interactions", blank=True, verbose_name=_("organisations")
    )
    people = models.ManyToManyField(
        "directory.Person", related_name="interactions", blank=True, verbose_name=_("people")
    )
    staff_participants = models.ManyToManyField(
        settings.AUTH_USER_MODEL, related_name="interactions_joined", blank=True,
        verbose_name=_("staff participants"),
    )
    focus_areas = models.ManyToManyField(
        "directory.FocusArea", related_name="interactions", blank=True, verbose_name=_("focus areas")
    )
    # team, author, follow_up_assignee: no index of their own, Meta.indexes has one leading
    # with each (one index less to maintain per row written).
    team = models.ForeignKey(
        "directory.Team", on_delete=models.PROTECT, related_name="interactions", verbose_name=_("team"),
        db_index=False,
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="interactions_authored",
        verbose_name=_("author"), db_index=False,
    )
    sensitivity = models.CharField(
        _("who may read it"), max_length=14, choices=InteractionSensitivity.choices,
        default=InteractionSensitivity.TEAM,
    )
    follow_up_due = models.DateField(_("follow-up due"), null=True, blank=True)
    follow_up_assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="follow_ups", verbose_name=_("follow-up by"), db_index=False,
    )
    follow_up_done = models.BooleanField(_("follow-up done"), default=False)
    # Set when attendance at an event wrote this record (one per event and organisation).
    event = models.ForeignKey(
        "directory.Event", null=True, blank=True, on_delete=models.SET_NULL, related_name="interactions",
        verbose_name=_("event"),
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    history = HistoricalRecords(m2m_fields=[organisations, people, staff_participants, focus_areas])
    objects = InteractionQuerySet.as_manager()

    class Meta:
        ordering = ["-occurred_on", "-created_at", "id"]
        indexes = [
            # Covering the compartment rule and the kind: timeline page ids, capped counts and
            # the staff home's monthly chart come from index-only scans.
            models.Index(fields=["-occurred_on", "-created_at", "id"],
                         include=["kind", "sensitivity", "team", "author"], name="interaction_date_vis_idx"),
            models.Index(fields=["team", "-occurred_on"], name="interaction_team_idx"),
            models.Index(fields=["follow_up_assignee", "follow_up_done", "follow_up_due"], name="interaction_followup_idx"),
            models.Index(fields=["author", "-occurred_on"], name="interaction_author_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind__in=InteractionKind.values), name="interaction_kind_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(sensitivity__in=InteractionSensitivity.values),
                name="interaction_sensitivity_valid",
            ),
        ]
        verbose_name = _("interaction")
        verbose_name_plural = _("interactions")

    def __str__(self):
        return f"{self.occurred_on:%Y-%m-%d} {self.get_kind_display()}: {self.subject}"

    def get_absolute_url(self):
        return reverse("directory:interaction_detail", kwargs={"pk": self.pk})

    @property
    def follow_up_open(self) -> bool:
        return self.follow_up_due is not None and not self.follow_up_done

    @property
    def follow_up_overdue(self) -> bool:
        return self.follow_up_open and self.follow_up_due < timezone.localdate()
