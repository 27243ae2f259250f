import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator, MinValueValidator
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from django_countries.fields import CountryField
from simple_history.models import HistoricalRecords

from ..choices import InvitationStatus
from ..querysets import EventQuerySet, InvitationQuerySet

TARGET_DIMENSIONS = ("status", "country", "focus_area", "type", "gender", "organisation")


def validate_targets(value):
    """Targets: [{"dimension", "value" ("*" = each value), "op" (at_least/at_most),
    "unit" (percent/count), "target"}]."""
    if not isinstance(value, list):
        raise ValidationError(_("Targets must be a list."))
    for index, item in enumerate(value, start=1):
        if not isinstance(item, dict) or set(item) - {"dimension", "value", "op", "unit", "target"}:
            raise ValidationError(_("Target %(n)s: unknown keys.") % {"n": index})
        if item.get("dimension") not in TARGET_DIMENSIONS:
            raise ValidationError(
                _("Target %(n)s: dimension must be one of %(allowed)s.")
                % {"n": index, "allowed": ", ".join(TARGET_DIMENSIONS)}
            )
        if (
            not isinstance(item.get("value"), str)
            or not item["value"].strip()
            or len(item["value"]) > 60
        ):
            raise ValidationError(
                _("Target %(n)s: give a value (or * for each value).") % {"n": index}
            )
        if item.get("op") not in ("at_least", "at_most"):
            raise ValidationError(_("Target %(n)s: op must be at_least or at_most.") % {"n": index})
        if item.get("unit", "percent") not in ("percent", "count"):
            raise ValidationError(_("Target %(n)s: unit must be percent or count.") % {"n": index})
        target = item.get("target")
        if isinstance(target, bool) or not isinstance(target, int | float) or target < 0:
            raise ValidationError(
                _("Target %(n)s: the target must be a number, zero or more.") % {"n": index}
            )
        if item.get("unit", "percent") == "percent" and target > 100:
            raise ValidationError(
                _("Target %(n)s: a percentage cannot be over 100.") % {"n": index}
            )


class Event(models.Model):
    """An event (forum, consultation, training) with an invitation list owned by a team."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(_("name"), max_length=200)
    starts_on = models.DateField(_("starts on"))
    ends_on = models.DateField(_("ends on"))
    city = models.CharField(_("city"), max_length=120, blank=True)
    country = CountryField(_("country"))
    venue = models.CharField(_("venue"), max_length=200, blank=True)
    description = models.TextField(
        _("description"), blank=True, max_length=10000, validators=[MaxLengthValidator(10000)]
    )
    capacity = models.IntegerField(
        _("capacity"),
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
        help_text=_("Accepted invitations beyond this number go to the waitlist. Empty: no limit."),
    )
    team = models.ForeignKey(
        "directory.Team",
        on_delete=models.PROTECT,
        related_name="events",
        verbose_name=_("owning team"),
    )
    targets = models.JSONField(
        _("targets"), default=list, blank=True, validators=[validate_targets]
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    history = HistoricalRecords()
    objects = EventQuerySet.as_manager()

    class Meta:
        ordering = ["-starts_on", "name", "id"]
        indexes = [models.Index(fields=["-starts_on", "name", "id"], name="event_date_idx")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_on__gte=models.F("starts_on")), name="event_dates_ordered"
            ),
            models.CheckConstraint(
                condition=models.Q(capacity__isnull=True) | models.Q(capacity__gte=0),
                name="event_capacity_positive",
            ),
        ]
        verbose_name = _("event")
        verbose_name_plural = _("events")

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("directory:event_detail", kwargs={"pk": self.pk})

    def clean(self):
        super().clean()
        if self.starts_on and self.ends_on and self.ends_on < self.starts_on:
            raise ValidationError({"ends_on": _("The event cannot end before it starts.")})


class EventSession(models.Model):
    """An optional session of an event (a panel, a workshop)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="sessions")
    title = models.CharField(_("title"), max_length=200)
    starts_at = models.DateTimeField(_("starts at"), null=True, blank=True)
    focus_area = models.ForeignKey(
        "directory.FocusArea",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("focus area"),
    )

    history = HistoricalRecords()

    class Meta:
        ordering = ["event", "starts_at", "title", "id"]
        verbose_name = _("session")
        verbose_name_plural = _("sessions")

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return self.event.get_absolute_url()


class Invitation(models.Model):
    """A person (for an organisation) on an event's list; status changes go to
    InvitationStatusChange and every change to the history."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="invitations")
    person = models.ForeignKey(
        "directory.Person", on_delete=models.CASCADE, related_name="invitations"
    )
    organisation = models.ForeignKey(
        "directory.Organisation", on_delete=models.CASCADE, related_name="invitations"
    )
    status = models.CharField(
        _("status"),
        max_length=12,
        choices=InvitationStatus.choices,
        default=InvitationStatus.PROPOSED,
    )
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("added by"),
    )
    added_at = models.DateTimeField(_("added"), default=timezone.now, editable=False)
    status_changed_at = models.DateTimeField(_("status changed"), default=timezone.now)
    notes = models.TextField(
        _("notes"), blank=True, max_length=2000, validators=[MaxLengthValidator(2000)]
    )

    history = HistoricalRecords()
    objects = InvitationQuerySet.as_manager()

    class Meta:
        ordering = ["event", "person__name", "id"]
        indexes = [
            models.Index(
                fields=["event", "status", "status_changed_at"], name="invitation_status_idx"
            ),
            models.Index(fields=["organisation", "event"], name="invitation_org_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["event", "person"],
                name="invitation_unique_person",
                violation_error_message=_("This person is already on the event's list."),
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=InvitationStatus.values),
                name="invitation_status_valid",
            ),
        ]
        verbose_name = _("invitation")
        verbose_name_plural = _("invitations")

    def __str__(self):
        return f"{self.person} @ {self.event}"

    def get_absolute_url(self):
        return self.event.get_absolute_url()


class InvitationStatusChange(models.Model):
    """One row per status change of an invitation: from, to, who, when."""

    id = models.BigAutoField(primary_key=True)
    invitation = models.ForeignKey(
        Invitation, on_delete=models.CASCADE, related_name="status_changes"
    )
    from_status = models.CharField(
        pgettext_lazy("invitation status", "from"),
        max_length=12,
        choices=InvitationStatus.choices,
        blank=True,
    )
    to_status = models.CharField(
        pgettext_lazy("invitation status", "to"), max_length=12, choices=InvitationStatus.choices
    )
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    changed_at = models.DateTimeField(_("when"), default=timezone.now)
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        ordering = ["invitation", "changed_at", "id"]
        verbose_name = _("invitation status change")
        verbose_name_plural = _("invitation status changes")

    def __str__(self):
        return f"{self.from_status or '-'} → {self.to_status}"
