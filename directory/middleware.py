import re
import time
import uuid

_SAFE_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


class RequestIdMiddleware:
    """Gives every request an id (from X-Request-ID when well-formed) for logs and the access log."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.headers.get("X-Request-ID", "")
        request.request_id = incoming if _SAFE_ID.match(incoming) else uuid.uuid4().hex
        response = self.get_response(request)
        response["X-Request-ID"] = request.request_id
        return response


class AdminSecondFactorMiddleware:
    """With OTP_REQUIRED_FOR_ADMINS on, an administrator who signed in without a second
    factor can only reach the second-factor page and sign out until they verify."""

    ALLOWED = ("/accounts/2fa/", "/accounts/logout/", "/accounts/login/", "/static/", "/i18n/")

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        from django.conf import settings
        from django.shortcuts import redirect

        user = getattr(request, "user", None)
        if (
            getattr(settings, "OTP_REQUIRED_FOR_ADMINS", False)
            and user is not None
            and user.is_authenticated
            and user.is_superuser
            and not user.is_verified()
            and not request.path.startswith(self.ALLOWED)
        ):
            if request.path.startswith("/api/"):
                from django.http import JsonResponse
                from django.utils.translation import gettext

                return JsonResponse(
                    {"detail": gettext("Administrators must sign in with a second factor.")},
                    status=403,
                )
            return redirect("two_factor")
        return self.get_response(request)


def database_unavailable(exc: BaseException | None) -> bool:
    """Errors meaning "the database cannot be reached right now" (connection refused or lost,
    server shutting down), as opposed to bugs: those stay 500s."""
    from django.db import InterfaceError, OperationalError

    return isinstance(exc, OperationalError | InterfaceError)


def database_unavailable_response(request):
    """503 with Retry-After; JSON under /api/, a plain page elsewhere. Rendered without the
    request context: the context processors would touch the database again."""
    from django.conf import settings
    from django.http import HttpResponse, JsonResponse
    from django.template.loader import render_to_string
    from django.utils.translation import gettext

    if request.path.startswith("/api/"):
        response = JsonResponse(
            {"detail": gettext("The service is temporarily unavailable. Try again shortly.")}, status=503
        )
    else:
        response = HttpResponse(render_to_string("503.html"), status=503)
    response["Retry-After"] = str(settings.DB_UNAVAILABLE_RETRY_AFTER)
    response["Cache-Control"] = "no-store"
    return response


class DatabaseUnavailableMiddleware:
    """A view failing because the database is gone answers 503 + Retry-After, not a 500 with a
    logged traceback. Failures inside other middleware (sessions) reach handler500, which
    gives the same answer (api.exceptions.handler500). Any open transaction was rolled back by
    the database, so nothing is half written."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if database_unavailable(exception):
            import logging

            logging.getLogger("directory.database").warning(
                "Database unavailable (%s): answered 503", type(exception).__name__
            )
            return database_unavailable_response(request)
        return None


class UserLanguageMiddleware:
    """After LocaleMiddleware: a signed-in user's remembered language (copied into the session
    at sign-in, so no query per request) beats the cookie and Accept-Language."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        from django.conf import settings
        from django.utils import translation

        from .services.preferences import SESSION_KEY

        session = getattr(request, "session", None)
        code = session.get(SESSION_KEY) if session is not None else None
        if code and code in dict(settings.LANGUAGES):
            translation.activate(code)
            request.LANGUAGE_CODE = code
        return self.get_response(request)


class IdleSessionMiddleware:
    """Idle timeout without a session write on every request: a signed-in session is extended
    (saved with a fresh SESSION_COOKIE_AGE) at most once a minute, so it expires 29-30 minutes
    after the last request instead of costing every request an UPDATE in a transaction."""

    KEY = "_idle_touch"
    EVERY = 60

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        session = getattr(request, "session", None)
        if session is not None and not session.is_empty():
            now = int(time.time())
            touched = session.get(self.KEY)
            if not isinstance(touched, int) or not 0 <= now - touched < self.EVERY:
                session[self.KEY] = now
        return response
