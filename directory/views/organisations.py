from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import render
from django.utils.translation import gettext as _
from django_countries import countries

from .. import selectors
from ..choices import LANGUAGE_CHOICES, OrganisationType, Visibility
from ..filtersets import OrganisationFilterSet
from ..models import AccessAction, FocusArea, Organisation
from ..roles import get_roles
from ..services import audit

PAGE_SIZE = 25


FACET_DIMENSIONS = ("country", "focus_area", "type", "language", "verified")


def _dimension_counts(request, base, filterset):
    """Counts per filter value, each dimension counted with the OTHER filters applied, so a
    user can widen a selection (add a second country) without clearing the first."""
    counts = {}
    for name in FACET_DIMENSIONS:
        if not filterset.form.data.getlist(name):
            continue
        data = request.GET.copy()
        data.pop(name, None)
        others = OrganisationFilterSet(data, queryset=base, request=request)
        counts.update(selectors.organisation_facets(others.qs, [name], user=request.user, base=base))
    rest = [n for n in FACET_DIMENSIONS if n not in counts]
    counts.update(selectors.organisation_facets(filterset.qs, rest, user=request.user, base=base))
    return counts


def _facet_options(counts, form):
    """Filter options with counts, in the order of the form's choices."""
    selected = {name: set(form.data.getlist(name)) for name in ("country", "focus_area", "type", "language")}
    areas = list(FocusArea.objects.order_by("position", "id"))
    focus = []
    for parent in (a for a in areas if a.parent_id is None):
        focus.append((parent, False))
        focus.extend((child, True) for child in areas if child.parent_id == parent.id)

    def options(name, pairs):
        found = counts[name]
        return [
            {"value": value, "label": label, "count": found.get(value, 0),
             "selected": value in selected[name], "child": child}
            for value, label, child in pairs
            if found.get(value, 0) or value in selected[name]
        ]

    return {
        "country": options("country", [(c, n, False) for c, n in countries]),
        "focus_area": options("focus_area", [(a.slug, a.label, child) for a, child in focus]),
        "type": options("type", [(v, str(lbl), False) for v, lbl in OrganisationType.choices]),
        "language": options("language", [(c, n, False) for c, n in LANGUAGE_CHOICES]),
    }


def organisation_list(request):
    base = selectors.organisation_list(request.user)
    filterset = OrganisationFilterSet(request.GET, queryset=base, request=request)
    valid = filterset.is_valid()
    qs = filterset.qs if valid else base.none()
    paginator = Paginator(qs, PAGE_SIZE)
    requested = request.GET.get("page", "1")
    page = paginator.get_page(requested)
    page_note = ""
    if requested and str(page.number) != requested.strip():
        page_note = _("Page %(requested)s does not exist; showing page %(shown)s of %(total)s.") % {
            "requested": requested[:20], "shown": page.number, "total": paginator.num_pages,
        }
    if valid:
        counts = _dimension_counts(request, base, filterset)
    else:
        counts = {name: {} for name in FACET_DIMENSIONS}
        counts["verified"] = {"true": 0, "false": 0}
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "filterset": filterset,
        "form": filterset.form,
        "valid": valid,
        "page_obj": page,
        "paginator": paginator,
        "page_note": page_note,
        "options": _facet_options(counts, filterset.form),
        "verified_counts": counts["verified"],
        "querystring": query.urlencode(),
        "has_filters": any(k for k in query if query.get(k)),
        "roles": get_roles(request.user),
    }
    return render(request, "directory/organisation_list.html", context, status=200 if valid else 400)


def organisation_detail(request, pk):
    organisation = selectors.organisation_detail(request.user).filter(pk=pk).first()
    if organisation is None:
        audit.log_denied_if_restricted(request, Organisation, pk)
        raise Http404(_("No organisation found."))
    if organisation.visibility == Visibility.RESTRICTED:
        audit.log_access(request=request, action=AccessAction.READ_RESTRICTED, obj=organisation)
    roles = get_roles(request.user)
    history = []
    if roles.staff:
        history = list(
            organisation.history.select_related("history_user").order_by("-history_date")[:10]
        )
    context = {
        "organisation": organisation,
        "roles": roles,
        "history": history,
        "can_edit": roles.admin or (roles.staff and request.user.has_perm("directory.change_organisation")),
        "timeline": None,
    }
    status = 200
    if roles.staff:
        from .interactions import timeline

        context["timeline"] = timeline(request, organisation=organisation)
        status = 200 if context["timeline"]["valid"] else 400
    return render(request, "directory/organisation_detail.html", context, status=status)
