"""CSO self-service pages (issue 8): "My organisation" for editors, invitations, the
moderation queue and the profile-freshness view for staff."""

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, F, Max, OuterRef, Subquery
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods, require_POST

from ..choices import ProfileChangeStatus
from ..filtersets import ProfileChangeFilterSet
from ..models import (
    ConfirmationReminder,
    EditorInvitation,
    Organisation,
    OrganisationEditor,
    ProfileChange,
)
from ..roles import PERM_MODERATE, get_roles
from ..self_service_forms import AcceptInvitationForm, InvitationForm, ProfileForm, ReviewForm
from ..services import self_service as services

PAGE_SIZE = 25
SESSION_TOKEN = "editor_invitation_token"


def may_moderate(user) -> bool:
    roles = get_roles(user)
    return roles.admin or (roles.staff and user.has_perm(PERM_MODERATE))


# ----------------------------------------------------------------------------- editors

def _own_organisation(request, pk) -> Organisation:
    """An organisation the user edits; any other answers 404 like a missing one."""
    if pk not in get_roles(request.user).editor_org_ids:
        raise Http404(_("No organisation found."))
    organisation = (
        Organisation.objects.visible_to(request.user).prefetch_related("focus_areas", "identifiers")
        .filter(pk=pk).first()
    )
    if organisation is None:
        raise Http404(_("No organisation found."))
    return organisation


@login_required
def my_organisations(request):
    roles = get_roles(request.user)
    organisations = list(Organisation.objects.filter(pk__in=roles.editor_org_ids).order_by("name", "id"))
    if len(organisations) == 1:
        return redirect("directory:my_organisation", pk=organisations[0].pk)
    return render(request, "self_service/my_organisations.html", {"organisations": organisations})


@login_required
@require_http_methods(["GET", "POST"])
def my_organisation(request, pk):
    organisation = _own_organisation(request, pk)
    people = services.editable_people(organisation, request.user)
    form = ProfileForm(request.POST or None, organisation=organisation, people=people)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.profile_change_propose(actor=request.user, organisation=organisation,
                                                changes=form.changes())
            except ValidationError as exc:
                form.add_service_errors(exc)
            else:
                messages.success(request, _("Thank you: your changes were sent to the directory team for review."))
                return redirect("directory:my_organisation", pk=organisation.pk)
        status = 400
    proposals = list(
        ProfileChange.objects.visible_to(request.user)
        .filter(organisation=organisation, author=request.user)
        .select_related("reviewed_by")
    )
    return render(request, "self_service/my_organisation.html", {
        "organisation": organisation, "form": form, "proposals": proposals,
        "rows": {p.pk: services.diff_rows(p, {}) for p in proposals},
    }, status=status)


@login_required
@require_POST
def my_organisation_confirm(request, pk):
    organisation = _own_organisation(request, pk)
    services.organisation_confirm(actor=request.user, organisation=organisation)
    messages.success(request, _("Thank you: the profile is marked as up to date."))
    return redirect("directory:my_organisation", pk=organisation.pk)


@login_required
@require_POST
def proposal_withdraw(request, pk):
    change = (
        ProfileChange.objects.visible_to(request.user).filter(pk=pk, author=request.user).first()
    )
    if change is None:
        raise Http404(_("No proposal found."))
    try:
        services.profile_change_withdraw(actor=request.user, change=change)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("The proposal was withdrawn."))
    return redirect("directory:my_organisation", pk=change.organisation_id)


# ----------------------------------------------------------------------------- invitations

def invitation_open(request, token):
    """The emailed link: keep the token in the session and drop it from the address bar (and
    from any Referer or log that would carry the URL)."""
    request.session[SESSION_TOKEN] = token[:200]
    return redirect("invitation_accept")


@require_http_methods(["GET", "POST"])
def invitation_accept(request):
    token = request.session.get(SESSION_TOKEN, "")
    try:
        invitation = services.invitation_check(token)
    except services.InvitationInvalid as exc:
        return _invitation_invalid(request, exc.reason)
    form = AcceptInvitationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = services.invitation_accept(token=token, password=form.cleaned_data["password1"])
        except services.InvitationInvalid as exc:
            return _invitation_invalid(request, exc.reason)
        except ValidationError as exc:
            form.add_error("password1", exc.message_dict.get("password", exc.messages))
        else:
            request.session.pop(SESSION_TOKEN, None)
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            messages.success(request, _("Welcome: you can now keep your organisation's profile up to date."))
            return redirect("directory:my_organisation", pk=invitation.organisation_id)
    return render(request, "self_service/invitation_accept.html",
                  {"invitation": invitation, "form": form}, status=400 if form.errors else 200)


def _invitation_invalid(request, reason):
    request.session.pop(SESSION_TOKEN, None)
    texts = {
        "unknown": _("This invitation link is not valid. Check that you copied the whole link."),
        "used": _("This invitation was already used. Sign in with the password you chose, or reset it."),
        "revoked": _("This invitation was withdrawn by the directory team."),
        "expired": _("This invitation has expired. Ask the directory team for a new one."),
    }
    return render(request, "self_service/invitation_invalid.html",
                  {"reason": reason, "text": texts[reason]}, status=404 if reason == "unknown" else 410)


def _staff_organisation(request, pk) -> Organisation:
    organisation = Organisation.objects.editable_by(request.user).filter(pk=pk).first()
    if organisation is None or not get_roles(request.user).staff:
        raise Http404(_("No organisation found."))
    return organisation


@login_required
@require_http_methods(["GET", "POST"])
def organisation_editors(request, pk):
    organisation = _staff_organisation(request, pk)
    form = InvitationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.editor_invite(actor=request.user, organisation=organisation, email=form.cleaned_data["email"])
        except ValidationError as exc:
            for key, errors in exc.message_dict.items():
                form.add_error("email" if key == "email" else None, errors)
        else:
            messages.success(request, _("The invitation was sent."))
            return redirect("directory:organisation_editors", pk=organisation.pk)
    context = {
        "organisation": organisation,
        "form": form,
        "editors": OrganisationEditor.objects.filter(organisation=organisation).select_related("user", "created_by"),
        "invitations": EditorInvitation.objects.filter(organisation=organisation).select_related("created_by")[:50],
    }
    return render(request, "self_service/organisation_editors.html", context, status=400 if form.errors else 200)


@login_required
@require_POST
def editor_revoke(request, pk, link_pk):
    organisation = _staff_organisation(request, pk)
    link = OrganisationEditor.objects.filter(organisation=organisation, pk=link_pk).first()
    if link is None:
        raise Http404(_("No editor found."))
    services.editor_revoke(actor=request.user, link=link)
    messages.success(request, _("The editor was removed."))
    return redirect("directory:organisation_editors", pk=organisation.pk)


@login_required
@require_POST
def invitation_revoke(request, pk, invitation_pk):
    organisation = _staff_organisation(request, pk)
    invitation = EditorInvitation.objects.filter(organisation=organisation, pk=invitation_pk).first()
    if invitation is None:
        raise Http404(_("No invitation found."))
    try:
        services.invitation_revoke(actor=request.user, invitation=invitation)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("The invitation was revoked."))
    return redirect("directory:organisation_editors", pk=organisation.pk)


# ----------------------------------------------------------------------------- moderation

def _moderation_queryset(user):
    return ProfileChange.objects.visible_to(user).select_related("organisation", "author", "reviewed_by")


@login_required
def moderation_queue(request):
    if not may_moderate(request.user):
        raise PermissionDenied
    data = request.GET.copy()
    if not data.getlist("status"):
        data.setlist("status", [ProfileChangeStatus.PENDING])
    filterset = ProfileChangeFilterSet(
        data, queryset=_moderation_queryset(request.user).order_by("created_at", "id"), request=request
    )
    valid = filterset.is_valid()
    qs = filterset.qs if valid else ProfileChange.objects.none()
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    current = services.current_values_for(page.object_list)
    items = []
    for change in page.object_list:
        rows = services.diff_rows(change, current[change.pk])
        items.append({"change": change, "rows": rows, "conflicts": sum(r["conflict"] for r in rows)})
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "self_service/moderation_queue.html",
                  {"page_obj": page, "items": items, "filterset": filterset, "querystring": query.urlencode()},
                  status=200 if valid else 400)


@login_required
@require_http_methods(["GET", "POST"])
def moderation_detail(request, pk):
    if not may_moderate(request.user):
        raise PermissionDenied
    change = _moderation_queryset(request.user).filter(pk=pk).first()
    if change is None:
        raise Http404(_("No proposal found."))
    form = ReviewForm(request.POST or None, keys=list(change.diff))
    if request.method == "POST" and change.is_pending and form.is_valid():
        approve = [] if request.POST.get("action") == "reject_all" else form.approved()
        try:
            services.profile_change_review(actor=request.user, change=change, approve=approve,
                                           reason=form.cleaned_data["reason"])
        except ValidationError as exc:
            for key, errors in exc.message_dict.items():
                form.add_error("reason" if key == "reason" else None,
                               errors if key in ("reason", "status", "__all__") else [f"{key}: {e}" for e in errors])
        else:
            messages.success(request, _("The review was saved and the editor informed."))
            return redirect("directory:moderation_queue")
    rows = services.diff_rows(change, services.current_values_for([change])[change.pk])
    for index, row in enumerate(rows):
        row["decision_field"] = form[f"decision_{index}"]
    return render(request, "self_service/moderation_detail.html",
                  {"change": change, "rows": rows, "form": form,
                   "conflicts": sum(r["conflict"] for r in rows)},
                  status=400 if form.errors else 200)


# ----------------------------------------------------------------------------- freshness

@login_required
@require_http_methods(["GET", "POST"])
def freshness(request):
    """Organisations by the date they last confirmed their profile, oldest (and never) first."""
    if not get_roles(request.user).staff:
        raise Http404
    base = Organisation.objects.visible_to(request.user)
    if request.method == "POST":
        ids = [i for i in request.POST.getlist("organisation") if services._is_uuid(i)][:500]
        chosen = list(base.filter(pk__in=ids))
        if not chosen:
            messages.error(request, _("Choose at least one organisation."))
        else:
            sent = services.confirmation_reminders_send(actor=request.user, organisations=chosen)
            skipped = len(chosen) - sent
            # Two messages, so that each count gets its own plural form.
            messages.success(request, ngettext(
                "Reminder sent to %(sent)s organisation.", "Reminders sent to %(sent)s organisations.", sent
            ) % {"sent": sent})
            if skipped:
                messages.warning(request, ngettext(
                    "%(skipped)s organisation has no email address and was skipped.",
                    "%(skipped)s organisations have no email address and were skipped.",
                    skipped,
                ) % {"skipped": skipped})
        return redirect(request.get_full_path())
    qs = base.annotate(
        last_reminded=Subquery(
            ConfirmationReminder.objects.filter(organisation=OuterRef("pk"))
            .values("organisation").annotate(m=Max("sent_at")).values("m")[:1]
        ),
        editor_count=Subquery(
            OrganisationEditor.objects.filter(organisation=OuterRef("pk"))
            .values("organisation").annotate(c=Count("pk")).values("c")[:1]
        ),
    ).order_by(F("confirmed_at").asc(nulls_first=True), "name", "id")
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    return render(request, "self_service/freshness.html", {"page_obj": page})
