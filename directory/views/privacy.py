"""Personal-data pages (SECURITY.md): record consent, subject-access export, erasure.

Access: a person outside `Person.objects.visible_to(user)` answers 404 (existence does not
leak); a visible person the user may not act on answers 403.
"""

import json

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from ..choices import ConsentAction, ConsentMethod, ConsentPurpose
from ..models import Person
from ..roles import PERM_EXPORT_PEOPLE, get_roles
from ..services import audit
from ..services import privacy as privacy_services


class ConsentForm(forms.Form):
    action = forms.ChoiceField(
        label=gettext_lazy("Consent"), choices=ConsentAction.choices, widget=forms.RadioSelect
    )
    purposes = forms.MultipleChoiceField(
        label=gettext_lazy("For"), choices=ConsentPurpose.choices, required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=gettext_lazy("Required when consent is given. A withdrawal withdraws all consent."),
    )
    method = forms.ChoiceField(
        label=gettext_lazy("How"), choices=[("", "—"), *ConsentMethod.choices]
    )
    note = forms.CharField(
        label=gettext_lazy("Note"), max_length=300, required=False,
        help_text=gettext_lazy("Optional, e.g. where the signed form is kept. No sensitive details."),
    )

    def clean(self):
        data = super().clean()
        if data.get("action") == ConsentAction.GIVEN and not data.get("purposes") and "purposes" not in self.errors:
            self.add_error("purposes", _("Choose at least one purpose."))
        return data


def _visible_person(request, pk) -> Person:
    person = Person.objects.visible_to(request.user).filter(pk=pk).first()
    if person is None:
        audit.log_denied_if_restricted(request, Person, pk)
        raise Http404(_("No person found."))
    return person


def can_record_consent(user, person) -> bool:
    return Person.objects.editable_by(user).filter(pk=person.pk).exists()


def can_export(user) -> bool:
    roles = get_roles(user)
    return roles.admin or (roles.staff and user.has_perm(PERM_EXPORT_PEOPLE))


def can_erase(user) -> bool:
    return get_roles(user).admin


@login_required
@require_http_methods(["GET", "POST"])
def consent_record(request, pk):
    person = _visible_person(request, pk)
    if not can_record_consent(request.user, person):
        raise PermissionDenied
    status = 200
    if request.method == "POST":
        form = ConsentForm(request.POST)
        if form.is_valid():
            try:
                privacy_services.consent_record(
                    actor=request.user, person=person, action=form.cleaned_data["action"],
                    purposes=form.cleaned_data["purposes"], method=form.cleaned_data["method"],
                    note=form.cleaned_data["note"],
                )
            except ValidationError as exc:
                for field, errors in exc.message_dict.items():
                    form.add_error(field if field in form.fields else None, errors)
            else:
                messages.success(request, _("Consent recorded."))
                return redirect(person.get_absolute_url())
        status = 400
    else:
        form = ConsentForm()
    return render(
        request, "directory/privacy/consent_form.html", {"person": person, "form": form}, status=status
    )


@login_required
@require_http_methods(["GET"])
def subject_access_export(request, pk):
    person = _visible_person(request, pk)
    if not can_export(request.user):
        raise PermissionDenied
    data = privacy_services.subject_access_export(actor=request.user, person=person, request=request)
    response = HttpResponse(
        json.dumps(data, ensure_ascii=False, indent=2), content_type="application/json; charset=utf-8"
    )
    # The file name carries the id only: names never go into URLs, headers or logs.
    response["Content-Disposition"] = f'attachment; filename="person-{person.pk}.json"'
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_http_methods(["GET", "POST"])
def person_erase(request, pk):
    person = _visible_person(request, pk)
    if not can_erase(request.user):
        raise PermissionDenied
    if request.method == "POST":
        privacy_services.person_erase(actor=request.user, person=person, request=request)
        messages.success(request, _("The person was erased."))
        return redirect(person.get_absolute_url())
    return render(
        request, "directory/privacy/erase_confirm.html",
        {"person": person, "stub_name": privacy_services.erased_name(person)},
    )
