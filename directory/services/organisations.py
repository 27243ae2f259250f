from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from ..identifiers import normalise_scheme, normalise_value, validate_identifier
from ..models import FocusArea, Organisation, OrganisationIdentifier
from .common import apply_fields, set_history_user

# Fields a staff writer may set directly; CSO editors go through profile changes.
ORGANISATION_FIELDS = frozenset(
    {
        "name", "name_local", "other_names", "acronym", "type", "country", "city", "website",
        "email", "phone", "description", "founded_year", "languages", "status", "visibility",
        "internal_notes", "confirmed_at",
    }
)


def _resolve_focus_areas(slugs) -> list[FocusArea]:
    slugs = list(dict.fromkeys(slugs))
    found = {fa.slug: fa for fa in FocusArea.objects.filter(slug__in=slugs)}
    missing = [s for s in slugs if s not in found]
    if missing:
        raise ValidationError({"focus_areas": [_("Unknown focus area: %(slug)s.") % {"slug": s} for s in missing]})
    return [found[s] for s in slugs]


def _clean_identifiers(organisation, identifiers) -> list[tuple[str, str]]:
    cleaned, errors = [], []
    for scheme, value in identifiers:
        scheme, value = normalise_scheme(scheme), normalise_value(value)
        try:
            validate_identifier(scheme, value)
        except ValidationError as exc:
            errors.extend(m for msgs in exc.message_dict.values() for m in msgs)
            continue
        if (scheme, value) not in cleaned:
            cleaned.append((scheme, value))
    if errors:
        raise ValidationError({"identifiers": errors})
    if cleaned:
        from django.db.models import Q

        clash = Q()
        for scheme, value in cleaned:
            clash |= Q(scheme=scheme, value=value)
        taken = OrganisationIdentifier.objects.filter(clash).exclude(organisation=organisation)
        taken = [f"{i.scheme}-{i.value}" for i in taken]
        if taken:
            raise ValidationError(
                {
                    "identifiers": [
                        _("%(identifier)s already belongs to another organisation.")
                        % {"identifier": t}
                        for t in taken
                    ]
                }
            )
    return cleaned


def _set_identifiers(organisation, cleaned):
    existing = {(i.scheme, i.value): i for i in organisation.identifiers.all()}
    for key, ident in existing.items():
        if key not in cleaned:
            ident.delete()
    for scheme, value in cleaned:
        if (scheme, value) not in existing:
            OrganisationIdentifier.objects.create(organisation=organisation, scheme=scheme, value=value)


@transaction.atomic
def organisation_create(
    *, actor, data: dict, focus_areas=None, identifiers=None, verified: bool = False, pk=None
) -> Organisation:
    organisation = Organisation(pk=pk) if pk else Organisation()
    apply_fields(organisation, data, ORGANISATION_FIELDS)
    if verified:
        organisation.verified = True
        organisation.verified_by = actor if getattr(actor, "is_authenticated", False) else None
        organisation.verified_at = timezone.now()
    organisation.full_clean()
    areas = _resolve_focus_areas(focus_areas or [])
    cleaned = _clean_identifiers(organisation, identifiers or [])
    set_history_user(organisation, actor)
    organisation.save()
    if areas:
        organisation.focus_areas.set(areas)
    _set_identifiers(organisation, cleaned)
    return organisation


@transaction.atomic
def organisation_update(
    *, actor, organisation: Organisation, data: dict, focus_areas=None, identifiers=None,
    verified: bool | None = None,
) -> Organisation:
    changed = apply_fields(organisation, data, ORGANISATION_FIELDS)
    if verified is not None and verified != organisation.verified:
        organisation.verified = verified
        organisation.verified_by = actor if verified and getattr(actor, "is_authenticated", False) else None
        organisation.verified_at = timezone.now() if verified else None
        changed.append("verified")
    organisation.full_clean()
    areas = _resolve_focus_areas(focus_areas) if focus_areas is not None else None
    cleaned = _clean_identifiers(organisation, identifiers) if identifiers is not None else None
    set_history_user(organisation, actor)
    if changed:
        organisation.save()
    if areas is not None and set(a.pk for a in areas) != set(organisation.focus_areas.values_list("pk", flat=True)):
        organisation.focus_areas.set(areas)
        if not changed:
            organisation.save(update_fields=["updated_at"])
    if cleaned is not None:
        _set_identifiers(organisation, cleaned)
    return organisation


@transaction.atomic
def organisation_delete(*, actor, organisation: Organisation) -> None:
    set_history_user(organisation, actor)
    organisation.delete()
