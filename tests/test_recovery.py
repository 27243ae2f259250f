"""Recovery (issue 9 point 4): /healthz, 503 + Retry-After when the database is unavailable,
and persistent connections that heal themselves after PostgreSQL drops them."""

import io
import socket
import time

import psycopg
import pytest
from django.core.handlers.wsgi import WSGIHandler
from django.db import OperationalError, connection
from django.test import Client

from tests import factories


def _fail_every_query(execute, sql, params, many, context):
    raise OperationalError("server closed the connection unexpectedly")


def _assert_503(response, *, json_body: bool):
    assert response.status_code == 503
    assert int(response["Retry-After"]) > 0
    body = response.content.decode()
    assert (
        "Traceback" not in body and "OperationalError" not in body and "server closed" not in body
    )
    if json_body:
        assert response["Content-Type"] == "application/json"
        assert "unavailable" in response.json()["detail"]
    else:
        assert "Temporarily unavailable" in body


@pytest.mark.django_db
def test_healthz_checks_the_database(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.content == b"ok\n"
    assert "no-cache" in response["Cache-Control"]
    with connection.execute_wrapper(_fail_every_query):
        response = client.get("/healthz")
    assert response.status_code == 503 and int(response["Retry-After"]) > 0


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path, json_body", [("/organisations/", False), ("/api/v1/organisations/", True)]
)
def test_pages_and_api_answer_503_when_queries_fail(path, json_body, staff_user):
    factories.OrganisationFactory()
    anonymous = Client()
    signed_in = Client(raise_request_exception=False)
    signed_in.force_login(staff_user)
    with connection.execute_wrapper(_fail_every_query):
        # Anonymous: the view's query fails (DatabaseUnavailableMiddleware). Signed in: saving
        # the session fails too, in SessionMiddleware after the view (handler500).
        _assert_503(anonymous.get(path), json_body=json_body)
        _assert_503(signed_in.get(path), json_body=json_body)


@pytest.mark.django_db
def test_a_write_interrupted_by_the_database_leaves_nothing_half_written(staff_user):
    from rest_framework.test import APIClient

    organisation = factories.OrganisationFactory(name="Before", focus_areas=[])
    history_before = organisation.history.count()
    api = APIClient(raise_request_exception=False)
    api.force_authenticate(staff_user)
    url = f"/api/v1/organisations/{organisation.pk}/"

    def fail_on_history(execute, sql, params, many, context):
        # The organisation row is updated first; its history row would follow.
        if sql.startswith('INSERT INTO "directory_historicalorganisation"'):
            raise OperationalError("terminating connection due to administrator command")
        return execute(sql, params, many, context)

    with connection.execute_wrapper(fail_on_history):
        response = api.patch(url, {"name": "After"}, format="json")
    _assert_503(response, json_body=True)
    organisation.refresh_from_db()
    assert organisation.name == "Before"
    assert organisation.history.count() == history_before


def _wsgi_get(handler, path):
    """One request through the real WSGI handler (request_started/finished signals included,
    unlike the test client, which skips the per-request connection housekeeping)."""
    environ = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "443",
        "HTTP_HOST": "testserver",
        "HTTP_X_FORWARDED_PROTO": "https",
        "wsgi.url_scheme": "https",
        "wsgi.input": io.BytesIO(b""),
        "wsgi.errors": io.StringIO(),
    }
    status = []
    body = b"".join(handler(environ, lambda s, headers, exc_info=None: status.append(s)))
    return int(status[0].split()[0]), body


def _admin_connection():
    settings = connection.settings_dict
    return psycopg.connect(
        dbname="postgres",
        user=settings["USER"] or None,
        host=settings["HOST"] or None,
        port=settings["PORT"] or None,
        password=settings["PASSWORD"] or None,
        autocommit=True,
    )


@pytest.mark.postgresql
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_next_request_succeeds_after_postgresql_kills_the_apps_connections():
    factories.OrganisationFactory(name="Survivor")
    handler = WSGIHandler()
    status, body = _wsgi_get(handler, "/api/v1/organisations/")
    assert status == 200 and b"Survivor" in body
    # The connection is persistent (CONN_MAX_AGE): the same backend serves the next request...
    backend = connection.connection.info.backend_pid
    assert _wsgi_get(handler, "/healthz")[0] == 200
    assert connection.connection.info.backend_pid == backend

    # ...until PostgreSQL terminates every connection of the app's database (a restart, a failover).
    with _admin_connection() as admin:
        killed = admin.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            [connection.settings_dict["NAME"]],
        ).fetchone()[0]
        assert killed >= 1
        for _ in range(50):
            if not admin.execute(
                "SELECT 1 FROM pg_stat_activity WHERE pid = %s", [backend]
            ).fetchone():
                break
            time.sleep(0.05)

    status, body = _wsgi_get(handler, "/api/v1/organisations/")
    assert status == 200 and b"Survivor" in body
    assert connection.connection.info.backend_pid != backend
    assert _wsgi_get(handler, "/organisations/")[0] == 200


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.postgresql
def test_app_pointed_at_a_closed_port_answers_503(django_db_blocker):
    saved = dict(connection.settings_dict)
    with django_db_blocker.unblock():
        connection.close()
        connection.settings_dict.update(HOST="127.0.0.1", PORT=str(_closed_port()))
        try:
            client = Client()
            started = time.perf_counter()
            _assert_503(client.get("/organisations/"), json_body=False)
            _assert_503(client.get("/api/v1/organisations/"), json_body=True)
            health = client.get("/healthz")
            assert health.status_code == 503 and int(health["Retry-After"]) > 0
            # Refused at once; an unreachable host would be cut by connect_timeout.
            assert time.perf_counter() - started < 10
            assert connection.settings_dict["OPTIONS"]["connect_timeout"] > 0
        finally:
            connection.close()
            connection.settings_dict.clear()
            connection.settings_dict.update(saved)
