from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from .views import (
    accounts,
    events,
    health,
    home,
    imports,
    interactions,
    organisations,
    people,
    privacy,
    self_service,
)

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
    # Events and invitation lists (issue 7).
    path("events/", events.event_list, name="event_list"),
    path("events/new/", events.event_form, name="event_create"),
    path("events/add-from-directory/", events.add_from_directory, name="event_add_from_directory"),
    path("events/<uuid:pk>/", events.event_detail, name="event_detail"),
    path("events/<uuid:pk>/edit/", events.event_form, name="event_edit"),
    path("events/<uuid:pk>/status/", events.event_bulk_status, name="event_bulk_status"),
    path("events/<uuid:pk>/invitations.csv", events.event_export, {"fmt": "csv"}, name="event_export_csv"),
    path("events/<uuid:pk>/invitations.xlsx", events.event_export, {"fmt": "xlsx"}, name="event_export_xlsx"),
    path("events/<uuid:pk>/event.ics", events.event_ics, name="event_ics"),
    path("events/<uuid:pk>/attendance/", events.event_attendance, name="event_attendance"),
    path("my/invitations/", events.my_invitations, name="my_invitations"),
    path("my/invitations/<uuid:pk>/<str:answer>/", events.my_invitation_answer, name="my_invitation_answer"),

    # CSO self-service (issue 8).
    path("my/organisations/", self_service.my_organisations, name="my_organisations"),
    path("my/organisations/<uuid:pk>/", self_service.my_organisation, name="my_organisation"),
    path("my/organisations/<uuid:pk>/confirm/", self_service.my_organisation_confirm, name="my_organisation_confirm"),
    path("my/proposals/<uuid:pk>/withdraw/", self_service.proposal_withdraw, name="proposal_withdraw"),
    path("organisations/<uuid:pk>/editors/", self_service.organisation_editors, name="organisation_editors"),
    path("organisations/<uuid:pk>/editors/<int:link_pk>/revoke/", self_service.editor_revoke, name="editor_revoke"),
    path("organisations/<uuid:pk>/invitations/<uuid:invitation_pk>/revoke/", self_service.invitation_revoke,
         name="invitation_revoke"),
    path("moderation/", self_service.moderation_queue, name="moderation_queue"),
    path("moderation/<uuid:pk>/", self_service.moderation_detail, name="moderation_detail"),
    path("freshness/", self_service.freshness, name="freshness"),
]

urlpatterns = [
    # Signed-in EU staff land on their home page; everybody else on the directory.
    path("", home.root, name="root"),
    path("", include((directory_patterns, "directory"))),
    path("accounts/login/", accounts.LoginView.as_view(), name="login"),
    path("accounts/2fa/", accounts.two_factor, name="two_factor"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    # Password reset: Django's views, our templates; invitations to become a CSO editor.
    path("accounts/password-reset/", auth_views.PasswordResetView.as_view(), name="password_reset"),
    path("accounts/password-reset/sent/", auth_views.PasswordResetDoneView.as_view(), name="password_reset_done"),
    path("accounts/reset/<uidb64>/<token>/", auth_views.PasswordResetConfirmView.as_view(),
         name="password_reset_confirm"),
    path("accounts/reset/done/", auth_views.PasswordResetCompleteView.as_view(), name="password_reset_complete"),
    path("accounts/invitation/<str:token>/", self_service.invitation_open, name="invitation_open"),
    path("accounts/invitation/", self_service.invitation_accept, name="invitation_accept"),
    path("api/v1/", include("api.urls")),
    path("admin/", admin.site.urls),
    # Django's set_language, plus remembering the choice for a signed-in user.
    path("i18n/setlang/", accounts.set_language, name="set_language"),
    path("healthz", health.healthz, name="healthz"),
]

# JSON for /api/ paths, the HTML templates elsewhere.
handler400 = "api.exceptions.handler400"
handler403 = "api.exceptions.handler403"
handler404 = "api.exceptions.handler404"
handler500 = "api.exceptions.handler500"
