from rest_framework.throttling import ScopedRateThrottle, SimpleRateThrottle


class TokenRateThrottle(ScopedRateThrottle):
    scope_attr = "throttle_scope"


class ExportRateThrottle(SimpleRateThrottle):
    """Counts CSV exports only (per user, else per address)."""

    scope = "export"

    def get_cache_key(self, request, view):
        renderer = getattr(request, "accepted_renderer", None)
        if getattr(renderer, "format", None) != "csv":
            return None
        if request.user and request.user.is_authenticated:
            ident = request.user.pk
        else:
            ident = self.get_ident(request)
        return self.cache_format % {"scope": self.scope, "ident": ident}
