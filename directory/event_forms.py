"""Forms of the event pages. Validation of the rules stays in services.events; these forms
parse input and show the service's errors next to the field they name."""

import re

from django import forms
from django.utils.translation import gettext_lazy as _

from .choices import InvitationStatus
from .models import Event, Team
from .models.events import TARGET_DIMENSIONS
from .roles import get_roles

TARGET_LINE = re.compile(r"^\s*(\S+)\s+(\S+)\s*(>=|<=)\s*(\d+(?:\.\d+)?)\s*(%?)\s*$")


def targets_to_text(targets) -> str:
    lines = []
    for t in targets or []:
        sign = ">=" if t["op"] == "at_least" else "<="
        unit = "%" if t.get("unit", "percent") == "percent" else ""
        number = int(t["target"]) if float(t["target"]).is_integer() else t["target"]
        lines.append(f"{t['dimension']} {t['value']} {sign} {number}{unit}")
    return "\n".join(lines)


def parse_targets(text: str) -> list[dict]:
    targets, errors = [], []
    for number, line in enumerate((text or "").splitlines(), start=1):
        if not line.strip():
            continue
        match = TARGET_LINE.match(line)
        if not match or match.group(1) not in TARGET_DIMENSIONS:
            errors.append(
                _(
                    "Line %(n)s: write e.g. “gender female >= 40%%” or “organisation * <= 1” "
                    "(dimensions: %(dims)s)."
                )
                % {"n": number, "dims": ", ".join(TARGET_DIMENSIONS)}
            )
            continue
        dimension, value, sign, amount, percent = match.groups()
        amount = float(amount)
        if percent and amount > 100:
            errors.append(_("Line %(n)s: a percentage cannot be over 100.") % {"n": number})
            continue
        targets.append(
            {
                "dimension": dimension,
                "value": value,
                "op": "at_least" if sign == ">=" else "at_most",
                "unit": "percent" if percent else "count",
                "target": int(amount) if amount.is_integer() else amount,
            }
        )
    if errors:
        raise forms.ValidationError(errors)
    return targets


class EventForm(forms.ModelForm):
    targets_text = forms.CharField(
        label=_("Targets"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=4000,
        help_text=_(
            "One per line: “gender female >= 40%”, “country * >= 15%” (each country), "
            "“organisation * <= 1” (people per organisation)."
        ),
    )

    class Meta:
        model = Event
        fields = [
            "name",
            "starts_on",
            "ends_on",
            "city",
            "country",
            "venue",
            "description",
            "capacity",
            "team",
        ]
        widgets = {
            "starts_on": forms.DateInput(attrs={"type": "date"}),
            "ends_on": forms.DateInput(attrs={"type": "date"}),
        }

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        roles = get_roles(user)
        teams = Team.objects.order_by("name", "id")
        self.fields["team"].queryset = teams if roles.admin else teams.filter(pk__in=roles.team_ids)
        if self.instance.pk:
            self.fields["targets_text"].initial = targets_to_text(self.instance.targets)

    def clean_targets_text(self):
        return parse_targets(self.cleaned_data.get("targets_text", ""))

    def _post_clean(self):
        # Model validation runs in the service (events.event_create / event_update).
        pass

    def service_data(self) -> dict:
        data = {name: self.cleaned_data[name] for name in self.Meta.fields}
        data["targets"] = self.cleaned_data["targets_text"]
        return data


class FromDirectoryForm(forms.Form):
    event = forms.ModelChoiceField(queryset=Event.objects.none(), label=_("Event"))
    per_organisation = forms.IntegerField(
        label=_("Contacts per organisation"),
        min_value=1,
        max_value=10,
        initial=1,
        help_text=_("The primary contact first, then the others by name."),
    )

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["event"].queryset = Event.objects.editable_by(user).order_by(
            "-starts_on", "name", "id"
        )


class BulkStatusForm(forms.Form):
    status = forms.ChoiceField(
        label=_("Set the status of the selected invitations to"),
        choices=[
            (v, lbl) for v, lbl in InvitationStatus.choices if v != InvitationStatus.WAITLISTED
        ],
    )
