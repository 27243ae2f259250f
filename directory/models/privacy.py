"""Personal data (SECURITY.md): the consent log of a person and the suppression list.

`ConsentRecord` is the history of what a person agreed to (the current state is copied onto
Person.consent_*). `SuppressionEntry` holds SHA-256 hashes of the email addresses and phone
numbers of erased people, never the clear values, so they cannot be added again.
"""

import uuid

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ..choices import ConsentAction, ConsentMethod, SuppressionKind
from .people import validate_purposes


class ConsentRecord(models.Model):
    """One consent event of a person: given (for which purposes, how) or withdrawn.

    Append-only in practice: written by services.privacy.consent_record only.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    person = models.ForeignKey(
        "directory.Person", on_delete=models.CASCADE, related_name="consent_records",
        verbose_name=_("person"),
    )
    action = models.CharField(_("action"), max_length=10, choices=ConsentAction.choices)
    purposes = models.JSONField(
        _("purposes"), default=list, blank=True, validators=[validate_purposes]
    )
    method = models.CharField(_("method"), max_length=10, choices=ConsentMethod.choices)
    recorded_at = models.DateTimeField(_("recorded at"), default=timezone.now, editable=False)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+", verbose_name=_("recorded by"),
    )
    note = models.CharField(_("note"), max_length=300, blank=True)

    class Meta:
        ordering = ["-recorded_at", "id"]
        indexes = [
            models.Index(fields=["person", "-recorded_at", "id"], name="consentrecord_person_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(action__in=ConsentAction.values), name="consentrecord_action_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(method__in=ConsentMethod.values), name="consentrecord_method_valid"
            ),
        ]
        verbose_name = _("consent record")
        verbose_name_plural = _("consent records")

    def __str__(self):  # no personal data: ids and dates only
        return f"{self.get_action_display()} {self.recorded_at:%Y-%m-%d %H:%M}"

    def get_absolute_url(self):
        return reverse("directory:person_detail", kwargs={"pk": self.person_id})


class SuppressionEntry(models.Model):
    """A contact (email or phone) of an erased person that must not come back.

    Only the SHA-256 hash of the normalised value is stored (email lowercased, phone digits only).
    """

    id = models.BigAutoField(primary_key=True)
    kind = models.CharField(_("kind"), max_length=10, choices=SuppressionKind.choices)
    value_hash = models.CharField(_("SHA-256 of the normalised value"), max_length=64)
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)

    class Meta:
        ordering = ["-created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "value_hash"], name="suppression_unique"),
            models.CheckConstraint(
                condition=models.Q(kind__in=SuppressionKind.values), name="suppression_kind_valid"
            ),
        ]
        indexes = [models.Index(fields=["created_at", "id"], name="suppression_created_idx")]
        verbose_name = _("suppression list entry")
        verbose_name_plural = _("suppression list")

    def __str__(self):
        return f"{self.kind} {self.value_hash[:12]}…"

    def get_absolute_url(self):
        return reverse("admin:directory_suppressionentry_change", args=[self.pk])
