"""The web form for contact history. A plain Form: the services hold the rules and do the writes.

Organisations, people and staff participants are picked without JavaScript: a text box and a
"Find" submit button re-render the form with matching records as checkboxes next to the
chosen ones. `static/directory/js/picker.js` adds suggestions while typing.
"""

import uuid

from django import forms
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _

from .choices import InteractionKind, InteractionSensitivity
from .filtersets import focus_area_choices, search
from .models import Organisation, Person, Team
from .models.interactions import NOTES_MAX_LENGTH

PICK_LIMIT = 20

SENSITIVITY_CHOICES = [
    (InteractionSensitivity.STAFF, _("All EU staff — every member of any EU team can read it.")),
    (InteractionSensitivity.TEAM, _("Owning team only — members of the team chosen above can read it.")),
    (
        InteractionSensitivity.PARTICIPANTS,
        _("Named participants only — only you and the staff participants named below can read it."),
    ),
]

# Form field -> (text box, "Find" button) of its no-JavaScript picker.
PICKERS = {
    "organisations": ("organisation_query", "find_organisations"),
    "people": ("person_query", "find_people"),
    "staff_participants": ("staff_query", "find_staff"),
}


class IdListField(forms.Field):
    """A list of ids from checkboxes; the service checks that each is visible to the user."""

    widget = forms.MultipleHiddenInput

    def __init__(self, *, as_uuid=True, max_items=100, **kwargs):
        self.as_uuid = as_uuid
        self.max_items = max_items
        super().__init__(required=False, **kwargs)

    def to_python(self, value):
        if not value:
            return []
        if isinstance(value, str):
            value = [value]
        values = [str(v).strip() for v in value if str(v).strip()]
        if len(values) > self.max_items:
            raise forms.ValidationError(_("Choose at most %(n)s.") % {"n": self.max_items}, code="max_items")
        if self.as_uuid:
            try:
                values = [str(uuid.UUID(v)) for v in values]
            except ValueError:
                raise forms.ValidationError(_("Unknown choice."), code="invalid") from None
        else:
            if any(len(v) > 150 for v in values):
                raise forms.ValidationError(_("Unknown choice."), code="invalid")
        return list(dict.fromkeys(values))


def user_teams(user):
    return Team.objects.filter(memberships__user=user).order_by("name", "id")


class InteractionForm(forms.Form):
    occurred_on = forms.DateField(label=_("Date"), widget=forms.DateInput(attrs={"type": "date"}))
    kind = forms.ChoiceField(label=_("Kind"), choices=InteractionKind.choices)
    subject = forms.CharField(label=_("Subject"), max_length=200)
    notes = forms.CharField(
        label=_("Notes"), required=False, max_length=NOTES_MAX_LENGTH, widget=forms.Textarea(attrs={"rows": 8}),
        help_text=_("Only EU staff allowed by the setting below can read the notes."),
    )
    organisations = IdListField(label=_("Organisations"))
    people = IdListField(label=_("People"))
    staff_participants = IdListField(label=_("Staff participants"), as_uuid=False)
    focus_areas = forms.MultipleChoiceField(
        label=_("Focus areas"), required=False, widget=forms.CheckboxSelectMultiple
    )
    team = forms.ModelChoiceField(label=_("Owning team"), queryset=Team.objects.none(), empty_label=None)
    sensitivity = forms.ChoiceField(
        label=_("Who may read it"), choices=SENSITIVITY_CHOICES, widget=forms.RadioSelect,
        initial=InteractionSensitivity.TEAM,
    )
    follow_up_due = forms.DateField(
        label=_("Follow-up due"), required=False, widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("Leave empty when nothing needs to follow."),
    )
    follow_up_assignee = forms.ModelChoiceField(
        label=_("Follow-up by"), required=False, queryset=get_user_model().objects.none(),
        empty_label=_("Me"), help_text=_("A member of the owning team."),
    )
    follow_up_done = forms.BooleanField(label=_("Follow-up done"), required=False)

    MULTI_VALUE = frozenset({"organisations", "people", "staff_participants", "focus_areas"})

    organisation_query = forms.CharField(label=_("Find organisations"), required=False, max_length=200)
    person_query = forms.CharField(label=_("Find people"), required=False, max_length=200)
    staff_query = forms.CharField(label=_("Find staff"), required=False, max_length=150)

    def __init__(self, *args, user, instance=None, find_data=None, **kwargs):
        if find_data is not None:
            # "Find": show the typed values again, unvalidated (no errors before Save).
            kwargs["initial"] = {
                name: find_data.getlist(name) if name in self.MULTI_VALUE else find_data.get(name)
                for name in find_data
                if name in self.base_fields
            }
        super().__init__(*args, **kwargs)
        self.user = user
        self.instance = instance
        self.find_data = find_data
        teams = user_teams(user)
        if instance is not None:
            teams = Team.objects.filter(pk__in=[*teams.values_list("pk", flat=True), instance.team_id]).order_by("name", "id")
        self.fields["team"].queryset = teams
        self.fields["focus_areas"].choices = focus_area_choices()
        User = get_user_model()
        self.fields["follow_up_assignee"].queryset = (
            User.objects.filter(is_active=True, team_memberships__team__in=teams.values("pk"))
            .distinct()
            .order_by("username")
        )
        self.fields["follow_up_assignee"].label_from_instance = lambda u: u.get_full_name() or u.get_username()
        if instance is None:
            del self.fields["follow_up_done"]

    @classmethod
    def initial_for(cls, instance):
        return {
            "occurred_on": instance.occurred_on,
            "kind": instance.kind,
            "subject": instance.subject,
            "notes": instance.notes,
            "organisations": [str(pk) for pk in instance.organisations.values_list("pk", flat=True)],
            "people": [str(pk) for pk in instance.people.values_list("pk", flat=True)],
            "staff_participants": list(instance.staff_participants.values_list("username", flat=True)),
            "focus_areas": list(instance.focus_areas.values_list("slug", flat=True)),
            "team": instance.team_id,
            "sensitivity": instance.sensitivity,
            "follow_up_due": instance.follow_up_due,
            "follow_up_assignee": instance.follow_up_assignee_id,
            "follow_up_done": instance.follow_up_done,
        }

    # --- what the service receives -------------------------------------------------------
    def service_data(self) -> dict:
        data = self.cleaned_data
        fields = ["occurred_on", "kind", "subject", "notes", "team", "sensitivity", "follow_up_due", "follow_up_assignee"]
        if "follow_up_done" in self.fields:
            fields.append("follow_up_done")
        return {name: data.get(name) for name in fields}

    def service_relations(self) -> dict:
        data = self.cleaned_data
        return {
            "organisations": data.get("organisations", []),
            "people": data.get("people", []),
            "staff_participants": data.get("staff_participants", []),
            "focus_areas": data.get("focus_areas", []),
        }

    def add_service_errors(self, error) -> None:
        """Put a service ValidationError on the matching fields (the rest on the form)."""
        if hasattr(error, "error_dict"):
            for field, messages in error.message_dict.items():
                self.add_error(field if field in self.fields else None, messages)
        else:
            self.add_error(None, error.messages)

    # --- the pickers ----------------------------------------------------------------------
    @property
    def _raw(self):
        return self.find_data if self.find_data is not None else self.data if self.is_bound else None

    def raw_list(self, name) -> list[str]:
        raw = self._raw
        values = raw.getlist(name) if raw is not None else (self.initial.get(name) or [])
        return [str(v) for v in values][:100]

    def raw_value(self, name) -> str:
        raw = self._raw
        return (raw.get(name) or "").strip()[:200] if raw is not None else ""

    def picker_state(self, name) -> dict:
        """Chosen records (labels read through the access gate) and, after "Find", matches."""
        query_field, button = PICKERS[name]
        chosen_ids = self.raw_list(name)
        query = self.raw_value(query_field)
        searched = self._raw is not None and button in self._raw
        chosen = pick_options(name, self.user, ids=chosen_ids) if chosen_ids else []
        matches = []
        if searched and query:
            chosen_keys = {c["id"] for c in chosen}
            matches = [m for m in pick_options(name, self.user, query=query) if m["id"] not in chosen_keys]
        return {
            "name": name,
            "field": self[name],
            "query_field": self[query_field],
            "button": button,
            "chosen": chosen,
            "matches": matches,
            "searched": searched,
            "query": query,
            "pick_url": {"organisations": "organisations", "people": "people", "staff_participants": "staff"}[name],
        }


def _valid_uuids(ids):
    out = []
    for i in ids:
        try:
            out.append(uuid.UUID(str(i)))
        except ValueError:
            continue
    return out


def pick_options(kind: str, user, *, query: str = "", ids=None) -> list[dict]:
    """At most PICK_LIMIT records for a picker, from the access gate: [{"id", "label"}]."""
    if kind == "organisations":
        qs = Organisation.objects.visible_to(user)
        qs = qs.filter(pk__in=_valid_uuids(ids)) if ids is not None else search(qs, query)
        rows = qs.order_by("name", "id").values("id", "name", "country")[:PICK_LIMIT if ids is None else 100]
        return [{"id": str(r["id"]), "label": f"{r['name']} ({r['country']})"} for r in rows]
    if kind == "people":
        qs = Person.objects.visible_to(user)
        qs = qs.filter(pk__in=_valid_uuids(ids)) if ids is not None else search(qs, query)
        rows = qs.order_by("name", "id").values("id", "name", "position")[:PICK_LIMIT if ids is None else 100]
        return [
            {"id": str(r["id"]), "label": r["name"] + (f" — {r['position']}" if r["position"] else "")}
            for r in rows
        ]
    if kind == "staff_participants":
        from django.db.models import Exists, OuterRef, Q

        from .models import TeamMembership

        User = get_user_model()
        qs = User.objects.filter(
            Exists(TeamMembership.objects.filter(user_id=OuterRef("pk"))), is_active=True
        )
        if ids is not None:
            qs = qs.filter(username__in=list(ids))
        else:
            for word in query.split()[:5]:
                qs = qs.filter(Q(username__icontains=word) | Q(first_name__icontains=word) | Q(last_name__icontains=word))
        rows = qs.order_by("username").values("username", "first_name", "last_name")[:PICK_LIMIT if ids is None else 100]
        options = []
        for r in rows:
            full = f"{r['first_name']} {r['last_name']}".strip()
            options.append({"id": r["username"], "label": f"{full} ({r['username']})" if full else r["username"]})
        return options
    raise ValueError(kind)
