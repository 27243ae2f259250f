"""Merge two organisations: everything of the loser moves to the keeper, then the loser goes.

Nothing is lost: affiliations (exact duplicates dropped), identifiers, names (the loser's name,
local name and other names become other names of the keeper), focus areas (union), contact
history links, CSO editor links and any other relation pointing at the loser (found from the
model's relations, so modules added later, such as event invitations, move too). Empty fields of
the keeper are filled from the loser; internal notes are appended. The stricter visibility of
the two is kept, so merging never publishes what was hidden. Every moved row is saved through
the ORM so history records it; the keeper's and the loser's history rows carry the reason
"Merged <loser id> into <keeper id>".
"""

from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from ..choices import Visibility
from ..models import Affiliation, Interaction, Organisation, OrganisationEditor
from .common import set_history_user

FILL_FIELDS = ("name_local", "acronym", "city", "website", "email", "phone", "description",
               "founded_year", "confirmed_at")
VISIBILITY_ORDER = [Visibility.PUBLIC, Visibility.STAFF, Visibility.RESTRICTED]
HANDLED = {"affiliations", "identifiers", "interactions", "editor_links"}


@dataclass
class MergePlan:
    """What a merge will do (shown on the confirmation page) and did (returned)."""

    affiliations: int = 0
    duplicate_affiliations: int = 0
    identifiers: int = 0
    interactions: int = 0
    editor_links: int = 0
    other_names: list = field(default_factory=list)
    focus_areas: list = field(default_factory=list)
    filled: list = field(default_factory=list)
    visibility: str = ""
    other_relations: dict = field(default_factory=dict)


def merge_reason(keep, lose) -> str:
    return f"Merged {lose.pk} into {keep.pk}"


def _affiliation_key(a: Affiliation):
    return (a.person_id, a.role.strip().lower(), a.start_date, a.end_date)


def _other_relations(lose):
    """Relations to Organisation that this module does not know by name (future modules)."""
    for rel in Organisation._meta.related_objects:
        name = rel.get_accessor_name()
        if name in HANDLED:
            continue
        if rel.one_to_many or rel.one_to_one:
            yield name, rel


def merge_plan(*, keep: Organisation, lose: Organisation) -> MergePlan:
    plan = MergePlan()
    keep_keys = {_affiliation_key(a) for a in keep.affiliations.all()}
    for affiliation in lose.affiliations.all():
        if _affiliation_key(affiliation) in keep_keys:
            plan.duplicate_affiliations += 1
        else:
            plan.affiliations += 1
    plan.identifiers = lose.identifiers.count()
    plan.interactions = lose.interactions.exclude(organisations=keep).count()
    plan.editor_links = lose.editor_links.exclude(user__editor_links__organisation=keep).count()
    seen = {keep.name.strip(), *(n.strip() for n in keep.other_names or [])}
    if keep.name_local:
        seen.add(keep.name_local.strip())
    for name in (lose.name, lose.name_local, *(lose.other_names or [])):
        name = (name or "").strip()
        if name and name not in seen:
            if name == lose.name_local and not keep.name_local:
                continue  # fills the keeper's empty local name instead
            seen.add(name)
            plan.other_names.append(name)
    keep_areas = set(keep.focus_areas.values_list("pk", flat=True))
    plan.focus_areas = [fa.slug for fa in lose.focus_areas.all() if fa.pk not in keep_areas]
    plan.filled = [f for f in FILL_FIELDS if getattr(keep, f) in ("", None, []) and getattr(lose, f) not in ("", None, [])]
    if not keep.languages and lose.languages:
        plan.filled.append("languages")
    plan.visibility = max(keep.visibility, lose.visibility, key=VISIBILITY_ORDER.index)
    for name, rel in _other_relations(lose):
        count = rel.related_model._default_manager.filter(**{rel.field.name: lose}).count()
        if count:
            plan.other_relations[name] = count
    return plan


@transaction.atomic
def organisation_merge(*, actor, keep: Organisation, lose: Organisation) -> MergePlan:
    """Move everything of `lose` to `keep`, fill `keep`'s gaps, then delete `lose`."""
    if keep.pk == lose.pk:
        raise ValidationError(_("An organisation cannot be merged into itself."))
    keep = Organisation.objects.select_for_update().get(pk=keep.pk)
    lose = Organisation.objects.select_for_update().get(pk=lose.pk)
    plan = merge_plan(keep=keep, lose=lose)
    reason = merge_reason(keep, lose)

    # People: move affiliations; drop exact duplicates; one current primary contact only.
    keep_keys = {_affiliation_key(a) for a in keep.affiliations.all()}
    keep_has_primary = keep.affiliations.current().filter(is_primary=True).exists()
    for affiliation in lose.affiliations.all():
        set_history_user(affiliation, actor)
        affiliation._change_reason = reason
        if _affiliation_key(affiliation) in keep_keys:
            affiliation.delete()
            continue
        affiliation.organisation = keep
        if affiliation.is_primary and affiliation.is_current and keep_has_primary:
            affiliation.is_primary = False
        affiliation.save()
    # Identifiers (unique across organisations, so no clash).
    for identifier in lose.identifiers.all():
        identifier.organisation = keep
        set_history_user(identifier, actor)
        identifier._change_reason = reason
        identifier.save()
    # Contact history: the m2m signals record each interaction's change in its history.
    for interaction in Interaction.objects.filter(organisations=lose):
        interaction._change_reason = reason
        set_history_user(interaction, actor)
        interaction.organisations.add(keep)
        interaction.organisations.remove(lose)
    from .interactions import contact_history_changed, refresh_staff_contacted_on

    refresh_staff_contacted_on([keep.pk])
    contact_history_changed()
    # CSO editors.
    for link in OrganisationEditor.objects.filter(organisation=lose):
        if OrganisationEditor.objects.filter(organisation=keep, user_id=link.user_id).exists():
            link.delete()
        else:
            link.organisation = keep
            link.save(update_fields=["organisation"])
    # Anything else pointing at the loser (modules added later).
    for _name, rel in _other_relations(lose):
        rel.related_model._default_manager.filter(**{rel.field.name: lose}).update(**{rel.field.name: keep})

    # The keeper's own fields.
    if not keep.name_local and lose.name_local:
        keep.name_local = lose.name_local
    for name in FILL_FIELDS:
        if name != "name_local" and name in plan.filled:
            setattr(keep, name, getattr(lose, name))
    if "languages" in plan.filled:
        keep.languages = list(lose.languages)
    keep.other_names = list(keep.other_names or []) + plan.other_names
    if lose.internal_notes.strip():
        note = f"[Merged from {lose.name} ({lose.pk})]\n{lose.internal_notes.strip()}"
        keep.internal_notes = f"{keep.internal_notes.rstrip()}\n\n{note}".strip()
    if lose.verified and not keep.verified:
        keep.verified, keep.verified_by_id, keep.verified_at = True, lose.verified_by_id, lose.verified_at
    keep.visibility = plan.visibility
    keep.full_clean(validate_constraints=False)
    set_history_user(keep, actor)
    keep._change_reason = reason
    keep.save()
    areas = list(lose.focus_areas.all())
    if areas:
        keep._change_reason = reason
        keep.focus_areas.add(*areas)

    set_history_user(lose, actor)
    lose._change_reason = reason
    lose.delete()
    return plan


def related_counts(organisation: Organisation) -> dict:
    """Counts shown side by side on the merge page."""
    return {
        "affiliations": organisation.affiliations.count(),
        "identifiers": organisation.identifiers.count(),
        "interactions": organisation.interactions.count(),
        "editor_links": organisation.editor_links.count(),
        "focus_areas": organisation.focus_areas.count(),
    }

