from django.db import models
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _


class FocusAreaQuerySet(models.QuerySet):
    def expand_slugs(self, slugs):
        """Ids of the focus areas named by slugs, each parent with its children."""
        return list(
            self.filter(models.Q(slug__in=slugs) | models.Q(parent__slug__in=slugs)).values_list(
                "id", flat=True
            )
        )


class FocusArea(models.Model):
    """A theme an organisation works on, in a fixed two-level taxonomy seeded by migration.

    Slugs are part of the API contract and never change; labels may be edited.
    """

    slug = models.SlugField(unique=True, max_length=60)
    name = models.CharField(_("name"), max_length=120)
    name_ru = models.CharField(_("name (Russian)"), max_length=120)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    position = models.PositiveSmallIntegerField(default=0)

    objects = FocusAreaQuerySet.as_manager()

    class Meta:
        ordering = ["position", "id"]
        indexes = [models.Index(fields=["position", "id"], name="focusarea_position_idx")]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(parent=models.F("id")), name="focusarea_not_own_parent"
            )
        ]
        verbose_name = _("focus area")
        verbose_name_plural = _("focus areas")

    def __str__(self):
        return self.label

    @property
    def label(self) -> str:
        lang = (get_language() or "en")[:2]
        return self.name_ru if lang == "ru" and self.name_ru else self.name

    def get_absolute_url(self):
        return reverse("directory:organisation_list") + f"?focus_area={self.slug}"
