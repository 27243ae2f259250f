from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import render
from django.utils.translation import gettext as _

from .. import selectors
from ..choices import Sensitivity
from ..filtersets import PersonFilterSet
from ..models import AccessAction, Person
from ..roles import get_roles
from ..services import audit


@login_required
def person_list(request):
    roles = get_roles(request.user)
    if not (roles.staff or roles.editor):
        raise Http404(_("No people to show."))
    base = selectors.person_list(request.user)
    filterset = PersonFilterSet(request.GET, queryset=base, request=request)
    valid = filterset.is_valid()
    qs = filterset.qs if valid else base.none()
    page = Paginator(qs, 25).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "directory/person_list.html",
        {"filterset": filterset, "form": filterset.form, "page_obj": page, "valid": valid,
         "querystring": query.urlencode()},
        status=200 if valid else 400,
    )


def _logged_login_required(view):
    """login_required that first logs an anonymous attempt on a restricted person (access log)."""
    protected = login_required(view)

    @wraps(view)
    def wrapper(request, pk, *args, **kwargs):
        if not request.user.is_authenticated:
            audit.log_denied_if_restricted(request, Person, pk)
        return protected(request, pk, *args, **kwargs)

    return wrapper


@_logged_login_required
def person_detail(request, pk):
    person = selectors.person_list(request.user).filter(pk=pk).first()
    if person is None:
        audit.log_denied_if_restricted(request, Person, pk)
        raise Http404(_("No person found."))
    if person.sensitivity == Sensitivity.RESTRICTED:
        audit.log_access(request=request, action=AccessAction.READ_RESTRICTED, obj=person)
    roles = get_roles(request.user)
    context = {"person": person, "roles": roles, "timeline": None}
    status = 200
    if roles.staff:
        from .interactions import timeline

        context["timeline"] = timeline(request, person=person)
        status = 200 if context["timeline"]["valid"] else 400
    return render(request, "directory/person_detail.html", context, status=status)
