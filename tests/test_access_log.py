"""The access log (SECURITY.md): every export of people or contact history, every read of a
restricted record and every denied attempt to reach one writes one row (who, what, how many
rows, request id); nobody can change or delete a row from the app; administrators can read and
filter it in the admin."""

import uuid

import pytest
from django.contrib.admin.sites import site
from django.core.cache import cache
from django.test import Client, RequestFactory
from rest_framework.test import APIClient

from directory.models import AccessAction, AccessLog
from tests.access_world import world_fixture  # noqa: F401 (fixture)


@pytest.fixture(autouse=True)
def _fresh_throttles():
    cache.clear()
    yield
    cache.clear()


def web(world, role):
    client = Client()
    if role != "public":
        client.force_login(world.users[role])
    return client


def api(world, role):
    client = APIClient()
    if role != "public":
        client.force_authenticate(world.users[role])
    return client


def consume(response):
    if hasattr(response, "streaming_content"):
        return b"".join(response.streaming_content)
    return response.content


def only_new_row(before_ids):
    rows = list(AccessLog.objects.exclude(pk__in=before_ids))
    assert len(rows) == 1, rows
    return rows[0]


def request_and_row(client, url, **extra):
    before = set(AccessLog.objects.values_list("pk", flat=True))
    response = client.get(url, **extra)
    consume(response)
    return response, list(AccessLog.objects.exclude(pk__in=before))


# --- exports ----------------------------------------------------------------------------------

EXPORTS = [
    # role, url, action, object type, expected rows (a callable of the world)
    pytest.param("admin", "/api/v1/people/?format=csv", AccessAction.EXPORT_PEOPLE, "person",
                 lambda w: 4, id="admin-people-api_csv"),
    pytest.param("staff_restricted", "/api/v1/people/?format=csv", AccessAction.EXPORT_PEOPLE, "person",
                 lambda w: 4, id="exporter-people-api_csv"),
    pytest.param("staff_restricted", "/people/{restricted_person}/export/", AccessAction.SUBJECT_ACCESS,
                 "person", lambda w: 1, id="exporter-subject_access-web_json"),
    pytest.param("admin", "/people/{person_public_org}/export/", AccessAction.SUBJECT_ACCESS, "person",
                 lambda w: 1, id="admin-subject_access-web_json"),
    pytest.param("author", "/interactions/export.csv", AccessAction.EXPORT_INTERACTIONS, "interaction",
                 lambda w: 3, id="author-interactions-web_csv"),
    pytest.param("other_team_staff", "/interactions/export.csv", AccessAction.EXPORT_INTERACTIONS,
                 "interaction", lambda w: 1, id="other_team-interactions-web_csv"),
    pytest.param("author", "/api/v1/interactions/?format=csv", AccessAction.EXPORT_INTERACTIONS,
                 "interaction", lambda w: 3, id="author-interactions-api_csv"),
    pytest.param("admin", "/api/v1/interactions/?format=csv", AccessAction.EXPORT_INTERACTIONS,
                 "interaction", lambda w: 3, id="admin-interactions-api_csv"),
]


def fill(url, world):
    objects = {**world.orgs, **world.people, **world.interactions}
    return url.format(**{key: obj.pk for key, obj in objects.items()})


@pytest.mark.django_db
@pytest.mark.parametrize("role, url, action, object_type, rows", EXPORTS)
def test_every_export_writes_one_row(world, role, url, action, object_type, rows):
    client = web(world, role) if not url.startswith("/api/") else api(world, role)
    request_id = f"req-{uuid.uuid4().hex[:12]}"
    response, new = request_and_row(client, fill(url, world), HTTP_X_REQUEST_ID=request_id)
    assert response.status_code == 200
    assert len(new) == 1, new
    row = new[0]
    user = world.users[role]
    assert (row.user_id, row.username, row.action, row.object_type) == (user.pk, user.username, action, object_type)
    assert row.rows == rows(world)
    assert row.request_id == response["X-Request-ID"] == request_id
    assert row.via == ("api" if url.startswith("/api/") else "web")


@pytest.mark.django_db
def test_generated_request_id_is_the_one_logged(world):
    """Without a (valid) X-Request-ID the server makes one; the header and the row agree."""
    response, new = request_and_row(api(world, "admin"), "/api/v1/people/?format=csv",
                                    HTTP_X_REQUEST_ID="bad id with spaces")
    assert len(new) == 1 and new[0].request_id == response["X-Request-ID"] != "bad id with spaces"


@pytest.mark.django_db
@pytest.mark.parametrize(
    "role, url",
    [("staff", "/api/v1/people/?format=csv"), ("editor", "/api/v1/people/?format=csv"),
     ("public", "/api/v1/people/?format=csv"), ("organiser", "/interactions/export.csv")],
)
def test_a_refused_export_exports_nothing_and_logs_no_export(world, role, url):
    client = web(world, role) if not url.startswith("/api/") else api(world, role)
    response, new = request_and_row(client, url)
    assert response.status_code in (401, 403, 404)
    assert not [row for row in new if row.action in (AccessAction.EXPORT_PEOPLE, AccessAction.EXPORT_INTERACTIONS)]


# --- reads of restricted records and denied attempts ------------------------------------------

READS = [
    # role, url, expected action
    ("staff_restricted", "/organisations/{restricted_org}/", AccessAction.READ_RESTRICTED),
    ("admin", "/organisations/{restricted_org}/", AccessAction.READ_RESTRICTED),
    ("editor", "/organisations/{x_restricted_org}/", AccessAction.READ_RESTRICTED),
    ("staff_restricted", "/api/v1/organisations/{restricted_org}/", AccessAction.READ_RESTRICTED),
    ("editor", "/api/v1/organisations/{x_restricted_org}/", AccessAction.READ_RESTRICTED),
    ("staff_restricted", "/people/{restricted_person}/", AccessAction.READ_RESTRICTED),
    ("admin", "/api/v1/people/{restricted_person}/", AccessAction.READ_RESTRICTED),
    ("staff_restricted", "/api/v1/people/{restricted_person}/", AccessAction.READ_RESTRICTED),
    ("public", "/organisations/{restricted_org}/", AccessAction.DENIED),
    ("staff", "/organisations/{restricted_org}/", AccessAction.DENIED),
    ("organiser", "/organisations/{restricted_org}/", AccessAction.DENIED),
    ("editor", "/organisations/{restricted_org}/", AccessAction.DENIED),
    ("public", "/api/v1/organisations/{restricted_org}/", AccessAction.DENIED),
    ("staff", "/api/v1/organisations/{restricted_org}/", AccessAction.DENIED),
    ("staff", "/people/{restricted_person}/", AccessAction.DENIED),
    ("editor", "/people/{restricted_person}/", AccessAction.DENIED),
    ("organiser", "/people/{restricted_person}/", AccessAction.DENIED),
    ("staff", "/api/v1/people/{restricted_person}/", AccessAction.DENIED),
    ("editor", "/api/v1/people/{restricted_person}/", AccessAction.DENIED),
    ("staff", "/people/{restricted_person}/export/", AccessAction.DENIED),
    ("public", "/people/{restricted_person}/", AccessAction.DENIED),
    ("public", "/api/v1/people/{restricted_person}/", AccessAction.DENIED),
    ("staff", "/api/v1/organisations/{restricted_org}/interactions/", AccessAction.DENIED),
    ("staff", "/api/v1/people/{restricted_person}/interactions/", AccessAction.DENIED),
    ("staff_restricted", "/api/v1/organisations/{restricted_org}/interactions/", AccessAction.READ_RESTRICTED),
]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "role, url, action",
    [pytest.param(*r, id=f"{r[0]}-{r[1].strip('/').replace('/', '_')}-{r[2]}") for r in READS],
)
def test_restricted_read_or_denial_writes_one_row(world, role, url, action):
    client = web(world, role) if not url.startswith("/api/") else api(world, role)
    request_id = f"req-{uuid.uuid4().hex[:12]}"
    response, new = request_and_row(client, fill(url, world), HTTP_X_REQUEST_ID=request_id)
    if action == AccessAction.READ_RESTRICTED:
        assert response.status_code == 200
    else:
        assert response.status_code in (302, 401, 403, 404)
    assert len(new) == 1, new
    row = new[0]
    assert row.action == action
    assert row.object_id in url.format(**{k: o.pk for k, o in {**world.orgs, **world.people}.items()}) or row.object_id in fill(url, world)
    assert row.object_type in ("organisation", "person")
    assert row.request_id == request_id == response["X-Request-ID"]
    if role == "public":
        assert row.user_id is None and row.username == ""
    else:
        assert row.user_id == world.users[role].pk and row.username == world.users[role].username


@pytest.mark.django_db
@pytest.mark.parametrize(
    "role, url",
    [("staff", "/organisations/{public_org}/"), ("public", "/api/v1/organisations/{public_org}/"),
     ("staff", "/people/{person_public_org}/"), ("staff", f"/organisations/{uuid.UUID(int=1)}/"),
     ("staff", "/api/v1/organisations/{staff_org}/")],
)
def test_ordinary_reads_are_not_logged(world, role, url):
    client = web(world, role) if not url.startswith("/api/") else api(world, role)
    _response, new = request_and_row(client, fill(url, world))
    assert new == []


# --- the log cannot be changed ----------------------------------------------------------------

@pytest.fixture
def entry(db):
    from directory.services.audit import log_access

    return log_access(action=AccessAction.EXPORT_PEOPLE, object_type="person", rows=3, via="command")


def test_rows_cannot_be_updated_or_deleted(entry):
    with pytest.raises(PermissionError):
        AccessLog.objects.filter(pk=entry.pk).update(rows=0)
    with pytest.raises(PermissionError):
        AccessLog.objects.all().update(username="someone")
    with pytest.raises(PermissionError):
        AccessLog.objects.filter(pk=entry.pk).delete()
    with pytest.raises(PermissionError):
        AccessLog.objects.all().delete()
    entry.rows = 0
    with pytest.raises(PermissionError):
        entry.save()
    with pytest.raises(PermissionError):
        entry.delete()
    assert AccessLog.objects.get(pk=entry.pk).rows == 3


def test_admin_offers_no_add_change_or_delete(entry, admin_user):
    model_admin = site._registry[AccessLog]
    request = RequestFactory().get("/admin/directory/accesslog/")
    request.user = admin_user
    assert model_admin.has_add_permission(request) is False
    assert model_admin.has_change_permission(request) is False
    assert model_admin.has_change_permission(request, entry) is False
    assert model_admin.has_delete_permission(request) is False
    assert model_admin.has_delete_permission(request, entry) is False
    assert model_admin.has_view_permission(request) is True
    assert not model_admin.get_actions(request)  # no bulk "delete selected"


def test_superuser_lists_and_filters_the_log(entry, client, admin_user):
    from directory.services.audit import log_access

    log_access(action=AccessAction.DENIED, object_type="organisation", object_id="abc", via="web")
    client.force_login(admin_user)
    listing = client.get("/admin/directory/accesslog/")
    assert listing.status_code == 200
    assert listing.context["cl"].result_count == 2
    filtered = client.get("/admin/directory/accesslog/", {"action": "denied"})
    assert filtered.status_code == 200
    assert [row.action for row in filtered.context["cl"].result_list] == ["denied"]
    assert client.get(f"/admin/directory/accesslog/{entry.pk}/change/").status_code == 200  # read-only view
    assert client.get("/admin/directory/accesslog/add/").status_code == 403
    before = AccessLog.objects.count()
    response = client.post(f"/admin/directory/accesslog/{entry.pk}/delete/", {"post": "yes"})
    assert response.status_code == 403 and AccessLog.objects.count() == before
    response = client.post(f"/admin/directory/accesslog/{entry.pk}/change/", {"rows": "0"})
    assert response.status_code == 403 and AccessLog.objects.get(pk=entry.pk).rows == 3


def test_staff_admin_users_cannot_read_the_log(entry, client, db):
    from tests import factories

    staff = factories.staff_user(perms=("view_accesslog", "change_accesslog", "delete_accesslog"), is_staff=True)
    client.force_login(staff)
    assert client.get("/admin/directory/accesslog/").status_code == 403
