"""Pagination limits and JSON errors everywhere under /api/."""

import pytest
from django.test import RequestFactory

from api.exceptions import handler404, handler500
from directory.models import Organisation
from tests import factories

pytestmark = pytest.mark.django_db
URL = "/api/v1/organisations/"


@pytest.fixture
def rows_205(db):
    Organisation.objects.bulk_create(
        [Organisation(name=f"Bulk {i:03}", country="KZ", visibility="public") for i in range(205)]
    )


@pytest.mark.parametrize(
    "query, size", [("", 50), ("page_size=10", 10), ("page_size=200", 200), ("page_size=500", 200),
                    ("page_size=0", 50), ("page_size=-5", 50), ("page_size=abc", 50)],
)
def test_page_size(api, rows_205, query, size):
    body = api.get(f"{URL}?{query}").json()
    assert body["count"] == 205
    assert len(body["results"]) == size
    assert set(body) == {"count", "next", "previous", "results"}


def test_pages_link_together(api, rows_205):
    body = api.get(f"{URL}?page_size=200").json()
    assert body["previous"] is None and "page=2" in body["next"]
    last = api.get(body["next"]).json()
    assert len(last["results"]) == 5 and last["next"] is None
    seen = [r["name"] for r in body["results"] + last["results"]]
    assert seen == sorted(seen) and len(set(seen)) == 205


@pytest.mark.parametrize("page", ["-1", "0", "abc", "99999999999999999999", "6", "1.5", "1e400"])
def test_invalid_page_is_json_404(api, rows_205, page):
    response = api.get(f"{URL}?page={page}")
    assert response.status_code == 404
    assert response.json() == {"detail": "Invalid page."}


def test_malformed_json_is_400(staff_api):
    response = staff_api.post(URL, data=b'{"name": "x",', content_type="application/json")
    assert response.status_code == 400
    assert "detail" in response.json()


def test_json_list_body_is_400(staff_api):
    response = staff_api.post(URL, data=b"[1, 2]", content_type="application/json")
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"


def test_wrong_content_type_is_415(staff_api):
    response = staff_api.post(URL, data="name=x", content_type="text/plain")
    assert response.status_code == 415
    assert "detail" in response.json()
    response = staff_api.post(URL, data="name=x&country=KZ", content_type="application/x-www-form-urlencoded")
    assert response.status_code == 415


def test_body_over_the_limit_is_413(staff_api, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = staff_api.post(URL, {"name": "x" * 2000, "country": "KZ"}, format="json")
    assert response.status_code == 413
    assert "detail" in response.json()
    assert not Organisation.objects.exists()
    response = staff_api.post("/api/v1/auth/token/", {"username": "x" * 2000, "password": "y"}, format="json")
    assert response.status_code == 413


def test_unknown_api_path_is_json_404(api):
    for path in ("/api/v1/nope/", "/api/v2/", "/api/v1/organisations/x/y/"):
        response = api.get(path)
        assert response.status_code == 404
        assert response["Content-Type"] == "application/json"
        assert response.json() == {"detail": "Not found."}


def test_html_404_outside_the_api(client, db):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


def test_method_not_allowed_is_json_405(staff_api, db):
    response = staff_api.put(URL, {}, format="json")
    assert response.status_code == 405
    assert "detail" in response.json()
    assert staff_api.post("/api/v1/focus-areas/", {}, format="json").status_code == 405


def test_csv_on_detail_is_not_acceptable(api, db):
    org = factories.OrganisationFactory()
    response = api.get(f"{URL}{org.pk}/", HTTP_ACCEPT="text/csv")
    assert response.status_code == 406
    assert response["Content-Type"] == "application/json"


def test_error_handlers_answer_json_for_the_api_and_html_elsewhere(db):
    factory = RequestFactory()
    api_500 = handler500(factory.get("/api/v1/organisations/"))
    assert api_500.status_code == 500 and api_500["Content-Type"] == "application/json"
    html_500 = handler500(factory.get("/organisations/"))
    assert html_500.status_code == 500 and html_500["Content-Type"].startswith("text/html")
    api_404 = handler404(factory.get("/api/v1/x/"), Exception())
    assert api_404.status_code == 404 and api_404["Content-Type"] == "application/json"


def test_invalid_token_is_401(api, db):
    response = api.get(URL, HTTP_AUTHORIZATION="Token nonsense")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"
