"""Forms of the CSO self-service pages. They only shape input; the rules (what may be
proposed, what is valid, what changed) live in services/self_service.py."""

import re

from django import forms
from django.contrib.auth.password_validation import password_validators_help_text_html
from django.utils.translation import gettext_lazy as _
from django_countries import countries

from .choices import OrganisationType
from .models import FocusArea
from .services.self_service import organisation_values, person_key, person_values

SPLIT_LANGUAGES = re.compile(r"[\s,;]+")


def _lines(text: str) -> list[str]:
    return [line.strip() for line in (text or "").replace("\r\n", "\n").split("\n") if line.strip()]


class ProfileForm(forms.Form):
    """The public profile and the organisation's people in one form. `changes()` returns only
    what differs from the current values, in the shape `profile_change_propose` takes."""

    name = forms.CharField(label=_("Name"), max_length=300, strip=False)
    name_local = forms.CharField(label=_("Name in local script"), max_length=300, required=False, strip=False)
    other_names = forms.CharField(
        label=_("Other names"), required=False, widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("One per line: former names, translations, transliterations."),
    )
    acronym = forms.CharField(label=_("Acronym"), max_length=40, required=False, strip=False)
    type = forms.ChoiceField(label=_("Type"), choices=OrganisationType.choices)
    # A callable: the names are sorted and translated in the language of each request.
    country = forms.ChoiceField(label=_("Country"), choices=lambda: list(countries))
    city = forms.CharField(label=_("City"), max_length=120, required=False, strip=False)
    website = forms.CharField(label=_("Website"), max_length=300, required=False)
    email = forms.CharField(label=_("Public email"), max_length=254, required=False)
    phone = forms.CharField(label=_("Public phone"), max_length=40, required=False, strip=False)
    description = forms.CharField(
        label=_("Description"), required=False, max_length=10000, strip=False,
        widget=forms.Textarea(attrs={"rows": 6}),
    )
    founded_year = forms.IntegerField(label=_("Founded in"), required=False)
    languages = forms.CharField(
        label=_("Working languages"), required=False, max_length=300,
        help_text=_("ISO 639-1 codes separated by commas, e.g. ru, ky, en."),
    )
    focus_areas = forms.MultipleChoiceField(
        label=_("Focus areas"), required=False, widget=forms.CheckboxSelectMultiple,
    )
    identifiers = forms.CharField(
        label=_("Identifiers"), required=False, widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("One per line as SCHEME-VALUE, e.g. KG-OKPO-12345678."),
    )

    ORG_FIELDS = [
        "name", "name_local", "other_names", "acronym", "type", "country", "city", "website", "email",
        "phone", "description", "founded_year", "languages", "focus_areas", "identifiers",
    ]
    PERSON_LABELS = {
        "name": _("Name"), "name_local": _("Name in local script"), "position": _("Position"),
        "email": _("Email"), "phone": _("Phone"), "consent": _("Agrees to be listed and contacted"),
    }

    def __init__(self, *args, organisation, people, **kwargs):
        super().__init__(*args, **kwargs)
        self.organisation = organisation
        self.people = list(people)
        self.fields["focus_areas"].choices = [
            (a.slug, a.label) for a in FocusArea.objects.order_by("position", "id")
        ]
        self.current = organisation_values(organisation)
        for person in self.people:
            self.current.update(person_values(person))
        for name in self.ORG_FIELDS:
            self.initial[name] = self._display(name, self.current[name])
        for person in self.people:
            for field, label in self.PERSON_LABELS.items():
                key = person_key(person.pk, field)
                if field == "consent":
                    self.fields[key] = forms.BooleanField(label=label, required=False)
                else:
                    max_length = {"phone": 40, "email": 254}.get(field, 200)
                    self.fields[key] = forms.CharField(label=label, required=field == "name",
                                                       max_length=max_length, strip=False)
                self.initial[key] = self.current[key]

    @staticmethod
    def _display(name, value):
        if name in ("other_names", "identifiers"):
            return "\n".join(value)
        if name == "languages":
            return ", ".join(value)
        return value

    def _parse(self, name, value):
        if name in ("other_names", "identifiers"):
            return _lines(value)
        if name == "languages":
            return [code for code in SPLIT_LANGUAGES.split(value or "") if code]
        if name == "focus_areas":
            return sorted(value)
        if name == "description":
            return (value or "").replace("\r\n", "\n")
        return value

    def org_fields(self):
        return [self[name] for name in self.ORG_FIELDS]

    def person_groups(self):
        return [
            (person, [self[person_key(person.pk, field)] for field in self.PERSON_LABELS])
            for person in self.people
        ]

    def changes(self) -> dict:
        changes = {}
        for name in self.ORG_FIELDS:
            value = self._parse(name, self.cleaned_data.get(name))
            if name == "founded_year":
                current = self.current[name]
            else:
                current = self._parse(name, self._display(name, self.current[name]))
            if value != current:
                changes[name] = value
        people = {}
        for person in self.people:
            for field in self.PERSON_LABELS:
                key = person_key(person.pk, field)
                if self.cleaned_data.get(key) != self.current[key]:
                    people.setdefault(str(person.pk), {})[field] = self.cleaned_data.get(key)
        if people:
            changes["people"] = people
        return changes

    def add_service_errors(self, error) -> None:
        for key, messages in error.message_dict.items():
            if key in self.fields:
                self.add_error(key, messages)
            elif key in ("changes", "__all__"):
                self.add_error(None, messages)
            else:  # a field the form does not show (a person no longer there, say)
                self.add_error(None, [f"{key}: {message}" for message in messages])


class InvitationForm(forms.Form):
    email = forms.EmailField(label=_("Email of the new editor"), max_length=254)


class AcceptInvitationForm(forms.Form):
    password1 = forms.CharField(
        label=_("Choose a password"), strip=False, max_length=128,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=password_validators_help_text_html(),
    )
    password2 = forms.CharField(
        label=_("Repeat the password"), strip=False, max_length=128,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("password1") and cleaned.get("password2") and cleaned["password1"] != cleaned["password2"]:
            self.add_error("password2", _("The two passwords differ."))
        return cleaned


class ReviewForm(forms.Form):
    """One approve/reject choice per field of the proposal, and a reason for rejections."""

    reason = forms.CharField(
        label=_("Reason (required when rejecting)"), required=False, max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args, keys, **kwargs):
        super().__init__(*args, **kwargs)
        self.keys = list(keys)
        for index, key in enumerate(self.keys):
            self.fields[f"decision_{index}"] = forms.ChoiceField(
                choices=[("approve", _("Approve")), ("reject", _("Reject"))], initial="approve",
                widget=forms.RadioSelect, label=key,
            )

    def approved(self) -> list[str]:
        return [key for index, key in enumerate(self.keys) if self.cleaned_data[f"decision_{index}"] == "approve"]
