"""`/healthz` for load balancers and orchestrators: 200 "ok" when the database answers."""

from django.db import connection
from django.http import HttpResponse
from django.views.decorators.cache import never_cache

from ..middleware import database_unavailable


@never_cache
def healthz(request):
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:
        if not database_unavailable(exc):
            raise
        # Not the middleware's page: probes want a short plain answer.
        from django.conf import settings

        response = HttpResponse("database unavailable\n", content_type="text/plain", status=503)
        response["Retry-After"] = str(settings.DB_UNAVAILABLE_RETRY_AFTER)
        return response
    return HttpResponse("ok\n", content_type="text/plain")
