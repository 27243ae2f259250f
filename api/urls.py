from csp.decorators import csp_update
from django.urls import include, path
from drf_spectacular.views import SpectacularSwaggerSplitView
from rest_framework.routers import SimpleRouter

from . import events, imports, self_service, views

router = SimpleRouter(use_regex_path=False)
router.register("organisations", views.OrganisationViewSet, basename="api-organisation")
router.register("focus-areas", views.FocusAreaViewSet, basename="api-focusarea")
router.register("people", views.PersonViewSet, basename="api-person")
router.register("interactions", views.InteractionViewSet, basename="api-interaction")
router.register("events", events.EventViewSet, basename="api-event")
router.register("events/<uuid:event_pk>/invitations", events.InvitationViewSet, basename="api-invitation")
router.register("me/invitations", events.MyInvitationViewSet, basename="api-my-invitation")
router.register("profile-changes", self_service.ProfileChangeViewSet, basename="api-profilechange")

urlpatterns = [
    path("schema/", views.SchemaView.as_view(), name="schema"),
    # The split view serves its start-up script as a file, so the page needs no inline script
    # under our CSP; Swagger UI's own small <style> block is the one inline style allowed.
    path(
        "docs/",
        csp_update({"style-src": ["'unsafe-inline'"]})(SpectacularSwaggerSplitView.as_view(url_name="schema")),
        name="swagger-ui",
    ),
    path("me/", views.MeView.as_view(), name="api-me"),
    path("auth/token/", views.TokenView.as_view(), name="api-token"),
    path(
        "organisations/<uuid:pk>/interactions/",
        views.OrganisationInteractionsViewSet.as_view({"get": "list"}),
        name="api-organisation-interactions",
    ),
    path(
        "people/<uuid:pk>/interactions/",
        views.PersonInteractionsViewSet.as_view({"get": "list"}),
        name="api-person-interactions",
    ),
    path("organisations/import/", imports.OrganisationImportView.as_view(), name="api-organisation-import"),
    path("", include(router.urls)),
]
