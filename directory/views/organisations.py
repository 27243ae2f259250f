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


def _facet_options(facets, extra, form):
    """Filter options with counts, in the order of the form's choices, counts from the facets."""
    selected = {name: set(form.data.getlist(name)) for name in ("country", "focus_area", "type", "language")}
    areas = list(FocusArea.objects.order_by("position", "id"))
    by_id = {a.id: a for a in areas}
    tree = []
    for area in areas:
        if area.parent_id is None:
            tree.append(area)
    focus = []
    for parent in tree:
        focus.append((parent, False))
        focus.extend((child, True) for child in areas if child.parent_id == parent.id)
    del by_id

    def options(name, pairs, counts):
        return [
            {"value": value, "label": label, "count": counts.get(value, 0), "selected": value in selected[name],
             "child": child}
            for value, label, child in pairs
            if counts.get(value, 0) or value in selected[name]
        ]

    return {
        "country": options("country", [(c, n, False) for c, n in countries], facets["country"]),
        "focus_area": options(
            "focus_area", [(a.slug, a.label, child) for a, child in focus], facets["focus_area"]
        ),
        "type": options("type", [(v, str(lbl), False) for v, lbl in OrganisationType.choices], facets["type"]),
        "language": options("language", [(c, n, False) for c, n in LANGUAGE_CHOICES], extra["language"]),
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
    facets = selectors.organisation_facets(qs)
    extra = selectors.organisation_extra_facets(qs)
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "filterset": filterset,
        "form": filterset.form,
        "valid": valid,
        "page_obj": page,
        "paginator": paginator,
        "page_note": page_note,
        "options": _facet_options(facets, extra, filterset.form),
        "verified_counts": extra["verified"],
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
    }
    return render(request, "directory/organisation_detail.html", context)
