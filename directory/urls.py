from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.http import HttpResponse
from django.urls import include, path

from .views import accounts, home, imports, interactions, organisations, people, privacy

directory_patterns = [
    path("organisations/", organisations.organisation_list, name="organisation_list"),
    path("organisations/<uuid:pk>/", organisations.organisation_detail, name="organisation_detail"),
    # Import, export, likely duplicates and merge (issue 5).
    path("organisations/import/", imports.organisation_import_view, name="organisation_import"),
    path("organisations/export.csv", imports.organisation_export, {"fmt": "csv"}, name="organisation_export_csv"),
    path("organisations/export.xlsx", imports.organisation_export, {"fmt": "xlsx"}, name="organisation_export_xlsx"),
    path("organisations/duplicates/", imports.organisation_duplicates, name="organisation_duplicates"),
    path("organisations/<uuid:pk>/merge/", imports.organisation_merge_view, name="organisation_merge"),
    path("people/", people.person_list, name="person_list"),
    path("people/<uuid:pk>/", people.person_detail, name="person_detail"),
    path("people/<uuid:pk>/consent/", privacy.consent_record, name="person_consent"),
    path("people/<uuid:pk>/export/", privacy.subject_access_export, name="person_export"),
    path("people/<uuid:pk>/erase/", privacy.person_erase, name="person_erase"),
    # Contact history (staff only) and the staff home page.
    path("home/", home.home, name="home"),
    path("interactions/", interactions.interaction_list, name="interaction_list"),
    path("interactions/export.csv", interactions.interaction_export, name="interaction_export"),
    path("interactions/new/", interactions.interaction_create, name="interaction_create"),
    path("interactions/pick/<str:kind>/", interactions.pick, name="interaction_pick"),
    path("interactions/<uuid:pk>/", interactions.interaction_detail, name="interaction_detail"),
    path("interactions/<uuid:pk>/edit/", interactions.interaction_edit, name="interaction_edit"),
    path("interactions/<uuid:pk>/follow-up/", interactions.follow_up_done, name="interaction_follow_up"),
]

urlpatterns = [
    # Signed-in EU staff land on their home page; everybody else on the directory.
    path("", home.root, name="root"),
    path("", include((directory_patterns, "directory"))),
    path("accounts/login/", accounts.LoginView.as_view(), name="login"),
    path("accounts/2fa/", accounts.two_factor, name="two_factor"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("api/v1/", include("api.urls")),
    path("admin/", admin.site.urls),
    # Django's set_language, plus remembering the choice for a signed-in user.
    path("i18n/setlang/", accounts.set_language, name="set_language"),
    path("healthz", lambda request: HttpResponse("ok", content_type="text/plain"), name="healthz"),
]

# JSON for /api/ paths, the HTML templates elsewhere.
handler400 = "api.exceptions.handler400"
handler403 = "api.exceptions.handler403"
handler404 = "api.exceptions.handler404"
handler500 = "api.exceptions.handler500"
