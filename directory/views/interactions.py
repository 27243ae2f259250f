"""Contact history pages (staff only): list, CSV export, form, detail, follow-ups, pickers.

Access: anonymous users are sent to sign in; signed-in users who are not EU staff get 404.
Records come from `Interaction.objects.visible_to(user)` (selectors.interaction_list) and
carry `readable`: administrators see only the metadata of records they may not read.
"""

from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404, HttpResponse, JsonResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from .. import selectors
from ..choices import REGION_COUNTRIES, InteractionKind
from ..filtersets import InteractionFilterSet, country_choices, focus_area_choices
from ..interaction_forms import PICKERS, InteractionForm, pick_options
from ..models import AccessAction, Interaction, Organisation, Team
from ..roles import get_roles
from ..services import audit
from ..services import interactions as services
from ..services.exports import csv_batches, escape_cell, interaction_chunks

PAGE_SIZE = 25
TIMELINE_PAGE_SIZE = 10
COUNT_CAP = 10_000
# A record's timeline pages over its newest 1,000 (100 pages; the API's cap too): counting up to
# 10,000 linked records cost ~70 ms on a large organisation's page.
TIMELINE_COUNT_CAP = 1_000


class CappedPaginator(Paginator):
    """Pages over at most the newest `cap` (default COUNT_CAP) matching records: a LIMITed
    count, never one of the whole interactions table (1,000,000 rows at full scale); `capped`
    says there are more (the page asks to narrow the filters). A page's ids come first (an
    index-only walk of interaction_date_vis_idx, which covers the compartment columns), then
    its rows by primary key."""

    def __init__(self, *args, cap=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.cap = cap

    @property
    def limit(self) -> int:
        return COUNT_CAP if self.cap is None else self.cap

    @cached_property
    def total(self) -> int:
        return self.object_list.order_by().values("pk")[: self.limit + 1].count()

    def page(self, number):
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        top = min(bottom + self.per_page, self.count)
        ids = list(self.object_list.values_list("pk", flat=True)[bottom:top])
        return self._get_page(self.object_list.filter(pk__in=ids), number, self)

    @property
    def capped(self) -> bool:
        return self.total > self.limit

    @cached_property
    def count(self) -> int:
        return min(self.total, self.limit)
TIMELINE_PARAMS = ("kind", "occurred_after", "occurred_before")


def staff_required(view):
    """Anonymous: redirect to sign in. Signed in but not EU staff: 404 (nothing to see)."""

    @login_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not get_roles(request.user).staff:
            raise Http404(_("Nothing to show."))
        return view(request, *args, **kwargs)

    return wrapper


def _querystring(request, drop=("page",)) -> str:
    query = request.GET.copy()
    for name in drop:
        query.pop(name, None)
    return query.urlencode()


# --- list -------------------------------------------------------------------------------

def _country_choices():
    """Central Asia first, then every other country."""
    region = [(code, name) for code, name in country_choices() if code in REGION_COUNTRIES]
    region.sort(key=lambda pair: REGION_COUNTRIES.index(pair[0]))
    return region + [(code, name) for code, name in country_choices() if code not in REGION_COUNTRIES]


@staff_required
@require_GET
def interaction_list(request):
    base = selectors.interaction_list(request.user)
    filterset = InteractionFilterSet(request.GET, queryset=base, request=request)
    valid = filterset.is_valid()
    qs = filterset.qs if valid else base.none()
    page = CappedPaginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    form = filterset.form
    chosen_person = chosen_organisation = None
    if valid and form.cleaned_data.get("person"):
        chosen_person = form.cleaned_data["person"]
    if valid and form.cleaned_data.get("organisation"):
        chosen_organisation = form.cleaned_data["organisation"]
    query = _querystring(request)
    context = {
        "filterset": filterset,
        "form": form,
        "valid": valid,
        "page_obj": page,
        "querystring": query,
        "export_query": _querystring(request, drop=("page",)),
        "has_filters": bool(query),
        "team_choices": Team.objects.order_by("name", "id").only("id", "name"),
        "kind_choices": InteractionKind.choices,
        "country_choices": _country_choices(),
        "focus_area_choices": focus_area_choices(),
        "chosen_person": chosen_person,
        # Not a <select> of every organisation: at 50,000 of them the page weighed 4 MB.
        "chosen_organisation": chosen_organisation,
        "selected": {name: form.data.getlist(name) for name in ("kind", "country", "focus_area")},
    }
    return render(request, "crm/interaction_list.html", context, status=200 if valid else 400)


# --- CSV export -------------------------------------------------------------------------

CSV_COLUMNS = [
    "id", "occurred_on", "kind", "subject", "notes", "organisations", "people", "staff_participants",
    "focus_areas", "team", "author", "sensitivity", "follow_up_due", "follow_up_assignee", "follow_up_done",
]
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_safe(value) -> str:
    """Spreadsheets run cells that start like a formula; prefix them with a quote."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def interaction_csv_row(i) -> list[str]:
    """One row; records the user may not read keep their metadata only."""
    readable = getattr(i, "readable", False)
    row = {
        "id": i.pk,
        "occurred_on": i.occurred_on.isoformat(),
        "kind": i.kind,
        "team": i.team.name,
        "author": i.author.get_username(),
        "sensitivity": i.sensitivity,
    }
    if readable:
        row.update(
            subject=i.subject,
            notes=i.notes,
            organisations=";".join(o.name for o in i.organisations.all()),
            people=";".join(p.name for p in i.people.all()),
            staff_participants=";".join(u.get_username() for u in i.staff_participants.all()),
            focus_areas=";".join(f.slug for f in i.focus_areas.all()),
            follow_up_due=i.follow_up_due.isoformat() if i.follow_up_due else "",
            follow_up_assignee=i.follow_up_assignee.get_username() if i.follow_up_assignee else "",
            follow_up_done="true" if i.follow_up_done else "false",
        )
    return [csv_safe(row.get(name, "")) for name in CSV_COLUMNS]


CSV_VALUES = ("pk", "occurred_on", "kind", "team__name", "author__username", "sensitivity", "readable", "subject",
              "notes", "follow_up_due", "follow_up_assignee__username", "follow_up_done")


def interaction_csv_batches(qs, user):
    """The export's rows, as interaction_csv_row makes them, a chunk at a time (lists of
    tuples): plain values and each chunk's links in one query per relation
    (services.exports.interaction_chunks). Ids, dates and choices never start like a formula;
    only free text is escaped."""
    for chunk, links in interaction_chunks(qs, user, CSV_VALUES):
        organisations, people = links["organisations"], links["people"]
        participants, areas = links["staff_participants"], links["focus_areas"]
        batch = []
        append = batch.append
        for pk, occurred_on, kind, team, author, sensitivity, readable, subject, notes, due, assignee, done in chunk:
            if readable:
                append((
                    str(pk), occurred_on.isoformat(), kind, escape_cell(subject), escape_cell(notes),
                    escape_cell(organisations.get(pk, "")), escape_cell(people.get(pk, "")),
                    escape_cell(participants.get(pk, "")), escape_cell(areas.get(pk, "")), escape_cell(team),
                    escape_cell(author), sensitivity, due.isoformat() if due else "", escape_cell(assignee),
                    "true" if done else "false",
                ))
            else:
                append((str(pk), occurred_on.isoformat(), kind, "", "", "", "", "", "", escape_cell(team),
                        escape_cell(author), sensitivity, "", "", ""))
        yield batch


def interaction_csv_rows(qs, user):
    """interaction_csv_batches, one row (a list of cells) at a time."""
    for batch in interaction_csv_batches(qs, user):
        for row in batch:
            yield list(row)


@staff_required
@require_GET
def interaction_export(request):
    base = selectors.interaction_list(request.user)
    filterset = InteractionFilterSet(request.GET, queryset=base, request=request)
    if not filterset.is_valid():
        lines = [f"{field}: {' '.join(errors)}" for field, errors in filterset.form.errors.items()]
        return HttpResponse("\n".join(lines), status=400, content_type="text/plain; charset=utf-8")
    qs = filterset.qs
    # One COUNT, logged before streaming: the log exists even if the download is interrupted.
    rows = qs.order_by().count()
    audit.log_access(request=request, action=AccessAction.EXPORT_INTERACTIONS, object_type="interaction", rows=rows)
    lines = csv_batches(CSV_COLUMNS, interaction_csv_batches(qs, request.user), bom=True)
    response = StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8")
    stamp = timezone.localdate().isoformat()
    response["Content-Disposition"] = f'attachment; filename="interactions-{stamp}.csv"'
    response["Cache-Control"] = "no-store"
    return response


# --- detail and follow-up ----------------------------------------------------------------

def _visible_interaction(request, pk) -> Interaction:
    interaction = selectors.interaction_list(request.user).filter(pk=pk).first()
    if interaction is None:
        raise Http404(_("No interaction found."))
    return interaction


@staff_required
@require_GET
def interaction_detail(request, pk):
    interaction = _visible_interaction(request, pk)
    editable = Interaction.objects.editable_by(request.user).filter(pk=pk).exists()
    can_complete = editable or interaction.follow_up_assignee_id == request.user.pk
    history = []
    if interaction.readable:
        history = list(interaction.history.select_related("history_user").order_by("-history_date")[:10])
    return render(
        request,
        "crm/interaction_detail.html",
        {"interaction": interaction, "editable": editable, "can_complete": can_complete, "history": history},
    )


def _safe_next(request, fallback):
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                                  require_https=request.is_secure()):
        return target
    return fallback


@staff_required
@require_POST
def follow_up_done(request, pk):
    # The assignee may close a follow-up even on a record whose content they may not read.
    interaction = (
        Interaction.objects.filter(pk=pk)
        .filter(Q(pk__in=Interaction.objects.visible_to(request.user).values("pk")) | Q(follow_up_assignee=request.user))
        .first()
    )
    if interaction is None:
        raise Http404(_("No interaction found."))
    done = request.POST.get("done", "true") != "false"
    services.follow_up_complete(actor=request.user, interaction=interaction, done=done)  # 403 if not allowed
    messages.success(request, _("Follow-up marked as done.") if done else _("Follow-up reopened."))
    return redirect(_safe_next(request, interaction.get_absolute_url()))


# --- form -------------------------------------------------------------------------------

def _prefill(request, user) -> dict:
    """?organisation=<id> / ?person=<id>: only records the user may see."""
    initial = {}
    org_id = request.GET.get("organisation", "")
    person_id = request.GET.get("person", "")
    if org_id:
        found = pick_options("organisations", user, ids=[org_id])
        if found:
            initial["organisations"] = [found[0]["id"]]
    if person_id:
        found = pick_options("people", user, ids=[person_id])
        if found:
            initial["people"] = [found[0]["id"]]
            if not org_id:
                from ..models import Affiliation

                orgs = (
                    Affiliation.objects.current()
                    .filter(person_id=found[0]["id"],
                            organisation__in=Organisation.objects.visible_to(user).values("pk"))
                    .values_list("organisation_id", flat=True)[:5]
                )
                initial["organisations"] = [str(o) for o in orgs]
    return initial


def _render_form(request, form, interaction=None, status=200):
    context = {
        "form": form,
        "interaction": interaction,
        "pickers": [form.picker_state(name) for name in PICKERS],
        "has_team": form.fields["team"].queryset.exists(),
    }
    return render(request, "crm/interaction_form.html", context, status=status)


def _handle_form(request, interaction=None):
    if request.method == "GET":
        if interaction is None:
            initial = {"occurred_on": timezone.localdate(), **_prefill(request, request.user)}
            first_team = services.default_team(request.user)
            if first_team:
                initial["team"] = first_team.pk
        else:
            initial = InteractionForm.initial_for(interaction)
        form = InteractionForm(initial=initial, user=request.user, instance=interaction)
        return _render_form(request, form, interaction)

    if any(button in request.POST for _query, button in PICKERS.values()):
        # "Find": re-render with what was typed and the matches; write nothing.
        form = InteractionForm(user=request.user, instance=interaction, find_data=request.POST)
        return _render_form(request, form, interaction)
    form = InteractionForm(request.POST, user=request.user, instance=interaction)
    if form.is_valid():
        try:
            if interaction is None:
                saved = services.interaction_create(
                    actor=request.user, data=form.service_data(), **form.service_relations()
                )
            else:
                saved = services.interaction_update(
                    actor=request.user, interaction=interaction, data=form.service_data(),
                    **form.service_relations(),
                )
        except ValidationError as error:
            form.add_service_errors(error)
        else:
            messages.success(request, _("Interaction saved."))
            return redirect(saved)
    return _render_form(request, form, interaction, status=400)


@staff_required
@require_http_methods(["GET", "POST"])
def interaction_create(request):
    return _handle_form(request)


@staff_required
@require_http_methods(["GET", "POST"])
def interaction_edit(request, pk):
    if not Interaction.objects.visible_to(request.user).filter(pk=pk).exists():
        raise Http404(_("No interaction found."))
    interaction = Interaction.objects.editable_by(request.user).filter(pk=pk).first()
    if interaction is None:
        raise PermissionDenied(_("You may not change this interaction."))
    return _handle_form(request, interaction)


# --- pickers (JSON for the progressive enhancement) ---------------------------------------

PICK_KINDS = {"organisations": "organisations", "people": "people", "staff": "staff_participants"}


@staff_required
@require_GET
def pick(request, kind):
    if kind not in PICK_KINDS:
        raise Http404(_("Nothing to show."))
    query = (request.GET.get("q") or "").strip()[:200]
    results = pick_options(PICK_KINDS[kind], request.user, query=query) if query else []
    response = JsonResponse({"results": results})
    response["Cache-Control"] = "no-store"
    return response


# --- timelines on organisation and person pages -----------------------------------------

def timeline(request, *, organisation=None, person=None) -> dict:
    """Interactions linked to the record that the user may see, newest first, filterable by
    kind and date range; the InteractionFilterSet with the record fixed."""
    data = request.GET.copy()
    for key in list(data.keys()):
        if key not in TIMELINE_PARAMS:
            data.pop(key)
    if organisation is not None:
        data["organisation"] = str(organisation.pk)
    if person is not None:
        data["person"] = str(person.pk)
    base = selectors.interaction_list(request.user)
    filterset = InteractionFilterSet(data, queryset=base, request=request)
    valid = filterset.is_valid()
    qs = filterset.qs if valid else base.none()
    page = CappedPaginator(qs, TIMELINE_PAGE_SIZE, cap=TIMELINE_COUNT_CAP).get_page(request.GET.get("page"))
    query = request.GET.copy()
    for key in list(query.keys()):
        if key not in TIMELINE_PARAMS:
            query.pop(key)
    return {
        "form": filterset.form,
        "valid": valid,
        "page_obj": page,
        "querystring": query.urlencode(),
        "kind_choices": InteractionKind.choices,
        "selected_kinds": data.getlist("kind"),
        "new_query": f"organisation={organisation.pk}" if organisation is not None else f"person={person.pk}",
    }
