"""Event pages (issue 7): list, form, detail with balance and the invitation list, bulk
status, "add these results to an event" (preview, then confirm), exports, .ics, printable
attendance, and "My invitations" for CSO editors.

Access: anonymous users sign in; events are for EU staff and organisers (others get 404);
changes are for the owning team's organisers (403 for staff who may only read).
"""

from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from .. import charts, selectors
from ..choices import InvitationStatus, OrganisationType, SkipReason
from ..event_forms import BulkStatusForm, EventForm, FromDirectoryForm
from ..models import AccessAction, Event, FocusArea, Invitation
from ..roles import get_roles
from ..services import audit, event_exports
from ..services import events as services

PAGE_SIZE = 100
NOT_FILTERS = ("event", "per_organisation", "page", "csrfmiddlewaretoken", "confirm")


def events_required(view):
    @login_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        roles = get_roles(request.user)
        if not (roles.admin or roles.staff or roles.organiser):
            raise Http404(_("Nothing to show."))
        return view(request, *args, **kwargs)

    return wrapper


def _event(request, pk) -> Event:
    event = Event.objects.visible_to(request.user).select_related("team").filter(pk=pk).first()
    if event is None:
        raise Http404(_("No event found."))
    return event


def _editable(request, event) -> bool:
    return Event.objects.editable_by(request.user).filter(pk=event.pk).exists()


def _form_errors(form, exc: ValidationError):
    for field, errors in exc.message_dict.items():
        form.add_error(field if field in form.fields else None, errors)


@events_required
@require_GET
def event_list(request):
    events = selectors.event_list(request.user).order_by("-starts_on", "name", "id")
    page = Paginator(events, 50).get_page(request.GET.get("page"))
    roles = get_roles(request.user)
    return render(
        request,
        "events/event_list.html",
        {
            "page_obj": page,
            "roles": roles,
            "can_create": roles.admin or roles.organiser,
        },
    )


@events_required
@require_http_methods(["GET", "POST"])
def event_form(request, pk=None):
    event = _event(request, pk) if pk else None
    roles = get_roles(request.user)
    if event is not None and not _editable(request, event):
        raise PermissionDenied(_("You may not change this event."))
    if event is None and not (roles.admin or roles.organiser):
        raise PermissionDenied(_("Only organisers create events."))
    form = EventForm(request.POST or None, instance=event, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            if event is None:
                event = services.event_create(actor=request.user, data=form.service_data())
            else:
                event = services.event_update(
                    actor=request.user,
                    event=Event.objects.get(pk=event.pk),
                    data=form.service_data(),
                )
        except ValidationError as exc:
            _form_errors(form, exc)
        else:
            messages.success(request, _("The event was saved."))
            return redirect(event)
    status = 400 if request.method == "POST" else 200
    return render(request, "events/event_form.html", {"form": form, "event": event}, status=status)


DIMENSION_LABELS = {
    "status": gettext_lazy("Status"),
    "country": gettext_lazy("Country"),
    "focus_area": gettext_lazy("Focus area"),
    "type": gettext_lazy("Organisation type"),
    "gender": gettext_lazy("Gender"),
}


def _labels():
    from django_countries import countries

    from ..choices import Gender

    areas = {fa.slug: fa.label for fa in FocusArea.objects.filter(parent__isnull=True)}
    return {
        "status": dict(InvitationStatus.choices),
        "country": dict(countries),
        "focus_area": areas,
        "type": dict(OrganisationType.choices),
        "gender": {**dict(Gender.choices), "unknown": _("Not recorded")},
    }


def balance_view(balance: dict) -> list[dict]:
    """Rows for the balance tables and the SVG bars (percent of the counted invitations;
    status as a percent of every invitation)."""
    labels = _labels()
    every = sum(balance["status"].values())
    groups = []
    for name in ("status", "country", "focus_area", "type", "gender"):
        counts = balance[name]
        base = every if name == "status" else balance["total"]
        rows = []
        for value, n in counts.items():
            if name == "status" and not n:
                continue
            percent = round(100.0 * n / base, 1) if base else 0.0
            rows.append(
                {
                    "value": value,
                    "label": labels[name].get(value, value),
                    "n": n,
                    "percent": percent,
                }
            )
        groups.append(charts.balance_bars(name, str(DIMENSION_LABELS[name]), rows))
    return groups


@events_required
@require_GET
def event_detail(request, pk):
    event = _event(request, pk)
    invitations = selectors.invitation_list(request.user, event)
    wanted, status_error = request.GET.get("status", ""), ""
    if wanted and wanted not in InvitationStatus.values:
        status_error = _("Unknown status: choose one from the list.")
        invitations, wanted = invitations.none(), ""
    elif wanted:
        invitations = invitations.filter(status=wanted)
    page = Paginator(invitations, PAGE_SIZE).get_page(request.GET.get("page"))
    balance = selectors.event_balance(event)
    labels = _labels()
    targets = [
        {
            **t,
            "dimension_label": DIMENSION_LABELS.get(t["dimension"], _("Organisation")),
            "value_label": labels.get(t["dimension"], {}).get(t["value"], t["value"]),
        }
        for t in balance["targets"]
    ]
    seated = balance["status"]["accepted"] + balance["status"]["attended"]
    return render(
        request,
        "events/event_detail.html",
        {
            "event": event,
            "page_obj": page,
            "balance": balance,
            "groups": balance_view(balance),
            "targets": targets,
            "missed": [t for t in targets if not t["met"]],
            "editable": _editable(request, event),
            "bulk_form": BulkStatusForm(),
            "seated": seated,
            "statuses": InvitationStatus.choices,
            "wanted": wanted,
            "roles": get_roles(request.user),
            "querystring": f"status={wanted}" if wanted else "",
            "status_error": status_error,
        },
        status=400 if status_error else 200,
    )


@events_required
@require_POST
def event_bulk_status(request, pk):
    event = _event(request, pk)
    if not _editable(request, event):
        raise PermissionDenied(_("You may not change this event's list."))
    form = BulkStatusForm(request.POST)
    ids = request.POST.getlist("invitation")
    if not form.is_valid():
        messages.error(request, _("Choose a status."))
        return redirect(event)
    try:
        changed = services.invitations_bulk_status(
            actor=request.user, event=event, ids=ids, status=form.cleaned_data["status"]
        )
    except ValidationError as exc:
        for field, errors in exc.message_dict.items():
            for error in errors:
                messages.error(request, f"{field}: {error}")
    else:
        messages.success(
            request,
            ngettext("%(n)s invitation changed.", "%(n)s invitations changed.", len(changed))
            % {"n": len(changed)},
        )
    return redirect(event)


@events_required
@require_GET
def event_export(request, pk, fmt):
    event = _event(request, pk)
    invitations = selectors.invitation_list(request.user, event)
    audit.log_access(
        request=request,
        action=AccessAction.EXPORT_INVITATIONS,
        obj=event,
        rows=invitations.order_by().count(),
    )
    if fmt == "xlsx":
        response = HttpResponse(
            event_exports.write_xlsx(invitations),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
    else:
        response = StreamingHttpResponse(
            event_exports.iter_csv(invitations), content_type="text/csv; charset=utf-8"
        )
    response["Content-Disposition"] = f'attachment; filename="invitations.{fmt}"'
    response["Cache-Control"] = "no-store"
    return response


@events_required
@require_GET
def event_ics(request, pk):
    event = _event(request, pk)
    response = HttpResponse(
        event_exports.event_ics(event, host=request.get_host()),
        content_type="text/calendar; charset=utf-8",
    )
    response["Content-Disposition"] = 'attachment; filename="event.ics"'
    return response


@events_required
@require_GET
def event_attendance(request, pk):
    """A printable sign-in sheet: accepted and attended invitations, by name."""
    event = _event(request, pk)
    rows = selectors.invitation_list(request.user, event).filter(
        status__in=[InvitationStatus.ACCEPTED, InvitationStatus.ATTENDED]
    )
    return render(request, "events/attendance.html", {"event": event, "rows": rows})


# --- add these results to an event --------------------------------------------------------


def _filters(data):
    query = data.copy()
    for name in NOT_FILTERS:
        query.pop(name, None)
    return query


@events_required
@require_http_methods(["GET", "POST"])
def add_from_directory(request):
    """GET: choose the event and see the preview; POST: add everyone previewed in one step."""
    roles = get_roles(request.user)
    if not (roles.admin or roles.organiser):
        raise PermissionDenied(_("Only organisers build invitation lists."))
    data = request.POST if request.method == "POST" else request.GET
    filters = _filters(data)
    form = FromDirectoryForm(data if "event" in data else None, user=request.user)
    preview, status = None, 200
    if form.is_bound and form.is_valid():
        event = form.cleaned_data["event"]
        per_org = form.cleaned_data["per_organisation"]
        try:
            result = services.add_from_directory(
                actor=request.user,
                event=event,
                filters=filters,
                per_organisation=per_org,
                dry_run=request.method != "POST",
            )
        except ValidationError as exc:
            _form_errors(form, exc)
            status = 400
        else:
            if request.method == "POST":
                messages.success(
                    request,
                    _("%(added)s people added to the list; %(skipped)s skipped.")
                    % {"added": len(result.added), "skipped": len(result.skipped)},
                )
                return redirect(event)
            preview = result
    elif form.is_bound:
        status = 400
    reasons = {}
    if preview is not None:
        for skip in preview.skipped:
            reasons[skip.reason] = reasons.get(skip.reason, 0) + 1
    return render(
        request,
        "events/add_from_directory.html",
        {
            "form": form,
            "preview": preview,
            "filters": filters,
            "querystring": filters.urlencode(),
            "filter_items": [(k, v) for k in filters for v in filters.getlist(k)],
            "reason_counts": [(SkipReason(r).label, n) for r, n in reasons.items()],
        },
        status=status,
    )


# --- CSO editors --------------------------------------------------------------------------


@login_required
@require_GET
def my_invitations(request):
    if not get_roles(request.user).editor:
        raise Http404(_("Nothing to show."))
    mine = Invitation.objects.answerable_by(request.user).values("pk")
    rows = (
        selectors.invitation_list(request.user)
        .filter(pk__in=mine)
        .order_by("-event__starts_on", "person__name", "id")
    )
    return render(
        request,
        "events/my_invitations.html",
        {
            "rows": rows,
            "answerable": {
                InvitationStatus.INVITED,
                InvitationStatus.ACCEPTED,
                InvitationStatus.DECLINED,
                InvitationStatus.WAITLISTED,
            },
        },
    )


@login_required
@require_POST
def my_invitation_answer(request, pk, answer):
    if answer not in ("accept", "decline"):
        raise Http404(_("No such answer."))
    invitation = Invitation.objects.answerable_by(request.user).filter(pk=pk).first()
    if invitation is None:
        raise Http404(_("No invitation found."))
    try:
        services.invitation_answer(
            actor=request.user, invitation=invitation, accept=answer == "accept"
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("Thank you, your answer was recorded."))
    return redirect("directory:my_invitations")
