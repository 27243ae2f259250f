"""Per-role serializers (ARCHITECTURE.md, habit 6).

Read serializers render only what the selectors prefetched; write serializers name their
writable fields explicitly and reject everything else with 400.
"""

from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _
from django_countries import countries
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from directory.choices import (
    LANGUAGE_CHOICES,
    ConsentMethod,
    ConsentPurpose,
    Gender,
    InteractionKind,
    InteractionSensitivity,
    OrganisationStatus,
    OrganisationType,
    Sensitivity,
    Visibility,
)
from directory.models import FocusArea, Organisation, Person, Team
from directory.models.interactions import NOTES_MAX_LENGTH
from directory.services.interactions import INTERACTION_FIELDS as INTERACTION_SERVICE_FIELDS
from directory.services.organisations import ORGANISATION_FIELDS

CANNOT_WRITE = _("This field cannot be written.")


# --- shared ---------------------------------------------------------------------------------

class IdentifierSerializer(serializers.Serializer):
    scheme = serializers.CharField(max_length=24, trim_whitespace=False)
    value = serializers.CharField(max_length=64, trim_whitespace=False)


class ErrorSerializer(serializers.Serializer):
    """`{"detail": "..."}`: 401, 403, 404, 405, 406, 412, 413, 415, 429."""

    detail = serializers.CharField()


class DetailUrlField(serializers.HyperlinkedIdentityField):
    """Absolute link to the object; unlike DRF's reverse it does not carry `?format=csv` over."""

    PLACEHOLDER = "00000000-0000-0000-0000-000000000000"

    def get_url(self, obj, view_name, request, format):
        return detail_url(request, view_name, obj.pk)


def detail_url_parts(request, view_name) -> tuple[str, str]:
    """The detail URL of `view_name` split around its id: reversed once per request and view,
    not once per row (reverse + build_absolute_uri were ~1 ms a row, a fifth of a 50-row list)."""
    templates = getattr(request, "_detail_url_templates", None) if request is not None else None
    if templates is None:
        templates = {}
        if request is not None:
            request._detail_url_templates = templates
    parts = templates.get(view_name)
    if parts is None:
        from django.urls import reverse

        placeholder = DetailUrlField.PLACEHOLDER
        url = reverse(view_name, kwargs={"pk": placeholder})
        url = request.build_absolute_uri(url) if request is not None else url
        head, _sep, tail = url.partition(placeholder)
        parts = templates[view_name] = (head, tail)
    return parts


def detail_url(request, view_name, pk) -> str:
    head, tail = detail_url_parts(request, view_name)
    return f"{head}{pk}{tail}"


# --- focus areas ----------------------------------------------------------------------------

class FocusAreaSerializer(serializers.ModelSerializer):
    parent = serializers.SlugRelatedField(slug_field="slug", read_only=True, allow_null=True)

    class Meta:
        model = FocusArea
        fields = ["slug", "name", "name_ru", "parent"]
        read_only_fields = fields


# --- organisations --------------------------------------------------------------------------

PUBLIC_ORGANISATION_FIELDS = [
    "id", "url", "name", "name_local", "other_names", "acronym", "type", "country",
    "country_name", "city", "website", "email", "phone", "description", "focus_areas",
    "languages", "founded_year", "identifiers", "verified", "updated_at",
]
EDITOR_EXTRA_FIELDS = ["visibility", "confirmed_at"]
STAFF_EXTRA_FIELDS = [
    "visibility", "status", "internal_notes", "verified_by", "verified_at", "confirmed_at",
    "created_at", "last_contacted_on",
]


_DATETIME = serializers.DateTimeField(read_only=True)


def _text(value):
    return None if value is None else str(value)


def _texts(values):
    if values is None:
        return None
    return [None if item is None else str(item) for item in values]


def _datetime(value):
    return None if value is None else _DATETIME.to_representation(value)


def _focus_slugs(obj) -> list[str]:
    slugs = obj.__dict__.get("_focus_slugs")  # selectors.attach_organisation_lists
    return list(slugs) if slugs is not None else [area.slug for area in obj.focus_areas.all()]


def _identifiers(obj) -> list[dict]:
    pairs = obj.__dict__.get("_identifier_pairs")  # selectors.attach_organisation_lists
    if pairs is None:
        pairs = [(i.scheme, i.value) for i in obj.identifiers.all()]
    return [{"scheme": scheme, "value": value} for scheme, value in pairs]


def _country(obj, cache: dict) -> tuple[str, str]:
    """(code, name) of the organisation's country, looked up once per code and serializer (the
    name is translated: one serializer renders in one language)."""
    raw = obj.__dict__.get("country")
    found = cache.get(raw)
    if found is None:
        country = obj.country
        found = cache[raw] = (country.code or "", str(country.name or ""))
    return found


def organisation_public_data(obj, url_parts, countries_seen: dict) -> dict:
    """What OrganisationPublicSerializer's fields make of `obj`, written out: the same keys in
    the same order and the same values as DRF's field-by-field to_representation (UUIDField,
    CharField, ChoiceField, ListField, IntegerField, BooleanField and DateTimeField, each None
    when the attribute is None), at a fraction of the cost (~0.35 of 19 ms per 50-row page
    was DRF's per-field machinery). tests/api check the fields per role; the benchmark's
    floors check every byte."""
    country_code, country_name = _country(obj, countries_seen)
    founded = obj.founded_year
    verified = obj.verified
    return {
        "id": _text(obj.pk),
        "url": f"{url_parts[0]}{obj.pk}{url_parts[1]}",
        "name": _text(obj.name),
        "name_local": _text(obj.name_local),
        "other_names": _texts(obj.other_names),
        "acronym": _text(obj.acronym),
        "type": _text(obj.type),
        "country": country_code,
        "country_name": country_name,
        "city": _text(obj.city),
        "website": _text(obj.website),
        "email": _text(obj.email),
        "phone": _text(obj.phone),
        "description": _text(obj.description),
        "focus_areas": _focus_slugs(obj),
        "languages": _texts(obj.languages),
        "founded_year": None if founded is None else int(founded),
        "identifiers": _identifiers(obj),
        "verified": None if verified is None else bool(verified),
        "updated_at": _datetime(obj.updated_at),
    }


class OrganisationPublicSerializer(serializers.ModelSerializer):
    url = DetailUrlField(view_name="api-organisation-detail")
    other_names = serializers.ListField(child=serializers.CharField(), read_only=True)
    country = serializers.SerializerMethodField()
    country_name = serializers.SerializerMethodField()
    focus_areas = serializers.SerializerMethodField()
    languages = serializers.ListField(child=serializers.CharField(), read_only=True)
    identifiers = serializers.SerializerMethodField()
    # Plain strings: blank values are "" and would not match format: email / uri.
    website = serializers.CharField(read_only=True)
    email = serializers.CharField(read_only=True)

    class Meta:
        model = Organisation
        fields = PUBLIC_ORGANISATION_FIELDS
        read_only_fields = fields

    def to_representation(self, instance):
        countries_seen = self.__dict__.get("_countries_seen")
        if countries_seen is None:
            countries_seen = self._countries_seen = {}
        return organisation_public_data(instance, self.url_parts(), countries_seen)

    def url_parts(self) -> tuple[str, str]:
        parts = self.__dict__.get("_url_parts")
        if parts is None:
            parts = self._url_parts = detail_url_parts(self.context.get("request"), "api-organisation-detail")
        return parts

    @extend_schema_field(OpenApiTypes.STR)
    def get_country(self, obj) -> str:
        return obj.country.code or ""

    @extend_schema_field(OpenApiTypes.STR)
    def get_country_name(self, obj) -> str:
        return str(obj.country.name or "")

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_focus_areas(self, obj) -> list[str]:
        return [area.slug for area in obj.focus_areas.all()]

    @extend_schema_field(IdentifierSerializer(many=True))
    def get_identifiers(self, obj):
        return [{"scheme": i.scheme, "value": i.value} for i in obj.identifiers.all()]


class OrganisationEditorSerializer(OrganisationPublicSerializer):
    """A CSO editor: the public fields, plus visibility and confirmation date of its own
    organisations (they are absent on other organisations)."""

    visibility = serializers.ChoiceField(choices=Visibility.choices, read_only=True)

    class Meta(OrganisationPublicSerializer.Meta):
        fields = PUBLIC_ORGANISATION_FIELDS + EDITOR_EXTRA_FIELDS
        read_only_fields = fields

    def to_representation(self, instance):
        data = super().to_representation(instance)
        own = self.context.get("editor_org_ids", frozenset())
        if instance.pk in own:
            data["visibility"] = _text(instance.visibility)
            data["confirmed_at"] = _datetime(instance.confirmed_at)
        return data


class OrganisationStaffSerializer(OrganisationPublicSerializer):
    visibility = serializers.ChoiceField(choices=Visibility.choices, read_only=True)
    status = serializers.ChoiceField(choices=OrganisationStatus.choices, read_only=True)
    verified_by = serializers.SerializerMethodField()
    last_contacted_on = serializers.SerializerMethodField()

    class Meta(OrganisationPublicSerializer.Meta):
        fields = PUBLIC_ORGANISATION_FIELDS + STAFF_EXTRA_FIELDS
        read_only_fields = fields

    def to_representation(self, instance):
        data = super().to_representation(instance)
        data["visibility"] = _text(instance.visibility)
        data["status"] = _text(instance.status)
        data["internal_notes"] = _text(instance.internal_notes)
        data["verified_by"] = self.get_verified_by(instance)
        data["verified_at"] = _datetime(instance.verified_at)
        data["confirmed_at"] = _datetime(instance.confirmed_at)
        data["created_at"] = _datetime(instance.created_at)
        data["last_contacted_on"] = self.get_last_contacted_on(instance)
        return data

    @extend_schema_field(serializers.DateField(allow_null=True))
    def get_last_contacted_on(self, obj):
        """Latest interaction with the organisation that the caller may see (annotated by
        selectors.organisation_list for EU staff; null for other roles and when none)."""
        value = getattr(obj, "last_contacted_on", None)
        return value.isoformat() if value else None

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_verified_by(self, obj) -> str | None:
        # Annotated by the view (one LEFT JOIN), so no query per row.
        if hasattr(obj, "verified_by_username"):
            return obj.verified_by_username
        return obj.verified_by.get_username() if obj.verified_by_id else None


class OrganisationSerializer(OrganisationStaffSerializer):
    """Documentation of every role's organisation: fields beyond the public ones are present
    for staff (all of them) and CSO editors (`visibility`, `confirmed_at` of their own
    organisations) only."""

    class Meta(OrganisationStaffSerializer.Meta):
        optional_fields = STAFF_EXTRA_FIELDS


def _country_choices():
    return [(code, name) for code, name in countries]


class OrganisationWriteSerializer(serializers.Serializer):
    """The fields a staff writer may set; anything else in the body is a 400."""

    name = serializers.CharField(max_length=300, trim_whitespace=False)
    name_local = serializers.CharField(max_length=300, allow_blank=True, required=False, trim_whitespace=False)
    other_names = serializers.ListField(
        child=serializers.CharField(max_length=300, trim_whitespace=False), required=False, max_length=100
    )
    acronym = serializers.CharField(max_length=40, allow_blank=True, required=False, trim_whitespace=False)
    type = serializers.ChoiceField(choices=OrganisationType.choices, required=False)
    country = serializers.ChoiceField(choices=_country_choices())
    city = serializers.CharField(max_length=120, allow_blank=True, required=False, trim_whitespace=False)
    website = serializers.URLField(max_length=300, allow_blank=True, required=False)
    email = serializers.EmailField(allow_blank=True, required=False)
    phone = serializers.CharField(max_length=40, allow_blank=True, required=False, trim_whitespace=False)
    description = serializers.CharField(max_length=10000, allow_blank=True, required=False, trim_whitespace=False)
    founded_year = serializers.IntegerField(min_value=1800, max_value=2100, allow_null=True, required=False)
    languages = serializers.ListField(
        child=serializers.ChoiceField(choices=LANGUAGE_CHOICES), required=False, max_length=50
    )
    status = serializers.ChoiceField(choices=OrganisationStatus.choices, required=False)
    visibility = serializers.ChoiceField(choices=Visibility.choices, required=False)
    internal_notes = serializers.CharField(max_length=20000, allow_blank=True, required=False, trim_whitespace=False)
    confirmed_at = serializers.DateTimeField(allow_null=True, required=False)
    focus_areas = serializers.ListField(
        child=serializers.SlugField(max_length=60), required=False, max_length=50,
        help_text="Focus-area slugs.",
    )
    identifiers = IdentifierSerializer(many=True, required=False)
    verified = serializers.BooleanField(required=False)

    SERVICE_FIELDS = ORGANISATION_FIELDS
    EXTRA_FIELDS = frozenset({"focus_areas", "identifiers", "verified"})

    def to_internal_value(self, data):
        if isinstance(data, dict):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                raise serializers.ValidationError({name: [CANNOT_WRITE] for name in unknown})
        return super().to_internal_value(data)

    def validate_identifiers(self, value):
        # Nested fields are not required under PATCH (partial); an identifier always needs both.
        for item in value:
            missing = [key for key in ("scheme", "value") if key not in item]
            if missing:
                raise serializers.ValidationError(
                    [_("Each identifier needs a scheme and a value, e.g. {\"scheme\": \"KZ-BIN\", "
                       "\"value\": \"950440001673\"}.")]
                )
        return value

    def validate_name(self, value):
        if not value.strip():
            raise serializers.ValidationError(_("This field may not be blank."))
        return value

    def service_kwargs(self) -> dict:
        """Split validated data into the service's `data` and its keyword arguments."""
        validated = dict(self.validated_data)
        kwargs = {}
        if "focus_areas" in validated:
            kwargs["focus_areas"] = validated.pop("focus_areas")
        if "identifiers" in validated:
            kwargs["identifiers"] = [(i["scheme"], i["value"]) for i in validated.pop("identifiers")]
        if "verified" in validated:
            kwargs["verified"] = validated.pop("verified")
        kwargs["data"] = validated
        return kwargs


# Keep the allowlist in step with the service: a new service field must be added here too.
assert set(OrganisationWriteSerializer._declared_fields) == (
    OrganisationWriteSerializer.SERVICE_FIELDS | OrganisationWriteSerializer.EXTRA_FIELDS
)


# --- people ---------------------------------------------------------------------------------

class PersonOrganisationSerializer(serializers.Serializer):
    id = serializers.UUIDField(source="organisation_id")
    name = serializers.CharField(source="organisation.name")
    role = serializers.CharField()
    is_primary = serializers.BooleanField()


PUBLIC_PERSON_FIELDS = [
    "id", "url", "name", "name_local", "position", "email", "phone", "languages",
    "organisations", "updated_at",
]
STAFF_PERSON_FIELDS = [
    "gender", "sensitivity", "has_consent", "consent_given_at", "consent_method",
    "consent_purposes", "consent_withdrawn_at", "do_not_contact", "created_at",
]


class PersonEditorSerializer(serializers.ModelSerializer):
    """A CSO editor's view of its organisation's people (contact data, affiliations)."""

    url = DetailUrlField(view_name="api-person-detail")
    languages = serializers.ListField(child=serializers.CharField(), read_only=True)
    email = serializers.CharField(read_only=True)
    organisations = PersonOrganisationSerializer(source="visible_affiliations", many=True, read_only=True)

    class Meta:
        model = Person
        fields = PUBLIC_PERSON_FIELDS
        read_only_fields = fields


class PersonStaffSerializer(PersonEditorSerializer):
    gender = serializers.ChoiceField(choices=Gender.choices, read_only=True, allow_blank=True)
    sensitivity = serializers.ChoiceField(choices=Sensitivity.choices, read_only=True)
    has_consent = serializers.BooleanField(read_only=True)
    consent_method = serializers.ChoiceField(choices=ConsentMethod.choices, read_only=True, allow_blank=True)
    consent_purposes = serializers.ListField(
        child=serializers.ChoiceField(choices=ConsentPurpose.choices), read_only=True
    )

    class Meta(PersonEditorSerializer.Meta):
        fields = PUBLIC_PERSON_FIELDS + STAFF_PERSON_FIELDS
        read_only_fields = fields


class PersonSerializer(PersonStaffSerializer):
    """Documentation of every role's person: the fields after `updated_at` are for staff."""

    class Meta(PersonStaffSerializer.Meta):
        optional_fields = STAFF_PERSON_FIELDS


# --- me and tokens --------------------------------------------------------------------------

class NamedRefSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()


class MeSerializer(serializers.Serializer):
    username = serializers.CharField()
    roles = serializers.ListField(
        child=serializers.ChoiceField(choices=["admin", "staff", "organiser", "editor", "public"])
    )
    teams = NamedRefSerializer(many=True)
    organisations = NamedRefSerializer(many=True)


class TokenRequestSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=get_user_model()._meta.get_field("username").max_length)
    password = serializers.CharField(max_length=4096, trim_whitespace=False, style={"input_type": "password"})


class TokenSerializer(serializers.Serializer):
    token = serializers.CharField()


# --- contact history ------------------------------------------------------------------------

INTERACTION_FIELDS = [
    "id", "url", "occurred_on", "kind", "subject", "notes", "organisations", "people",
    "staff_participants", "focus_areas", "team", "author", "sensitivity", "follow_up_due",
    "follow_up_assignee", "follow_up_done", "created_at", "updated_at",
]
# Redacted (null or empty) when the caller sees the record's metadata only (administrators,
# records outside their compartment): querysets.InteractionQuerySet.with_readable.
INTERACTION_CONTENT_FIELDS = (
    "subject", "notes", "organisations", "people", "staff_participants", "focus_areas",
    "follow_up_due", "follow_up_assignee", "follow_up_done",
)


class InteractionSerializer(serializers.Serializer):
    """One interaction. Renders only what selectors.interaction_list prefetched (no query per
    row); linked organisations and people are those the caller may see. Records the caller
    may not read (`readable` false) keep their metadata only: content fields are null or []."""

    id = serializers.UUIDField(read_only=True)
    url = DetailUrlField(view_name="api-interaction-detail")
    occurred_on = serializers.DateField(read_only=True)
    kind = serializers.ChoiceField(choices=InteractionKind.choices, read_only=True)
    subject = serializers.CharField(read_only=True, allow_null=True)
    notes = serializers.CharField(read_only=True, allow_null=True)
    organisations = serializers.SerializerMethodField()
    people = serializers.SerializerMethodField()
    staff_participants = serializers.SerializerMethodField()
    focus_areas = serializers.SerializerMethodField()
    team = serializers.UUIDField(source="team_id", read_only=True)
    author = serializers.SerializerMethodField()
    sensitivity = serializers.ChoiceField(choices=InteractionSensitivity.choices, read_only=True)
    follow_up_due = serializers.DateField(read_only=True, allow_null=True)
    follow_up_assignee = serializers.SerializerMethodField()
    follow_up_done = serializers.BooleanField(read_only=True, allow_null=True)
    created_at = serializers.DateTimeField(read_only=True)
    updated_at = serializers.DateTimeField(read_only=True)

    @extend_schema_field(serializers.ListField(child=serializers.UUIDField()))
    def get_organisations(self, obj) -> list[str]:
        return [str(o.pk) for o in obj.organisations.all()]

    @extend_schema_field(serializers.ListField(child=serializers.UUIDField()))
    def get_people(self, obj) -> list[str]:
        return [str(p.pk) for p in obj.people.all()]

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_staff_participants(self, obj) -> list[str]:
        return [u.get_username() for u in obj.staff_participants.all()]

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_focus_areas(self, obj) -> list[str]:
        return [f.slug for f in obj.focus_areas.all()]

    @extend_schema_field(OpenApiTypes.STR)
    def get_author(self, obj) -> str:
        return obj.author.get_username()

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_follow_up_assignee(self, obj) -> str | None:
        return obj.follow_up_assignee.get_username() if obj.follow_up_assignee_id else None

    def to_representation(self, instance):
        if getattr(instance, "readable", False):
            return super().to_representation(instance)
        # Metadata only: never touch the content (nor its prefetched relations).
        data = {}
        for name, field in self.fields.items():
            if name in INTERACTION_CONTENT_FIELDS:
                data[name] = [] if name in ("organisations", "people", "staff_participants", "focus_areas") else None
            else:
                attribute = field.get_attribute(instance)
                data[name] = None if attribute is None else field.to_representation(attribute)
        return data


class InteractionWriteSerializer(serializers.Serializer):
    """The fields a staff writer may set; anything else in the body is a 400. Relations are
    checked by the service (organisations and people the author may not see are "unknown",
    like ids that do not exist)."""

    occurred_on = serializers.DateField()
    kind = serializers.ChoiceField(choices=InteractionKind.choices)
    subject = serializers.CharField(max_length=200, trim_whitespace=False)
    notes = serializers.CharField(
        max_length=NOTES_MAX_LENGTH, allow_blank=True, required=False, trim_whitespace=False
    )
    organisations = serializers.ListField(
        child=serializers.UUIDField(), required=False, max_length=200, help_text="Organisation ids."
    )
    people = serializers.ListField(
        child=serializers.UUIDField(), required=False, max_length=200, help_text="Person ids."
    )
    staff_participants = serializers.ListField(
        child=serializers.CharField(max_length=150), required=False, max_length=100,
        help_text="Usernames of EU staff.",
    )
    focus_areas = serializers.ListField(
        child=serializers.SlugField(max_length=60), required=False, max_length=50,
        help_text="Focus-area slugs.",
    )
    team = serializers.PrimaryKeyRelatedField(
        queryset=Team.objects.all(), required=False, pk_field=serializers.UUIDField(),
        help_text="Owning team; defaults to the author's team.",
    )
    sensitivity = serializers.ChoiceField(choices=InteractionSensitivity.choices, required=False)
    follow_up_due = serializers.DateField(allow_null=True, required=False)
    follow_up_assignee = serializers.SlugRelatedField(
        slug_field="username", queryset=get_user_model().objects.filter(is_active=True),
        allow_null=True, required=False, help_text="Username of a member of the owning team.",
    )
    follow_up_done = serializers.BooleanField(required=False)

    RELATIONS = ("organisations", "people", "staff_participants", "focus_areas")

    def to_internal_value(self, data):
        if isinstance(data, dict):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                raise serializers.ValidationError({name: [CANNOT_WRITE] for name in unknown})
        return super().to_internal_value(data)

    def validate_subject(self, value):
        if not value.strip():
            raise serializers.ValidationError(_("This field may not be blank."))
        return value

    def service_kwargs(self) -> dict:
        """Split validated data into the service's `data` and its relation arguments."""
        validated = dict(self.validated_data)
        kwargs = {name: [str(v) for v in validated.pop(name)] for name in self.RELATIONS if name in validated}
        kwargs["data"] = validated
        return kwargs


# Keep the allowlist in step with the service: a new service field must be added here too.
assert set(InteractionWriteSerializer._declared_fields) == (
    INTERACTION_SERVICE_FIELDS | set(InteractionWriteSerializer.RELATIONS)
)
