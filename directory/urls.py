from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.http import HttpResponse
from django.urls import include, path
from django.views.generic import RedirectView

from .views import organisations, people

directory_patterns = [
    path("organisations/", organisations.organisation_list, name="organisation_list"),
    path("organisations/<uuid:pk>/", organisations.organisation_detail, name="organisation_detail"),
    path("people/", people.person_list, name="person_list"),
    path("people/<uuid:pk>/", people.person_detail, name="person_detail"),
]

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="directory:organisation_list", permanent=False)),
    path("", include((directory_patterns, "directory"))),
    path("accounts/login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("api/v1/", include("api.urls")),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("healthz", lambda request: HttpResponse("ok", content_type="text/plain"), name="healthz"),
]
