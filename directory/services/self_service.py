"""CSO self-service (issue 8): editor invitations, proposed profile changes and their
moderation, confirmation of a profile and reminders to confirm.

Nothing an editor writes reaches the organisation directly: `profile_change_propose` stores a
field-level diff; `profile_change_review` applies the approved fields through the ordinary
organisation/person/consent services, with the editor as history author and the moderator
named in the history's change reason.
"""

import copy
import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from ..choices import FieldDecision, ProfileChangeStatus
from ..identifiers import parse_identifier
from ..models import (
    ConfirmationReminder,
    EditorInvitation,
    FocusArea,
    Organisation,
    OrganisationEditor,
    Person,
    ProfileChange,
)
from .organisations import _clean_identifiers, organisation_update
from .people import person_update
from .preferences import language_preference
from .privacy import consent_record

INVITATION_DAYS = 7

# What an editor may propose. Everything else (visibility, status, verification, internal
# notes, confirmation date, identifiers' verified flag, people's sensitivity...) is refused.
ORG_TEXT_FIELDS = ("name", "name_local", "acronym", "city", "website", "email", "phone", "description")
ORG_LIST_FIELDS = ("other_names", "languages")
ORG_FIELDS = (
    "name", "name_local", "other_names", "acronym", "type", "country", "city", "website", "email",
    "phone", "description", "founded_year", "languages", "focus_areas", "identifiers",
)
PERSON_TEXT_FIELDS = ("name", "name_local", "position", "email", "phone")
PERSON_FIELDS = PERSON_TEXT_FIELDS + ("consent",)
CONSENT_PURPOSES = ["directory", "contact"]


def person_key(person_id, field: str) -> str:
    return f"people.{person_id}.{field}"


def split_key(key: str):
    """'people.<id>.<field>' → (id, field); an organisation field → (None, field)."""
    if key.startswith("people."):
        _prefix, pid, field = key.split(".", 2)
        return pid, field
    return None, key


# ----------------------------------------------------------------------------- current values

def organisation_values(organisation: Organisation) -> dict:
    """The proposable fields of an organisation as JSON values (lists sorted where order is
    meaningless), so that they compare with proposals."""
    values = {}
    for name in ORG_FIELDS:
        if name == "country":
            values[name] = organisation.country.code or ""
        elif name == "focus_areas":
            values[name] = sorted(a.slug for a in organisation.focus_areas.all())
        elif name == "identifiers":
            values[name] = sorted(f"{i.scheme}-{i.value}" for i in organisation.identifiers.all())
        elif name in ORG_LIST_FIELDS:
            values[name] = list(getattr(organisation, name) or [])
        else:
            values[name] = getattr(organisation, name)
    return values


def person_values(person: Person) -> dict:
    values = {person_key(person.pk, f): getattr(person, f) for f in PERSON_TEXT_FIELDS}
    values[person_key(person.pk, "consent")] = person.has_consent
    return values


def editable_people(organisation: Organisation, user):
    """The organisation's current people the user may see (an editor: never restricted ones)."""
    from ..models import Affiliation

    return (
        Person.objects.visible_to(user)
        .filter(pk__in=Affiliation.objects.current().filter(organisation=organisation).values("person_id"))
        .order_by("name", "id")
    )


def current_values_for(changes) -> dict:
    """{change.pk: {key: current value}} for many proposals, in a fixed number of queries
    (organisations with focus areas and identifiers, then the people named in the diffs)."""
    changes = list(changes)
    org_ids = {c.organisation_id for c in changes}
    orgs = {
        o.pk: organisation_values(o)
        for o in Organisation.objects.filter(pk__in=org_ids).prefetch_related("focus_areas", "identifiers")
    }
    person_ids = {split_key(k)[0] for c in changes for k in c.diff if k.startswith("people.")}
    people = {}
    if person_ids:
        for person in Person.objects.filter(pk__in=person_ids):
            people.update(person_values(person))
    result = {}
    for change in changes:
        org = orgs.get(change.organisation_id, {})
        result[change.pk] = {
            key: (people.get(key) if key.startswith("people.") else org.get(key)) for key in change.diff
        }
    return result


def field_label(key: str) -> str:
    """The translated name of a proposal key's field, for pages and emails."""
    person_id, field = split_key(key)
    if field == "consent":
        return str(_("consent"))
    model = Person if person_id else Organisation
    try:
        return str(model._meta.get_field(field).verbose_name)
    except Exception:  # a key from an older version of the form
        return field


def diff_rows(change: ProfileChange, current: dict) -> list[dict]:
    """Rows for the side-by-side view and the API: old → new, the value now, and a conflict
    flag when the data changed since the proposal (and not to the proposed value)."""
    rows = []
    for key, entry in change.diff.items():
        now = current.get(key)
        person_id, field = split_key(key)
        rows.append({
            "field": key,
            "name": field,
            "label": field_label(key),
            "person": person_id,
            "person_name": entry.get("person_name", ""),
            "old": entry["old"],
            "new": entry["new"],
            "current": now,
            "conflict": bool(change.is_pending and now != entry["old"] and now != entry["new"]),
            "decision": change.decisions.get(key, ""),
            # For pages; the API gives the code above.
            "decision_label": (
                FieldDecision(change.decisions[key]).label if change.decisions.get(key) else ""
            ),
        })
    return rows


# ----------------------------------------------------------------------------- proposals

def _text(value, errors, key, max_length=None):
    if not isinstance(value, str):
        errors[key] = [_("Enter a text.")]
    elif "\x00" in value:
        errors[key] = [_("Null characters are not allowed.")]
    return value


def _validate_organisation(organisation, changes: dict, errors: dict) -> dict:
    """Check the proposed organisation values on a copy; return them normalised as JSON values."""
    draft = copy.copy(organisation)
    proposed = {}
    for name, value in changes.items():
        if name in ORG_TEXT_FIELDS or name in ("type", "country"):
            _text(value, errors, name)
        elif name == "founded_year":
            if isinstance(value, str) and value.strip().isdigit():
                value = int(value.strip())
            elif isinstance(value, str) and not value.strip():
                value = None
            if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
                errors[name] = [_("Enter a whole number.")]
        elif name in ORG_LIST_FIELDS + ("focus_areas", "identifiers"):
            if not isinstance(value, list):
                errors[name] = [_("Enter a list.")]
            elif name != "identifiers" and not all(isinstance(v, str) and "\x00" not in v for v in value):
                errors[name] = [_("Enter a list of texts.")]
        if name in errors:
            continue
        if name == "focus_areas":
            slugs = sorted(set(value))
            known = set(FocusArea.objects.filter(slug__in=slugs).values_list("slug", flat=True))
            unknown = [s for s in slugs if s not in known]
            if unknown:
                errors[name] = [_("Unknown focus area: %(slug)s.") % {"slug": s} for s in unknown[:5]]
            proposed[name] = slugs
        elif name == "identifiers":
            pairs = []
            for item in value:
                try:
                    if isinstance(item, dict):
                        if set(item) - {"scheme", "value"}:
                            raise ValidationError(
                                _("Only scheme and value can be proposed; the verified flag is set by staff.")
                            )
                        if not all(isinstance(item.get(k), str) for k in ("scheme", "value")):
                            raise ValidationError(_("Each identifier needs a scheme and a value."))
                        pairs.append((item["scheme"], item["value"]))
                    elif isinstance(item, str):
                        pairs.append(parse_identifier(item))
                    else:
                        raise ValidationError(_("Write identifiers as SCHEME-VALUE, e.g. KZ-BIN-950440001673."))
                except ValidationError as exc:
                    errors[name] = list(exc.messages)
                    break
            if name not in errors:
                try:
                    cleaned = _clean_identifiers(organisation, pairs)
                except ValidationError as exc:
                    errors[name] = exc.message_dict.get("identifiers", exc.messages)
                else:
                    proposed[name] = sorted(f"{s}-{v}" for s, v in cleaned)
        else:
            setattr(draft, name, value)
    model_fields = [n for n in changes if n not in ("focus_areas", "identifiers") and n not in errors]
    if model_fields:
        try:
            draft.full_clean(exclude=[f.name for f in Organisation._meta.fields if f.name not in model_fields],
                             validate_unique=False, validate_constraints=False)
        except ValidationError as exc:
            for field, messages in exc.message_dict.items():
                errors.setdefault(field if field in changes else next(iter(model_fields)), []).extend(messages)
        for name in model_fields:
            if name not in errors:
                proposed[name] = draft.country.code if name == "country" else getattr(draft, name)
    return proposed


def _validate_people(organisation, actor, people_changes, errors: dict) -> tuple[dict, dict]:
    """Check proposed values of the organisation's people; return ({key: value}, {id: person})."""
    if not isinstance(people_changes, dict):
        errors["people"] = [_("Enter an object of person id → changes.")]
        return {}, {}
    people = {str(p.pk): p for p in editable_people(organisation, actor).filter(
        pk__in=[pid for pid in people_changes if _is_uuid(pid)])}
    proposed = {}
    for pid, fields in people_changes.items():
        person = people.get(str(pid))
        if person is None:
            errors[f"people.{pid}"[:80]] = [_("No such person at this organisation.")]
            continue
        if not isinstance(fields, dict):
            errors[f"people.{pid}"] = [_("Enter an object of field → value.")]
            continue
        draft = copy.copy(person)
        text_fields = []
        for name, value in fields.items():
            key = person_key(pid, name)
            if name not in PERSON_FIELDS:
                errors[key] = [_("This field cannot be proposed.")]
            elif name == "consent":
                if not isinstance(value, bool):
                    errors[key] = [_("Enter true or false.")]
                else:
                    proposed[key] = value
            else:
                _text(value, errors, key)
                if key not in errors:
                    setattr(draft, name, value)
                    text_fields.append(name)
        if text_fields:
            try:
                draft.full_clean(exclude=[f.name for f in Person._meta.fields if f.name not in text_fields],
                                 validate_unique=False, validate_constraints=False)
            except ValidationError as exc:
                for field, messages in exc.message_dict.items():
                    errors.setdefault(person_key(pid, field), []).extend(messages)
            for name in text_fields:
                if person_key(pid, name) not in errors:
                    proposed[person_key(pid, name)] = getattr(draft, name)
    return proposed, people


def _is_uuid(value) -> bool:
    import uuid

    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True


@transaction.atomic
def profile_change_propose(*, actor, organisation: Organisation, changes: dict, pk=None) -> ProfileChange:
    """Store a proposal: only the fields whose value differs from the current one.

    `changes` is {field: value, ..., "people": {person id: {field: value}}}. Unknown or
    forbidden fields, invalid values and a proposal that changes nothing are errors naming
    the field; nothing is stored then.
    """
    from ..roles import get_roles

    if organisation.pk not in get_roles(actor).editor_org_ids:
        raise ValidationError({"organisation": [_("You are not an editor of this organisation.")]})
    if not isinstance(changes, dict):
        raise ValidationError({"changes": [_("Enter an object of field → value.")]})
    errors = {}
    for name in changes:
        if name not in ORG_FIELDS and name != "people":
            errors[str(name)[:80]] = [_("This field cannot be proposed.")]
    org_changes = {k: v for k, v in changes.items() if k in ORG_FIELDS}
    organisation = (
        Organisation.objects.prefetch_related("focus_areas", "identifiers").get(pk=organisation.pk)
    )
    proposed = _validate_organisation(organisation, org_changes, errors)
    people = {}
    if "people" in changes:
        people_proposed, people = _validate_people(organisation, actor, changes["people"], errors)
        proposed.update(people_proposed)
    if errors:
        raise ValidationError(errors)
    current = organisation_values(organisation)
    for person in people.values():
        current.update(person_values(person))
    diff = {}
    for key, value in proposed.items():
        if current.get(key) != value:
            entry = {"old": current.get(key), "new": value}
            person_id, _field = split_key(key)
            if person_id:
                entry["person_name"] = people[person_id].name
            diff[key] = entry
    if not diff:
        raise ValidationError({"changes": [_("Nothing to propose: every value is the same as now.")]})
    change = ProfileChange(organisation=organisation, author=actor, diff=diff)
    if pk:  # fixed ids for the demo data
        change.pk = pk
    change.full_clean()
    change.save()
    return change


@transaction.atomic
def profile_change_withdraw(*, actor, change: ProfileChange) -> ProfileChange:
    change = ProfileChange.objects.select_for_update().get(pk=change.pk)
    if change.author_id != actor.pk:
        raise ValidationError({"author": [_("Only the author may withdraw a proposal.")]})
    if not change.is_pending:
        raise ValidationError({"status": [_("Only a pending proposal can be withdrawn.")]})
    change.status = ProfileChangeStatus.WITHDRAWN
    change.save(update_fields=["status"])
    return change


def _apply(*, moderator, change: ProfileChange, keys: list[str]) -> None:
    editor = change.author if change.author_id else moderator
    reason = f"Profile change {change.pk}, approved by {moderator.get_username()}"[:100]
    org_data, people_data = {}, {}
    for key in keys:
        person_id, field = split_key(key)
        value = change.diff[key]["new"]
        if person_id:
            people_data.setdefault(person_id, {})[field] = value
        else:
            org_data[field] = value
    if org_data:
        organisation = Organisation.objects.select_for_update().get(pk=change.organisation_id)
        organisation._change_reason = reason
        kwargs = {}
        if "focus_areas" in org_data:
            kwargs["focus_areas"] = org_data.pop("focus_areas")
        if "identifiers" in org_data:
            kwargs["identifiers"] = [parse_identifier(text) for text in org_data.pop("identifiers")]
        organisation_update(actor=editor, organisation=organisation, data=org_data, **kwargs)
    for person_id, data in people_data.items():
        person = Person.objects.filter(pk=person_id).first()
        if person is None:
            raise ValidationError({person_key(person_id, next(iter(data))): [
                _("This person is no longer in the directory.")]})
        consent = data.pop("consent", None)
        if data:
            person._change_reason = reason
            person_update(actor=editor, person=person, data=data)
        if consent is not None and consent != person.has_consent:
            consent_record(
                actor=editor, person=person, action="given" if consent else "withdrawn",
                purposes=CONSENT_PURPOSES, method="web", note=reason,
            )


@transaction.atomic
def profile_change_review(
    *, actor, change: ProfileChange, approve, reason: str = "", notify: bool = True
) -> ProfileChange:
    """Approve the fields in `approve` (keys of the diff) and reject the others.

    A rejection needs a reason. The approved fields are applied through the services; any
    error there rolls the whole review back. The editor is emailed once the review commits.
    """
    from ..roles import PERM_MODERATE, get_roles

    roles = get_roles(actor)
    if not (roles.admin or (roles.staff and actor.has_perm(PERM_MODERATE))):
        raise PermissionDenied(_("You may not moderate profile changes."))
    change = ProfileChange.objects.select_for_update().get(pk=change.pk)
    if not change.is_pending:
        raise ValidationError({"status": [_("This proposal is no longer pending.")]})
    if not isinstance(reason, str) or "\x00" in reason or len(reason) > 2000:
        raise ValidationError({"reason": [_("Enter a text of at most 2000 characters.")]})
    if not isinstance(approve, list | tuple | set | frozenset) or not all(isinstance(k, str) for k in approve):
        raise ValidationError({"fields": [_("Enter a list of field names.")]})
    approve = set(approve)
    unknown = sorted(approve - set(change.diff))
    if unknown:
        raise ValidationError({"fields": [_("Not part of this proposal: %(fields)s.") % {"fields": ", ".join(unknown[:5])}]})
    rejected = [k for k in change.diff if k not in approve]
    if rejected and not reason.strip():
        raise ValidationError({"reason": [_("Say why fields are rejected; the editor will read it.")]})
    approved = [k for k in change.diff if k in approve]
    if approved:
        _apply(moderator=actor, change=change, keys=approved)
    change.decisions = {k: FieldDecision.APPROVED if k in approve else FieldDecision.REJECTED for k in change.diff}
    change.status = (
        ProfileChangeStatus.APPROVED if not rejected
        else ProfileChangeStatus.REJECTED if not approved
        else ProfileChangeStatus.PARTLY_APPROVED
    )
    change.reason = reason.strip()
    change.reviewed_by = actor
    change.reviewed_at = timezone.now()
    change._history_user = actor
    change.save()
    if notify and change.author_id and change.author.email:
        # In the editor's language (their saved choice), not the moderator's.
        with translation.override(_mail_language(change.author)):
            context = {"change": change, "approved": [field_label(k) for k in approved],
                       "rejected": [field_label(k) for k in rejected],
                       "url": settings.SITE_URL + reverse("directory:my_organisation", kwargs={"pk": change.organisation_id})}
            _mail_on_commit(
                subject=_("Your proposed changes to %(name)s were reviewed") % {"name": change.organisation.name},
                template="self_service/email/reviewed.txt", context=context, to=[change.author.email],
            )
    return change


@transaction.atomic
def organisation_confirm(*, actor, organisation: Organisation) -> Organisation:
    """The editor says the profile is up to date: the confirmation date is set, no moderation."""
    from ..roles import get_roles

    if organisation.pk not in get_roles(actor).editor_org_ids:
        raise ValidationError({"organisation": [_("You are not an editor of this organisation.")]})
    organisation = Organisation.objects.select_for_update().get(pk=organisation.pk)
    organisation._change_reason = "Confirmed as up to date by the organisation"
    return organisation_update(actor=actor, organisation=organisation, data={"confirmed_at": timezone.now()})


# ----------------------------------------------------------------------------- mail

def _mail_language(user) -> str:
    """The recipient's saved language, else the active one (the sender's)."""
    return language_preference(user) or translation.get_language() or settings.LANGUAGE_CODE


def _mail_on_commit(*, subject: str, template: str, context: dict, to: list[str]) -> None:
    body = render_to_string(template, context)
    # A subject is one header line: a name holding a line break must not break the mail.
    subject = " ".join(str(subject).split())
    # robust: the change is committed; a mail server failure is logged, not turned into a 500.
    transaction.on_commit(
        lambda: send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, to, fail_silently=False),
        robust=True,
    )


# ----------------------------------------------------------------------------- invitations

class InvitationInvalid(Exception):
    """The token is unknown, used, revoked or expired; `reason` says which."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


@transaction.atomic
def editor_invite(*, actor, organisation: Organisation, email: str) -> tuple[EditorInvitation, str]:
    """Invite `email` to become an editor; returns the invitation and the raw token (only the
    email carries it; only its hash is stored)."""
    email = (email or "").strip().lower() if isinstance(email, str) else ""
    try:
        validate_email(email)
    except ValidationError:
        raise ValidationError({"email": [_("Enter a valid email address.")]}) from None
    token = secrets.token_urlsafe(32)
    invitation = EditorInvitation(
        organisation=organisation, email=email, token_hash=hash_token(token), created_by=actor,
        expires_at=timezone.now() + timedelta(days=INVITATION_DAYS),
    )
    invitation.full_clean()
    invitation.save()
    link = settings.SITE_URL + reverse("invitation_open", kwargs={"token": token})
    _mail_on_commit(
        subject=_("You are invited to keep %(name)s's profile up to date") % {"name": organisation.name},
        template="self_service/email/invitation.txt",
        context={"organisation": organisation, "link": link, "days": INVITATION_DAYS}, to=[email],
    )
    return invitation, token


def invitation_check(token: str, *, lock: bool = False) -> EditorInvitation:
    if not isinstance(token, str) or not token or len(token) > 200:
        raise InvitationInvalid("unknown")
    qs = EditorInvitation.objects.select_related("organisation")
    if lock:
        qs = qs.select_for_update()
    invitation = qs.filter(token_hash=hash_token(token)).first()
    if invitation is None:
        raise InvitationInvalid("unknown")
    if invitation.used_at:
        raise InvitationInvalid("used")
    if invitation.revoked_at:
        raise InvitationInvalid("revoked")
    if invitation.expires_at <= timezone.now():
        raise InvitationInvalid("expired")
    return invitation


@transaction.atomic
def invitation_accept(*, token: str, password: str):
    """Set the password of the invitee's account (created if needed; username = email) and
    make it an editor of the organisation. A token works once."""
    invitation = invitation_check(token, lock=True)
    User = get_user_model()
    user = User.objects.filter(username__iexact=invitation.email).first()
    if user is None:
        user = User(username=invitation.email, email=invitation.email)
    try:
        validate_password(password, user)
    except ValidationError as exc:
        raise ValidationError({"password": list(exc.messages)}) from None
    user.set_password(password)
    user.is_active = True
    user.email = user.email or invitation.email
    user.save()
    OrganisationEditor.objects.get_or_create(
        user=user, organisation=invitation.organisation, defaults={"created_by": invitation.created_by}
    )
    invitation.used_at = timezone.now()
    invitation.user = user
    invitation.save(update_fields=["used_at", "user"])
    return user


@transaction.atomic
def invitation_revoke(*, actor, invitation: EditorInvitation) -> EditorInvitation:
    invitation = EditorInvitation.objects.select_for_update().get(pk=invitation.pk)
    if invitation.used_at or invitation.revoked_at:
        raise ValidationError({"invitation": [_("This invitation was already used or revoked.")]})
    invitation.revoked_at = timezone.now()
    invitation.save(update_fields=["revoked_at"])
    return invitation


@transaction.atomic
def editor_revoke(*, actor, link: OrganisationEditor) -> None:
    """The user stops being an editor of the organisation (from their next request on)."""
    link.delete()


# ----------------------------------------------------------------------------- freshness

@transaction.atomic
def confirmation_reminders_send(*, actor, organisations) -> int:
    """Email each organisation's editors (else its public email) a reminder to confirm its
    profile; returns how many organisations were reminded. Mail leaves on commit."""
    organisations = list(organisations)
    active = translation.get_language() or settings.LANGUAGE_CODE
    editors = {}  # organisation id -> {email: language}; one query for every preference
    for org_id, email, language in OrganisationEditor.objects.filter(
        organisation__in=organisations, user__is_active=True
    ).exclude(user__email="").values_list("organisation_id", "user__email", "user__preference__language"):
        editors.setdefault(org_id, {})[email] = language if language in dict(settings.LANGUAGES) else active
    sent = 0
    for organisation in organisations:
        # Editors in their saved language; the public address in the sender's.
        by_email = editors.get(organisation.pk) or ({organisation.email: active} if organisation.email else {})
        if not by_email:
            continue
        ConfirmationReminder.objects.create(organisation=organisation, sent_by=actor, recipients=len(by_email))
        for language in sorted(set(by_email.values())):
            with translation.override(language):
                _mail_on_commit(
                    subject=_("Please confirm that the profile of %(name)s is up to date") % {"name": organisation.name},
                    template="self_service/email/reminder.txt",
                    context={"organisation": organisation,
                             "url": settings.SITE_URL + reverse("directory:my_organisation", kwargs={"pk": organisation.pk})},
                    to=sorted(e for e, lang in by_email.items() if lang == language),
                )
        sent += 1
    return sent

