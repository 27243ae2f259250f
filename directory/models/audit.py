import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class AccessAction(models.TextChoices):
    READ_RESTRICTED = "read_restricted", _("Read a restricted record")
    DENIED = "denied", _("Denied access to a restricted record")
    EXPORT_PEOPLE = "export_people", _("Exported people")
    EXPORT_INTERACTIONS = "export_interactions", _("Exported contact history")
    EXPORT_ORGANISATIONS = "export_organisations", _("Exported organisations")
    EXPORT_INVITATIONS = "export_invitations", _("Exported an invitation list")

    EXPORT_PROFILE_CHANGES = "export_profile_changes", _("Exported proposed profile changes")
    SUBJECT_ACCESS = "subject_access", _("Subject-access export of a person")
    ERASURE = "erasure", _("Erased a person")


class AccessLogQuerySet(models.QuerySet):
    def update(self, **kwargs):  # the log is append-only
        raise PermissionError("The access log cannot be changed.")

    def delete(self):
        raise PermissionError("The access log cannot be deleted.")


class AccessLog(models.Model):
    """Append-only record of access to sensitive data: who, when, what, how many rows.

    Holds ids and counts only, never names, notes or query strings.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    at = models.DateTimeField(_("when"), default=timezone.now, db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    username = models.CharField(_("username"), max_length=150, blank=True)
    action = models.CharField(_("action"), max_length=30, choices=AccessAction.choices)
    object_type = models.CharField(_("object type"), max_length=40, blank=True)
    object_id = models.CharField(_("object id"), max_length=64, blank=True)
    rows = models.PositiveIntegerField(_("rows"), null=True, blank=True)
    request_id = models.CharField(_("request id"), max_length=64, blank=True)
    via = models.CharField(_("via"), max_length=20, blank=True, help_text=_("web, api or command"))

    objects = AccessLogQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "id"]
        indexes = [
            models.Index(fields=["action", "at"], name="accesslog_action_idx"),
            models.Index(fields=["username", "at"], name="accesslog_user_idx"),
        ]
        verbose_name = _("access log entry")
        verbose_name_plural = _("access log")

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M} {self.username or '-'} {self.action} {self.object_type} {self.object_id}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise PermissionError("The access log cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("The access log cannot be deleted.")
