from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


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
