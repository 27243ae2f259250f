"""Staff pages for import, likely duplicates and merge; the list page's exports (CSV, XLSX)."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods
from django_countries import countries

from .. import selectors
from ..filtersets import OrganisationFilterSet
from ..identifiers import parse_identifier
from ..models import AccessAction, Organisation
from ..roles import PERM_IMPORT, get_roles
from ..services import audit
from ..services.duplicates import Candidate, find_duplicates
from ..services.exports import iter_csv, write_xlsx
from ..services.imports import COLUMNS, MAX_FILE_BYTES, REQUIRED, organisation_import
from ..services.merge import merge_plan, organisation_merge, related_counts


def can_import(user) -> bool:
    roles = get_roles(user)
    return roles.admin or (roles.staff and user.has_perm(PERM_IMPORT))


def can_merge(user) -> bool:
    roles = get_roles(user)
    return roles.admin or (
        roles.staff and user.has_perm("directory.change_organisation") and user.has_perm("directory.delete_organisation")
    )


# --- import ---------------------------------------------------------------------------------

class ImportForm(forms.Form):
    file = forms.FileField(label=gettext_lazy("CSV (UTF-8) or .xlsx file"))
    dry_run = forms.BooleanField(
        label=gettext_lazy("Dry run: check the file and show the report, write nothing"), required=False, initial=True
    )


@login_required
@require_http_methods(["GET", "POST"])
def organisation_import_view(request):
    if not can_import(request.user):
        raise PermissionDenied
    report = None
    form = ImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        if upload.size > MAX_FILE_BYTES:
            form.add_error("file", _("The file is larger than %(mb)s MB; split it.") % {"mb": MAX_FILE_BYTES // (1024 * 1024)})
        else:
            report = organisation_import(
                actor=request.user, content=upload.read(), filename=upload.name,
                dry_run=form.cleaned_data["dry_run"],
            )
    status = 400 if (report is not None and report.errors) or form.errors else 200
    return render(request, "directory/organisation_import.html", {
        "form": form, "report": report, "columns": COLUMNS, "required": REQUIRED,
    }, status=status)


# --- exports ---------------------------------------------------------------------------------

@require_GET
def organisation_export(request, fmt):
    base = selectors.organisation_list(request.user)
    filterset = OrganisationFilterSet(request.GET, queryset=base, request=request)
    if not filterset.is_valid():
        lines = [f"{field}: {' '.join(errors)}" for field, errors in filterset.form.errors.items()]
        return HttpResponse("\n".join(lines), status=400, content_type="text/plain; charset=utf-8")
    qs = filterset.qs
    roles = get_roles(request.user)
    if roles.staff:
        rows = qs.order_by().count()
        audit.log_access(request=request, action=AccessAction.EXPORT_ORGANISATIONS, object_type="organisation", rows=rows)
    stamp = timezone.localdate().isoformat()
    if fmt == "xlsx":
        response = HttpResponse(
            write_xlsx(qs, internal=roles.internal),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
    else:
        response = StreamingHttpResponse(iter_csv(qs, internal=roles.internal), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="organisations-{stamp}.{fmt}"'
    response["Cache-Control"] = "no-store"
    return response


# --- likely duplicates -------------------------------------------------------------------------

class DuplicateSearchForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=300)
    name_local = forms.CharField(label=gettext_lazy("Name in local script"), max_length=300, required=False)
    country = forms.ChoiceField(label=gettext_lazy("Country"), choices=lambda: [("", "—"), *countries])
    website = forms.CharField(label=gettext_lazy("Website"), max_length=300, required=False)
    identifier = forms.CharField(label=gettext_lazy("Identifier (SCHEME-VALUE)"), max_length=100, required=False)

    def clean_identifier(self):
        value = self.cleaned_data["identifier"].strip()
        if not value:
            return None
        try:
            return parse_identifier(value)
        except ValidationError as exc:
            raise forms.ValidationError(exc.messages) from None


@login_required
@require_GET
def organisation_duplicates(request):
    """Staff check before creating an organisation: who may already be in the directory."""
    roles = get_roles(request.user)
    if not roles.staff:
        raise Http404(_("Nothing to show."))
    form = DuplicateSearchForm(request.GET or None)
    found = None
    if request.GET and form.is_valid():
        data = form.cleaned_data
        candidate = Candidate(
            name=data["name"], name_local=data["name_local"], country=data["country"], website=data["website"],
            identifiers=(data["identifier"],) if data["identifier"] else (),
        )
        found = find_duplicates(candidate, user=request.user)
    return render(request, "directory/organisation_duplicates.html", {
        "form": form, "found": found, "can_add": roles.admin or request.user.has_perm("directory.add_organisation"),
    }, status=400 if form.errors else 200)


# --- merge -------------------------------------------------------------------------------------

@login_required
@require_http_methods(["GET", "POST"])
def organisation_merge_view(request, pk):
    if not can_merge(request.user):
        raise PermissionDenied
    editable = Organisation.objects.editable_by(request.user)
    keep = editable.filter(pk=pk).first()
    other = request.GET.get("other") or request.POST.get("other")
    try:
        lose = editable.filter(pk=other).first() if other else None
    except ValidationError:
        lose = None
    if keep is None or lose is None:
        raise Http404(_("No such organisations to merge."))
    if keep.pk == lose.pk:
        messages.error(request, _("An organisation cannot be merged into itself."))
        return redirect(keep.get_absolute_url())
    if request.method == "POST":
        if request.POST.get("confirm") != "yes":
            messages.error(request, _("Tick the confirmation box to merge."))
        else:
            organisation_merge(actor=request.user, keep=keep, lose=lose)
            messages.success(request, _("%(lose)s was merged into %(keep)s.") % {"lose": lose.name, "keep": keep.name})
            return redirect(keep.get_absolute_url())
    return render(request, "directory/organisation_merge.html", {
        "keep": keep, "lose": lose, "plan": merge_plan(keep=keep, lose=lose),
        "keep_counts": related_counts(keep), "lose_counts": related_counts(lose),
    })
