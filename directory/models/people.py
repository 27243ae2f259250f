import uuid

from django.core.exceptions import ValidationError
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from ..choices import ConsentMethod, ConsentPurpose, Gender, Sensitivity
from ..querysets import AffiliationQuerySet, PersonQuerySet
from ..search import build_search_key
from .organisations import validate_languages


def validate_purposes(value):
    if not isinstance(value, list) or any(v not in ConsentPurpose.values for v in value):
        raise ValidationError(
            _("Consent purposes must be a list of: %(allowed)s.")
            % {"allowed": ", ".join(ConsentPurpose.values)}
        )


class Person(models.Model):
    """A person working with organisations in the directory. Personal data: see SECURITY.md.

    Consent is current when it was given and not withdrawn; `do_not_contact` overrides it.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(_("name"), max_length=200)
    name_local = models.CharField(_("name in local script"), max_length=200, blank=True)
    position = models.CharField(_("position"), max_length=200, blank=True)
    email = models.EmailField(_("email"), blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    languages = models.JSONField(
        _("languages"), default=list, blank=True, validators=[validate_languages]
    )
    gender = models.CharField(_("gender"), max_length=12, choices=Gender.choices, blank=True)
    sensitivity = models.CharField(
        _("sensitivity"), max_length=12, choices=Sensitivity.choices, default=Sensitivity.NORMAL,
        help_text=_("Restricted people are visible only to staff with the permission to see "
                    "restricted records."),
    )
    consent_given_at = models.DateTimeField(_("consent given at"), null=True, blank=True)
    consent_method = models.CharField(
        _("consent given by"), max_length=10, choices=ConsentMethod.choices, blank=True
    )
    consent_purposes = models.JSONField(
        _("consent given for"), default=list, blank=True, validators=[validate_purposes]
    )
    consent_withdrawn_at = models.DateTimeField(_("consent withdrawn at"), null=True, blank=True)
    do_not_contact = models.BooleanField(_("do not contact"), default=False)
    search_key = models.TextField(editable=False, default="")
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    history = HistoricalRecords(excluded_fields=["search_key"])
    objects = PersonQuerySet.as_manager()

    class Meta:
        ordering = ["name", "id"]
        indexes = [
            # Covering the visibility rule: the people list's count and page ids are index-only.
            models.Index(fields=["name", "id"], include=["sensitivity"], name="person_name_vis_idx"),
            models.Index(fields=["updated_at", "id"], name="person_updated_idx"),
            models.Index(fields=["email"], name="person_email_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(sensitivity__in=Sensitivity.values), name="person_sensitivity_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(consent_withdrawn_at__isnull=True)
                | models.Q(consent_given_at__isnull=False),
                name="person_withdrawal_needs_consent",
            ),
        ]
        verbose_name = _("person")
        verbose_name_plural = _("people")

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("directory:person_detail", kwargs={"pk": self.pk})

    @property
    def has_consent(self) -> bool:
        return self.consent_given_at is not None and self.consent_withdrawn_at is None

    def clean(self):
        super().clean()
        if self.consent_given_at and not self.consent_method:
            raise ValidationError({"consent_method": _("Say how consent was given.")})
        if self.consent_withdrawn_at and self.consent_given_at and self.consent_withdrawn_at < self.consent_given_at:
            raise ValidationError({"consent_withdrawn_at": _("Withdrawal cannot precede consent.")})

    def save(self, *args, **kwargs):
        self.search_key = build_search_key(self.name, self.name_local)
        if kwargs.get("update_fields") is not None:
            kwargs["update_fields"] = set(kwargs["update_fields"]) | {"search_key", "updated_at"}
        super().save(*args, **kwargs)


class Affiliation(models.Model):
    """A person's role at an organisation; at most one current primary contact per organisation."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="affiliations")
    organisation = models.ForeignKey(
        "directory.Organisation", on_delete=models.CASCADE, related_name="affiliations"
    )
    role = models.CharField(_("role"), max_length=200, blank=True)
    is_primary = models.BooleanField(_("primary contact"), default=False)
    start_date = models.DateField(_("from"), null=True, blank=True)
    end_date = models.DateField(_("until"), null=True, blank=True)

    history = HistoricalRecords()
    objects = AffiliationQuerySet.as_manager()

    class Meta:
        ordering = ["-is_primary", "person__name", "id"]
        indexes = [
            models.Index(fields=["organisation", "is_primary"], name="affiliation_org_idx"),
            models.Index(fields=["person", "organisation"], name="affiliation_person_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(end_date__isnull=True)
                | models.Q(start_date__isnull=True)
                | models.Q(end_date__gte=models.F("start_date")),
                name="affiliation_dates_ordered",
            ),
            models.UniqueConstraint(
                fields=["organisation"],
                condition=models.Q(is_primary=True, end_date__isnull=True),
                name="affiliation_one_current_primary",
                violation_error_message=_("This organisation already has a current primary contact."),
            ),
        ]
        verbose_name = _("affiliation")
        verbose_name_plural = _("affiliations")

    def __str__(self):
        return f"{self.person} — {self.role or _('member')} @ {self.organisation}"

    def get_absolute_url(self):
        return reverse("directory:person_detail", kwargs={"pk": self.person_id})

    @property
    def is_current(self) -> bool:
        return self.end_date is None or self.end_date >= timezone.localdate()
