"""One FilterSet per model, shared by the web pages and the API (ARCHITECTURE.md, habit 1).

To-many filters use EXISTS subqueries, never joins + DISTINCT. Filters on fields a role may
not read are ignored for that role, so they cannot act as an oracle.
"""

from datetime import datetime, time

import django_filters as filters
from django import forms
from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.functional import lazy
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _
from django_countries import countries

from .choices import (
    LANGUAGE_CHOICES,
    InteractionKind,
    OrganisationStatus,
    OrganisationType,
    ProfileChangeStatus,
    Visibility,
)
from .identifiers import parse_identifier
from .models import Affiliation, FocusArea, Interaction, Organisation, Person, ProfileChange, Team
from .roles import get_roles
from .search import search_words

BOOLEAN_CHOICES = [("true", _("Yes")), ("false", _("No"))]


def country_choices():
    # Not the "──────────" separator that COUNTRIES_FIRST_BREAK adds (value "").
    return [(code, name) for code, name in countries if code]


def language_choices():
    # A callable, not the list: every request's filterset and form deep-copy their fields, and
    # copying ~180 (code, lazy name) pairs several times cost milliseconds per request.
    return LANGUAGE_CHOICES


def focus_area_choices():
    return [
        (fa.slug, f"— {fa.label}" if fa.parent_id else fa.label)
        for fa in FocusArea.objects.order_by("position", "id")
    ]


class IsoDateOrDateTimeField(forms.CharField):
    """Accepts 2024-05-01 or 2024-05-01T10:00[:00][+05:00]; naive values use the site zone."""

    def clean(self, value):
        value = super().clean(value)
        if value in (None, ""):
            return None
        try:
            parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            raise ValidationError(
                _("Enter an ISO 8601 date or date-time, e.g. 2025-01-31 or 2025-01-31T09:00:00Z."),
                code="invalid",
            ) from None
        if len(value.strip()) == 10:
            parsed = datetime.combine(parsed.date(), time.min)
        if timezone.is_naive(parsed):
            parsed = timezone.make_aware(parsed)
        return parsed


class IdentifierField(forms.CharField):
    def clean(self, value):
        value = super().clean(value)
        if not value:
            return None
        return parse_identifier(value)


class IsoDateOrDateTimeFilter(filters.Filter):
    field_class = IsoDateOrDateTimeField


class IdentifierFilter(filters.Filter):
    field_class = IdentifierField


def _descending(label) -> str:
    return gettext("%s (descending)") % label


class StrictOrderingFilter(filters.OrderingFilter):
    """Ordering from an allowlist, always with `id` as the tie-break (stable pagination)."""

    def build_choices(self, fields, labels):
        # django-filter formats "(descending)" once, at import, in English: stay lazy instead.
        choices = []
        for field, param in fields.items():
            label = labels.get(field, param)
            choices += [(param, label), (f"-{param}", lazy(_descending, str)(label))]
        return choices

    def filter(self, qs, value):
        if not value:
            return qs
        ordering = [self.get_ordering_value(param) for param in value]
        last = ordering[-1]
        ordering.append("-id" if last.startswith("-") else "id")
        return qs.order_by(*ordering)


def has_language(code: str) -> Q:
    if connection.vendor == "postgresql":
        return Q(languages__contains=[code])
    # JSON text contains the quoted code; two-letter codes cannot collide with other codes.
    return Q(languages__icontains=f'"{code}"')


def focus_area_exists(slugs, outer="pk") -> Exists:
    through = Organisation.focus_areas.through
    return Exists(
        through.objects.filter(organisation_id=OuterRef(outer)).filter(
            Q(focusarea__slug__in=slugs) | Q(focusarea__parent__slug__in=slugs)
        )
    )


def search(qs, value):
    for word in search_words(value or ""):
        qs = qs.filter(search_key__contains=word)
    return qs


class CachedFormClassMixin:
    """django-filter builds a new form class (a field per filter, then a class through the
    form metaclass) for every FilterSet instance; these filters' fields depend on nothing but
    the class (labels and choices stay lazy or callable, evaluated when used), so build it
    once per FilterSet class. Each form instance still deep-copies its fields as usual."""

    def get_form_class(self):
        cls = type(self)
        form_class = cls.__dict__.get("_cached_form_class")
        if form_class is None:
            form_class = super().get_form_class()
            cls._cached_form_class = form_class
        return form_class


class OrganisationFilterSet(CachedFormClassMixin, filters.FilterSet):
    q = filters.CharFilter(method="filter_q", label=_("Search"), max_length=200)
    country = filters.MultipleChoiceFilter(
        choices=country_choices, method="filter_country", label=_("Country")
    )
    focus_area = filters.MultipleChoiceFilter(
        choices=focus_area_choices, method="filter_focus_area", label=_("Focus area")
    )
    focus_area_all = filters.MultipleChoiceFilter(
        choices=focus_area_choices, method="filter_focus_area_all", label=_("All of these focus areas")
    )
    type = filters.MultipleChoiceFilter(
        choices=OrganisationType.choices, method="filter_type", label=_("Type")
    )
    city = filters.CharFilter(method="filter_city", label=_("City"), max_length=120)
    language = filters.MultipleChoiceFilter(
        choices=language_choices, method="filter_language", label=_("Working language")
    )
    verified = filters.ChoiceFilter(
        choices=BOOLEAN_CHOICES, method="filter_verified", label=_("Verified"), empty_label=_("Any")
    )
    updated_since = IsoDateOrDateTimeFilter(
        field_name="updated_at", lookup_expr="gte", label=_("Updated since")
    )
    identifier = IdentifierFilter(method="filter_identifier", label=_("Identifier"))
    # Staff-only filters: ignored for other roles, so they cannot probe hidden data.
    contacted_since = filters.DateFilter(method="filter_contacted", label=_("Contacted since"))
    not_contacted_since = filters.DateFilter(method="filter_contacted", label=_("Not contacted since"))
    status = filters.MultipleChoiceFilter(
        choices=OrganisationStatus.choices, method="filter_internal", label=_("Status")
    )
    visibility = filters.MultipleChoiceFilter(
        choices=Visibility.choices, method="filter_internal", label=_("Visibility")
    )
    ordering = StrictOrderingFilter(
        fields=(
            ("name", "name"),
            ("country", "country"),
            ("updated_at", "updated_at"),
            ("founded_year", "founded_year"),
        ),
        field_labels={
            "name": _("Name"),
            "country": _("Country"),
            "updated_at": _("Last updated"),
            "founded_year": _("Founding year"),
        },
        label=_("Order by"),
    )

    class Meta:
        model = Organisation
        fields = []

    def filter_q(self, qs, name, value):
        return search(qs, value)

    def filter_country(self, qs, name, value):
        return qs.filter(country__in=value) if value else qs

    def filter_focus_area(self, qs, name, value):
        return qs.filter(focus_area_exists(value)) if value else qs

    def filter_focus_area_all(self, qs, name, value):
        for slug in value or []:
            qs = qs.filter(focus_area_exists([slug]))
        return qs

    def filter_type(self, qs, name, value):
        return qs.filter(type__in=value) if value else qs

    def filter_city(self, qs, name, value):
        from .search import normalise

        key = normalise(value)
        return qs.filter(city_key=key) if key else qs

    def filter_language(self, qs, name, value):
        if not value:
            return qs
        rule = Q()
        for code in value:
            rule |= has_language(code)
        return qs.filter(rule)

    def filter_verified(self, qs, name, value):
        return qs.filter(verified=(value == "true")) if value else qs

    def filter_identifier(self, qs, name, value):
        if not value:
            return qs
        scheme, ident = value
        through = Organisation.identifiers.rel.related_model
        return qs.filter(
            Exists(through.objects.filter(organisation_id=OuterRef("pk"), scheme=scheme, value=ident))
        )

    def filter_contacted(self, qs, name, value):
        user = getattr(self.request, "user", None)
        if value is None or not get_roles(user).staff:
            return qs
        contacted = Exists(
            Interaction.objects.visible_to(user).filter(
                organisations=OuterRef("pk"), occurred_on__gte=value
            )
        )
        return qs.filter(contacted) if name == "contacted_since" else qs.exclude(contacted)

    def filter_internal(self, qs, name, value):
        if not value or not get_roles(getattr(self.request, "user", None)).internal:
            return qs
        return qs.filter(**{f"{name}__in": value})


class PersonFilterSet(filters.FilterSet):
    q = filters.CharFilter(method="filter_q", label=_("Search"), max_length=200)
    organisation = filters.ModelChoiceFilter(
        queryset=lambda request: Organisation.objects.visible_to(getattr(request, "user", None)),
        method="filter_organisation",
        label=_("Organisation"),
    )
    country = filters.MultipleChoiceFilter(
        choices=country_choices, method="filter_country", label=_("Country")
    )
    focus_area = filters.MultipleChoiceFilter(
        choices=focus_area_choices, method="filter_focus_area", label=_("Focus area")
    )
    language = filters.MultipleChoiceFilter(
        choices=language_choices, method="filter_language", label=_("Language")
    )
    consent = filters.ChoiceFilter(
        choices=BOOLEAN_CHOICES, method="filter_consent", label=_("Consent given"), empty_label=_("Any")
    )
    ordering = StrictOrderingFilter(
        fields=(("name", "name"), ("updated_at", "updated_at")),
        field_labels={"name": pgettext_lazy("person", "Name"), "updated_at": _("Last updated")},
        label=_("Order by"),
    )

    class Meta:
        model = Person
        fields = []

    def _affiliations(self, **lookups):
        visible = Organisation.objects.visible_to(getattr(self.request, "user", None))
        return Affiliation.objects.current().filter(
            person_id=OuterRef("pk"), organisation__in=visible.filter(**lookups).values("pk")
        )

    def filter_q(self, qs, name, value):
        return search(qs, value)

    def filter_organisation(self, qs, name, value):
        if not value:
            return qs
        return qs.filter(Exists(Affiliation.objects.current().filter(person_id=OuterRef("pk"), organisation=value)))

    def filter_country(self, qs, name, value):
        return qs.filter(Exists(self._affiliations(country__in=value))) if value else qs

    def filter_focus_area(self, qs, name, value):
        if not value:
            return qs
        visible = Organisation.objects.visible_to(getattr(self.request, "user", None))
        orgs = visible.filter(focus_area_exists(value)).values("pk")
        return qs.filter(
            Exists(Affiliation.objects.current().filter(person_id=OuterRef("pk"), organisation__in=orgs))
        )

    def filter_language(self, qs, name, value):
        if not value:
            return qs
        rule = Q()
        for code in value:
            rule |= has_language(code)
        return qs.filter(rule)

    def filter_consent(self, qs, name, value):
        if not value:
            return qs
        given = Q(consent_given_at__isnull=False, consent_withdrawn_at__isnull=True)
        return qs.filter(given) if value == "true" else qs.exclude(given)


class InteractionFilterSet(filters.FilterSet):
    q = filters.CharFilter(method="filter_q", label=_("Subject contains"), max_length=200)
    organisation = filters.ModelChoiceFilter(
        queryset=lambda request: Organisation.objects.visible_to(getattr(request, "user", None)),
        method="filter_organisation", label=_("Organisation"),
    )
    person = filters.ModelChoiceFilter(
        queryset=lambda request: Person.objects.visible_to(getattr(request, "user", None)),
        method="filter_person", label=_("Person"),
    )
    kind = filters.MultipleChoiceFilter(
        choices=InteractionKind.choices, method="filter_kind", label=_("Kind")
    )
    occurred_after = filters.DateFilter(field_name="occurred_on", lookup_expr="gte", label=_("From"))
    occurred_before = filters.DateFilter(field_name="occurred_on", lookup_expr="lte", label=_("Until"))
    country = filters.MultipleChoiceFilter(
        choices=country_choices, method="filter_country", label=_("Country")
    )
    focus_area = filters.MultipleChoiceFilter(
        choices=focus_area_choices, method="filter_focus_area", label=_("Focus area")
    )
    team = filters.ModelChoiceFilter(queryset=Team.objects.all(), label=_("Team"))
    follow_up_open = filters.ChoiceFilter(
        choices=BOOLEAN_CHOICES, method="filter_follow_up_open", label=_("Open follow-up"),
        empty_label=_("Any"),
    )
    assigned_to = filters.ChoiceFilter(
        choices=[("me", _("Me"))], method="filter_assigned_to", label=_("Follow-up assigned to"),
        empty_label=_("Anyone"),
    )

    class Meta:
        model = Interaction
        fields = []

    def is_valid(self):
        valid = super().is_valid()
        if valid:
            after = self.form.cleaned_data.get("occurred_after")
            before = self.form.cleaned_data.get("occurred_before")
            if after and before and before < after:
                self.form.add_error("occurred_before", _("The end date is before the start date."))
                return False
        return valid

    def filter_q(self, qs, name, value):
        for word in (value or "").split():
            qs = qs.filter(subject__icontains=word)
        return qs

    def filter_organisation(self, qs, name, value):
        through = Interaction.organisations.through
        return qs.filter(Exists(through.objects.filter(interaction_id=OuterRef("pk"), organisation=value))) if value else qs

    def filter_person(self, qs, name, value):
        through = Interaction.people.through
        return qs.filter(Exists(through.objects.filter(interaction_id=OuterRef("pk"), person=value))) if value else qs

    def filter_kind(self, qs, name, value):
        return qs.filter(kind__in=value) if value else qs

    def filter_country(self, qs, name, value):
        if not value:
            return qs
        through = Interaction.organisations.through
        return qs.filter(
            Exists(through.objects.filter(interaction_id=OuterRef("pk"), organisation__country__in=value))
        )

    def filter_focus_area(self, qs, name, value):
        if not value:
            return qs
        through = Interaction.focus_areas.through
        return qs.filter(
            Exists(
                through.objects.filter(interaction_id=OuterRef("pk")).filter(
                    Q(focusarea__slug__in=value) | Q(focusarea__parent__slug__in=value)
                )
            )
        )

    def filter_follow_up_open(self, qs, name, value):
        if not value:
            return qs
        open_rule = Q(follow_up_due__isnull=False, follow_up_done=False)
        return qs.filter(open_rule) if value == "true" else qs.exclude(open_rule)

    def filter_assigned_to(self, qs, name, value):
        user = getattr(self.request, "user", None)
        if value != "me" or user is None or not user.is_authenticated:
            return qs
        return qs.filter(follow_up_assignee=user)


class ProfileChangeFilterSet(filters.FilterSet):
    """Proposals of CSO editors: by status (repeatable) and organisation (id)."""

    status = filters.MultipleChoiceFilter(
        choices=ProfileChangeStatus.choices, label=_("Status"), distinct=False,
        widget=forms.CheckboxSelectMultiple,
    )
    organisation = filters.ModelChoiceFilter(
        queryset=lambda request: Organisation.objects.visible_to(getattr(request, "user", None)),
        label=_("Organisation"),
    )

    class Meta:
        model = ProfileChange
        fields = []
