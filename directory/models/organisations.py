import uuid
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator, MaxValueValidator, MinValueValidator
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_countries.fields import CountryField
from simple_history.models import HistoricalRecords

from ..choices import LANGUAGE_CODES, OrganisationStatus, OrganisationType, Visibility
from ..identifiers import normalise_scheme, normalise_value, validate_identifier
from ..querysets import OrganisationQuerySet
from ..search import build_search_key, normalise


def validate_string_list(value):
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValidationError(_("Enter a list of texts."))
    for item in value:
        if not item.strip():
            raise ValidationError(_("Empty names are not allowed."))
        if len(item) > 300:
            raise ValidationError(_("Each name must be at most 300 characters."))


def validate_languages(value):
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValidationError(_("Enter a list of ISO 639-1 language codes."))
    # Case and surrounding spaces do not matter: clean() normalises the codes after validation.
    unknown = [code for code in value if code.strip().lower() not in LANGUAGE_CODES]
    if unknown:
        raise ValidationError(
            _("Unknown ISO 639-1 language code(s): %(codes)s.") % {"codes": ", ".join(unknown[:5])}
        )


class Organisation(models.Model):
    """A civil-society organisation (or partner body) in the directory.

    `visibility` decides who may see it at all (see querysets.OrganisationQuerySet.visible_to);
    `search_key` and `city_key` are derived from the names on every save.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(_("name"), max_length=300)
    name_local = models.CharField(_("name in local script"), max_length=300, blank=True)
    other_names = models.JSONField(
        _("other names"), default=list, blank=True, validators=[validate_string_list],
        help_text=_("Former names, translations and transliterations."),
    )
    acronym = models.CharField(_("acronym"), max_length=40, blank=True)
    type = models.CharField(
        _("type"), max_length=30, choices=OrganisationType.choices, default=OrganisationType.NGO
    )
    country = CountryField(_("country"))
    city = models.CharField(_("city"), max_length=120, blank=True)
    website = models.URLField(_("website"), max_length=300, blank=True)
    email = models.EmailField(_("public email"), blank=True)
    phone = models.CharField(_("public phone"), max_length=40, blank=True)
    description = models.TextField(
        _("description"), blank=True, max_length=10000, validators=[MaxLengthValidator(10000)]
    )
    founded_year = models.PositiveSmallIntegerField(
        _("founded in"), null=True, blank=True,
        validators=[MinValueValidator(1800), MaxValueValidator(2100)],
    )
    languages = models.JSONField(
        _("working languages"), default=list, blank=True, validators=[validate_languages],
        help_text=_("ISO 639-1 codes, e.g. ru, kk, en."),
    )
    focus_areas = models.ManyToManyField(
        "directory.FocusArea", related_name="organisations", blank=True, verbose_name=_("focus areas")
    )
    status = models.CharField(
        _("status"), max_length=10, choices=OrganisationStatus.choices, default=OrganisationStatus.ACTIVE
    )
    visibility = models.CharField(
        _("visibility"), max_length=12, choices=Visibility.choices, default=Visibility.STAFF,
        help_text=_("Public: everyone. EU staff only: signed-in staff. Restricted: staff with "
                    "the permission to see restricted records."),
    )
    verified = models.BooleanField(_("verified"), default=False)
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+", verbose_name=_("verified by"),
    )
    verified_at = models.DateTimeField(_("verified at"), null=True, blank=True)
    confirmed_at = models.DateTimeField(
        _("last confirmed by the organisation"), null=True, blank=True
    )
    internal_notes = models.TextField(
        _("internal notes"), blank=True, max_length=20000, validators=[MaxLengthValidator(20000)]
    )
    search_key = models.TextField(editable=False, default="")
    city_key = models.CharField(max_length=200, editable=False, default="")
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    # Date of the latest interaction open to all EU staff (sensitivity "staff"), kept by the
    # interaction services. Internal: it narrows the staff home's "not contacted for a year"
    # to a few candidates before the exact check against what the viewer may see; never shown.
    staff_contacted_on = models.DateField(null=True, blank=True, editable=False)

    history = HistoricalRecords(
        m2m_fields=[focus_areas], excluded_fields=["search_key", "city_key", "staff_contacted_on"]
    )
    objects = OrganisationQuerySet.as_manager()

    class Meta:
        ordering = ["name", "id"]
        indexes = [
            # Covering the visibility rule: page ids and counts come from index-only scans.
            models.Index(fields=["name", "id"], include=["visibility", "status"], name="org_name_vis_idx"),
            models.Index(fields=["country", "name", "id"], include=["visibility", "status"],
                         name="org_country_vis_idx"),
            models.Index(fields=["updated_at", "id"], name="org_updated_idx"),
            models.Index(fields=["founded_year", "id"], name="org_founded_idx"),
            models.Index(fields=["visibility", "status"], name="org_visibility_idx"),
            models.Index(fields=["city_key"], name="org_city_idx"),
            # The profile-freshness view (self-service) orders by the confirmation date.
            models.Index(fields=["confirmed_at", "name", "id"], name="org_confirmed_idx"),
            # The staff home's "not contacted for a year" candidates of the viewer's countries.
            models.Index(fields=["country", "staff_contacted_on"], include=["status", "visibility"],
                         name="org_country_contact_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(visibility__in=Visibility.values), name="org_visibility_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=OrganisationStatus.values), name="org_status_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(founded_year__isnull=True)
                | models.Q(founded_year__gte=1800, founded_year__lte=2100),
                name="org_founded_year_range",
            ),
        ]
        permissions = [
            ("view_restricted", "Can see restricted organisations and people"),
            ("view_internal", "Can see internal fields of organisations"),
            ("export_people", "Can export people"),
            ("import_organisations", "Can import organisations"),
            ("moderate_profile_changes", "Can moderate CSO profile changes"),
            ("manage_events", "Can manage events and invitations"),
        ]
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("directory:organisation_detail", kwargs={"pk": self.pk})

    def clean(self):
        super().clean()
        if self.founded_year and self.founded_year > timezone.now().year:
            raise ValidationError({"founded_year": _("The founding year cannot be in the future.")})
        if isinstance(self.other_names, list):
            # Keep order, drop exact duplicates and the main name itself.
            seen, cleaned = {self.name.strip()}, []
            for item in self.other_names:
                if isinstance(item, str) and item.strip() and item.strip() not in seen:
                    seen.add(item.strip())
                    cleaned.append(item.strip())
            self.other_names = cleaned
        if isinstance(self.languages, list):
            self.languages = list(dict.fromkeys(code.strip().lower() for code in self.languages if isinstance(code, str)))

    def refresh_keys(self):
        self.search_key = build_search_key(
            self.name, self.name_local, self.acronym, list(self.other_names or []), self.city
        )
        self.city_key = normalise(self.city)[:200]

    def save(self, *args, **kwargs):
        self.refresh_keys()
        update_fields = kwargs.get("update_fields")
        if update_fields is not None:
            kwargs["update_fields"] = set(update_fields) | {"search_key", "city_key", "updated_at"}
        elif not self._state.adding and not kwargs.get("force_insert"):
            # staff_contacted_on belongs to the interaction services: an edit of a copy loaded
            # earlier must not write back an outdated date.
            kwargs["update_fields"] = [
                f.name for f in self._meta.concrete_fields if not f.primary_key and f.name != "staff_contacted_on"
            ]
        super().save(*args, **kwargs)

    @property
    def website_domain(self) -> str:
        host = urlsplit(self.website).hostname or ""
        return host.removeprefix("www.").lower()

    @property
    def is_public(self) -> bool:
        return self.visibility == Visibility.PUBLIC and self.status == OrganisationStatus.ACTIVE


class OrganisationIdentifier(models.Model):
    """An official identifier (registration, tax number) of an organisation, e.g. KZ-BIN."""

    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="identifiers"
    )
    scheme = models.CharField(_("scheme"), max_length=24)
    value = models.CharField(_("value"), max_length=64)
    verified = models.BooleanField(_("verified"), default=False)

    history = HistoricalRecords()

    class Meta:
        ordering = ["scheme", "value"]
        constraints = [
            models.UniqueConstraint(fields=["scheme", "value"], name="identifier_unique"),
        ]
        verbose_name = _("identifier")
        verbose_name_plural = _("identifiers")

    def __str__(self):
        return f"{self.scheme}-{self.value}"

    def get_absolute_url(self):
        return self.organisation.get_absolute_url()

    def clean(self):
        self.scheme = normalise_scheme(self.scheme)
        self.value = normalise_value(self.value)
        validate_identifier(self.scheme, self.value)
