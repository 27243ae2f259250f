import uuid

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from ..choices import ProfileChangeStatus


class OrganisationEditor(models.Model):
    """Links a CSO editor's user account to an organisation they may propose changes to."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="editor_links"
    )
    organisation = models.ForeignKey(
        "directory.Organisation", on_delete=models.CASCADE, related_name="editor_links"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["organisation", "user"]
        constraints = [
            models.UniqueConstraint(fields=["user", "organisation"], name="editor_unique")
        ]
        verbose_name = _("organisation editor")
        verbose_name_plural = _("organisation editors")

    def __str__(self):
        return f"{self.user} edits {self.organisation}"


class UserPreference(models.Model):
    """Per-user settings kept across devices; today only the interface language."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="preference"
    )
    # Blank: no choice made, so the browser's Accept-Language decides.
    language = models.CharField(
        _("interface language"), max_length=10, blank=True, choices=settings.LANGUAGES
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("user preference")
        verbose_name_plural = _("user preferences")

    def __str__(self):
        return f"{self.user}: {self.language or '-'}"


class ProfileChangeQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Staff see proposals of the organisations they see; an editor only their own."""
        from ..roles import get_roles
        from .organisations import Organisation

        roles = get_roles(user)
        if roles.admin:
            return self.all()
        rule = models.Q(pk__in=[])
        if roles.staff:
            rule |= models.Q(organisation__in=Organisation.objects.visible_to(user).values("pk"))
        if roles.editor_org_ids:
            rule |= models.Q(author_id=user.pk, organisation_id__in=roles.editor_org_ids)
        return self.filter(rule)

    def pending(self):
        return self.filter(status=ProfileChangeStatus.PENDING)


class ProfileChange(models.Model):
    """A CSO editor's proposed change to its organisation's profile and people.

    `diff` maps a field key to {"old", "new"[, "person", "person_name"]}: the value when the
    proposal was made and the proposed one. Organisation fields use their own name; people
    fields use "people.<person id>.<field>". `decisions` maps a key to approved/rejected.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organisation = models.ForeignKey(
        "directory.Organisation", on_delete=models.CASCADE, related_name="profile_changes",
        verbose_name=_("organisation"),
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="profile_changes",
        verbose_name=_("proposed by"),
    )
    created_at = models.DateTimeField(_("proposed at"), default=timezone.now, editable=False)
    status = models.CharField(
        _("status"), max_length=16, choices=ProfileChangeStatus.choices, default=ProfileChangeStatus.PENDING
    )
    diff = models.JSONField(_("changes"), default=dict)
    decisions = models.JSONField(_("decisions"), default=dict, blank=True)
    reason = models.TextField(_("reason"), blank=True, max_length=2000)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        verbose_name=_("reviewed by"),
    )
    reviewed_at = models.DateTimeField(_("reviewed at"), null=True, blank=True)

    history = HistoricalRecords()
    objects = ProfileChangeQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "id"]
        indexes = [
            models.Index(fields=["status", "created_at", "id"], name="profilechange_queue_idx"),
            models.Index(fields=["organisation", "created_at"], name="profilechange_org_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=ProfileChangeStatus.values), name="profilechange_status_valid"
            ),
        ]
        verbose_name = _("profile change")
        verbose_name_plural = _("profile changes")

    def __str__(self):
        return f"{self.organisation} ({self.get_status_display()}, {self.created_at:%Y-%m-%d})"

    def get_absolute_url(self):
        return reverse("directory:moderation_detail", kwargs={"pk": self.pk})

    @property
    def is_pending(self) -> bool:
        return self.status == ProfileChangeStatus.PENDING


class EditorInvitation(models.Model):
    """An invitation to become editor of an organisation. Only a SHA-256 of the token is
    stored, so a database leak does not hand out accounts; a token works once, for 7 days."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organisation = models.ForeignKey(
        "directory.Organisation", on_delete=models.CASCADE, related_name="editor_invitations",
        verbose_name=_("organisation"),
    )
    email = models.EmailField(_("email"))
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(_("invited at"), default=timezone.now, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+",
        verbose_name=_("invited by"),
    )
    expires_at = models.DateTimeField(_("expires at"))
    used_at = models.DateTimeField(_("accepted at"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        verbose_name=_("account"),
    )

    class Meta:
        ordering = ["-created_at", "id"]
        indexes = [models.Index(fields=["organisation", "created_at"], name="editorinvite_org_idx")]
        verbose_name = _("editor invitation")
        verbose_name_plural = _("editor invitations")

    def __str__(self):
        return f"{self.email} → {self.organisation}"

    def get_absolute_url(self):
        return reverse("directory:organisation_editors", kwargs={"pk": self.organisation_id})

    @property
    def is_open(self) -> bool:
        return self.used_at is None and self.revoked_at is None and self.expires_at > timezone.now()


class ConfirmationReminder(models.Model):
    """A reminder sent to an organisation to confirm that its profile is up to date."""

    organisation = models.ForeignKey(
        "directory.Organisation", on_delete=models.CASCADE, related_name="confirmation_reminders"
    )
    sent_at = models.DateTimeField(_("sent at"), default=timezone.now)
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    recipients = models.PositiveSmallIntegerField(_("recipients"), default=0)

    class Meta:
        ordering = ["-sent_at", "id"]
        indexes = [models.Index(fields=["organisation", "sent_at"], name="reminder_org_idx")]
        verbose_name = _("confirmation reminder")
        verbose_name_plural = _("confirmation reminders")

    def __str__(self):
        return f"{self.organisation} @ {self.sent_at:%Y-%m-%d}"
