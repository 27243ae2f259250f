"""Import of organisations (API.md "Import"): CSV and .xlsx, all or nothing, idempotent."""

import io

import pytest
from django.apps import apps
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from directory.models import Organisation, OrganisationIdentifier
from directory.services.imports import COLUMNS, organisation_import
from tests import factories
from tests.import_data import make_rows, to_csv, to_xlsx

pytestmark = pytest.mark.django_db

ROW = {
    "name": "Bir Duino Kyrgyzstan",
    "name_local": "Бир Дуйно Кыргызстан",
    "other_names": "Bir Duino; Бир Дуйно",
    "acronym": "BDK",
    "type": "ngo",
    "country": "KG",
    "city": "Bishkek",
    "website": "https://www.birduino.kg/",
    "email": "info@birduino.kg",
    "phone": "+996 312 000000",
    "description": "Human rights and culture.",
    "focus_areas": "human-rights;youth",
    "languages": "ky;ru;en",
    "founded_year": "2008",
    "identifiers": "KG-OKPO-12345678",
    "visibility": "public",
}


def run(content, filename="file.csv", **kwargs):
    return organisation_import(actor=None, content=content, filename=filename, **kwargs)


def one_error(report):
    assert Organisation.objects.count() == 0 or report.errors
    assert report.errors, "expected an error"
    return report.errors


@pytest.fixture
def importer(db):
    return factories.grant(factories.staff_user(), "import_organisations")


# --- happy paths ------------------------------------------------------------------------------

@pytest.mark.parametrize("bom,crlf", [(False, False), (True, True), (True, False)])
def test_csv_import_creates_everything(bom, crlf):
    columns = list(reversed(COLUMNS))  # any order
    report = run(to_csv([ROW], columns, bom=bom, crlf=crlf))
    assert report.errors == []
    assert (report.created, report.updated, report.unchanged) == (1, 0, 0)
    org = Organisation.objects.get()
    assert org.name == "Bir Duino Kyrgyzstan" and org.name_local == "Бир Дуйно Кыргызстан"
    assert org.other_names == ["Bir Duino", "Бир Дуйно"]
    assert org.country.code == "KG" and org.city == "Bishkek" and org.founded_year == 2008
    assert org.website == "https://www.birduino.kg/" and org.languages == ["ky", "ru", "en"]
    assert sorted(org.focus_areas.values_list("slug", flat=True)) == ["human-rights", "youth"]
    assert [(i.scheme, i.value) for i in org.identifiers.all()] == [("KG-OKPO", "12345678")]
    assert org.search_key and "bishkek" in org.city_key
    # Found by search in either script.
    assert Organisation.objects.filter(search_key__contains="duinu").exists()
    # History: a creation record with the import reason, its focus areas, and the identifier's.
    record = org.history.get()
    assert record.history_type == "+" and record.history_change_reason == "Imported from a file"
    assert sorted(fa.focusarea.slug for fa in record.focus_areas.all()) == ["human-rights", "youth"]
    assert OrganisationIdentifier.history.count() == 1


def test_xlsx_import_and_numbers_as_cells():
    rows = [dict(ROW, founded_year="2008")]
    content = to_xlsx(rows)
    report = run(content, "orgs.xlsx")
    assert report.errors == [] and report.created == 1
    assert Organisation.objects.get().founded_year == 2008


def test_xlsx_numeric_cells_are_read_as_text():
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["country", "name", "founded_year", "identifiers"])
    sheet.append(["KZ", "Steppe Foundation", 1999, "KZ-BIN-950440001673"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    report = run(buffer.getvalue(), "x.xlsx")
    assert report.errors == []
    org = Organisation.objects.get()
    assert org.founded_year == 1999 and org.identifiers.get().value == "950440001673"


def test_only_name_and_country_are_required_and_defaults_apply():
    report = run(b"name,country\nSteppe Voices,kz\n")
    assert report.errors == [] and report.created == 1
    org = Organisation.objects.get()
    assert org.country.code == "KZ" and org.type == "ngo" and org.visibility == "staff"


def test_semicolon_separated_csv_from_excel_is_read():
    report = run(b"name;country;city\nSteppe Voices;KZ;Almaty\n")
    assert report.errors == [] and Organisation.objects.get().city == "Almaty"


def test_dry_run_validates_reports_and_writes_nothing():
    report = run(to_csv(make_rows(5)), dry_run=True)
    assert report.errors == [] and report.created == 5 and report.dry_run
    assert Organisation.objects.count() == 0


# --- errors -------------------------------------------------------------------------------------

@pytest.mark.parametrize(
    "column,value,fragment",
    [
        ("country", "Narnia", "Unknown country"),
        ("focus_areas", "human-rights;underwater-basket-weaving", "underwater-basket-weaving"),
        ("identifiers", "KZ-BIN-123", "KZ-BIN must be 12 digits"),
        ("identifiers", "nonsense", "SCHEME-VALUE"),
        ("founded_year", "19x5", "four digits"),
        ("founded_year", "1700", "between 1800"),
        ("website", "http://exa mple", "Not a valid web address"),
        ("email", "not-an-email", "Not a valid email"),
        ("type", "club", "Unknown type"),
        ("visibility", "secret", "Unknown visibility"),
        ("languages", "ru;xx", "xx"),
        ("name", "", "required"),
        ("country", "", "required"),
        ("acronym", "A" * 41, "At most 40"),
    ],
)
def test_every_cell_error_names_row_and_column(column, value, fragment):
    rows = make_rows(3)
    rows[1][column] = value
    report = run(to_csv(rows))
    assert Organisation.objects.count() == 0
    assert report.created == 0
    assert [(e["row"], e["column"]) for e in report.errors] == [(3, column)]
    assert fragment in report.errors[0]["message"]


def test_one_bad_row_among_1000_writes_nothing_and_every_bad_row_is_reported():
    rows = make_rows(1000)
    rows[499]["country"] = "XX"
    rows[998]["founded_year"] = "next year"
    report = run(to_csv(rows))
    assert Organisation.objects.count() == 0
    assert [(e["row"], e["column"]) for e in report.errors] == [(501, "country"), (1000, "founded_year")]
    assert report.created == 0 and report.results == []


@pytest.mark.parametrize(
    "content,row,column,fragment",
    [
        (b"", None, None, "empty"),
        (b"   \r\n\r\n", None, None, "empty"),
        (b"name,country,colour\nA,KZ,red\n", 1, "colour", "Unknown column 'colour'"),
        (b"name,country,name\nA,KZ,B\n", 1, "name", "more than once"),
        (b"name,city\nA,Almaty\n", 1, "country", "required column 'country' is missing"),
        ("Бир Дуйно,KG,Bishkek\n".encode(), 1, None, "first row must be the header"),
        ("name,country\nБир Дуйно,KG\n".encode("cp1251"), 2, None, "looks like Windows-1251"),
        (bytes(range(256)) * 40, None, None, "binary data"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, None, None, ".xls files are not accepted"),
        (b"name,country\r\nA,KZ,extra\r\n", 2, "column 3", "without a header"),
    ],
)
def test_file_errors_are_clear_and_write_nothing(content, row, column, fragment):
    report = run(content)
    assert Organisation.objects.count() == 0
    assert report.errors, "expected an error"
    error = report.errors[0]
    assert (error["row"], error["column"]) == (row, column)
    assert fragment in error["message"]


def test_cp1251_message_is_exactly_the_documented_one():
    report = run("name,country\nКылым Шамы,KG\n".encode("cp1251"))
    assert report.errors[0]["message"] == (
        "The file is not UTF-8 (it looks like Windows-1251). Save it as CSV UTF-8."
    )


def test_a_10_mb_cell_is_an_error_naming_the_row():
    content = b"name,country,description\nA,KZ,ok\nB,KZ," + b"x" * (10 * 1024 * 1024) + b"\n"
    report = run(content)
    assert Organisation.objects.count() == 0
    assert report.errors[0]["row"] == 3
    assert "10,000 characters" in report.errors[0]["message"]


def test_a_cell_just_over_the_limit_names_row_and_column():
    content = b"name,country,description\nA,KZ," + b"x" * 10_001 + b"\n"
    report = run(content)
    assert [(e["row"], e["column"]) for e in report.errors] == [(2, "description")]
    assert "10,001 characters" in report.errors[0]["message"]


def test_formula_cells_in_xlsx_are_errors():
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["name", "country", "founded_year"])
    sheet.append(["Steppe", "KZ", "=2000+5"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    report = run(buffer.getvalue(), "f.xlsx")
    assert Organisation.objects.count() == 0
    assert [(e["row"], e["column"]) for e in report.errors] == [(2, "founded_year")]
    assert "Formula" in report.errors[0]["message"]


def test_a_broken_xlsx_is_a_clear_error():
    report = run(b"PK\x03\x04 this is not really a zip", "broken.xlsx")
    assert "not a valid .xlsx" in report.errors[0]["message"]


def test_two_rows_describing_the_same_new_organisation_are_an_error():
    rows = make_rows(2)
    rows[1]["identifiers"] = rows[0]["identifiers"]
    report = run(to_csv(rows))
    assert Organisation.objects.count() == 0
    assert report.errors[0]["row"] == 3 and "Row 2 already describes" in report.errors[0]["message"]


def test_restricted_rows_need_the_permission(importer):
    row = dict(ROW, visibility="restricted")
    report = organisation_import(actor=importer, content=to_csv([row]), filename="r.csv")
    assert [(e["row"], e["column"]) for e in report.errors] == [(2, "visibility")]
    assert Organisation.objects.count() == 0


def test_a_row_matching_a_hidden_organisation_is_refused(importer):
    factories.OrganisationFactory(name="Hidden Shelter", country="KZ", visibility="restricted")
    report = organisation_import(actor=importer, content=b"name,country,city\nHidden Shelter,KZ,Astana\n", filename="h.csv")
    assert report.errors and report.errors[0]["row"] == 2
    assert "may not see" in report.errors[0]["message"]
    assert Organisation.objects.get().city == "Almaty"


# --- matching and idempotence -----------------------------------------------------------------

def test_reimporting_the_same_file_changes_nothing():
    content = to_csv(make_rows(50))
    first = run(content)
    assert first.created == 50
    history = Organisation.history.count()
    second = run(content)
    assert (second.created, second.updated, second.unchanged) == (0, 0, 50)
    assert Organisation.history.count() == history
    assert Organisation.objects.count() == 50


def test_reimporting_an_xlsx_changes_nothing():
    content = to_xlsx(make_rows(5))
    assert run(content, "a.xlsx").created == 5
    again = run(content, "a.xlsx")
    assert (again.created, again.updated, again.unchanged) == (0, 0, 5)


def test_match_by_identifier_updates_only_what_differs():
    org = factories.OrganisationFactory(name="Old Name", country="KZ", city="Almaty")
    factories.IdentifierFactory(organisation=org, scheme="KZ-BIN", value="950440001673")
    report = run(b"name,country,city,identifiers\nNew Name,KZ,,KZ-BIN-950440001673\n")
    assert (report.created, report.updated) == (0, 1)
    org.refresh_from_db()
    assert org.name == "New Name" and org.city == "Almaty"  # an empty cell keeps the value
    assert org.history.first().history_change_reason == "Imported from a file"
    assert org.history.first().history_type == "~"


def test_match_by_website_domain():
    org = factories.OrganisationFactory(name="Eco Forum", country="KZ", website="https://ecoforum.kz/")
    report = run(b"name,country,website,founded_year\nEcological Forum of NGOs,KZ,www.ecoforum.kz,1996\n")
    assert (report.created, report.updated) == (0, 1)
    org.refresh_from_db()
    assert org.founded_year == 1996 and org.name == "Ecological Forum of NGOs"


def test_match_by_normalised_name_and_country_across_scripts():
    org = factories.OrganisationFactory(name="Kylym Shamy", country="KG", city="Bishkek")
    report = run("name,country,acronym\nКылым Шамы,KG,KSh\n".encode())
    assert (report.created, report.updated) == (0, 1)
    org.refresh_from_db()
    assert org.acronym == "KSh"


def test_same_name_in_another_country_is_a_new_organisation():
    factories.OrganisationFactory(name="Kylym Shamy", country="KG")
    report = run(b"name,country\nKylym Shamy,KZ\n")
    assert report.created == 1 and Organisation.objects.count() == 2


def test_shared_hosts_do_not_match():
    factories.OrganisationFactory(name="Alpha", country="KZ", website="https://facebook.com/alpha")
    report = run(b"name,country,website\nBeta,KZ,https://facebook.com/beta\n")
    assert report.created == 1


def test_focus_areas_change_is_an_update_with_history():
    org = factories.OrganisationFactory(name="Water Watch", country="TJ", focus_areas=["water"])
    report = run(b"name,country,focus_areas\nWater Watch,TJ,water;climate\n")
    assert report.updated == 1
    assert sorted(org.focus_areas.values_list("slug", flat=True)) == ["climate", "water"]
    record = org.history.first()
    assert sorted(link.focusarea.slug for link in record.focus_areas.all()) == ["climate", "water"]


def test_import_reports_likely_duplicates():
    factories.OrganisationFactory(name="Kylym Shamy Human Rights Centre", country="KG", city="Bishkek")
    report = run(b"name,country,city\nKylym Shamy Centre for Human Rights,KG,Bishkek\n", dry_run=True)
    assert report.created == 1
    found = report.likely_duplicates[0].duplicates
    assert [d.name for d in found] == ["Kylym Shamy Human Rights Centre"]
    assert found[0].reason == "similar_name" and found[0].score == pytest.approx(0.9024, abs=1e-3)


def test_queries_do_not_grow_with_rows():
    def count(n, start):
        content = to_csv(make_rows(n, seed=start, start=start))
        with CaptureQueriesContext(connection) as ctx:
            report = run(content)
        assert report.errors == []
        return len(ctx.captured_queries)

    # 3 rows or 30: the same queries (SQLite splits inserts above ~40 rows; PostgreSQL never).
    assert count(3, 0) == count(30, 1000)


# --- entry points --------------------------------------------------------------------------------

def _upload(content, name="orgs.csv"):
    upload = io.BytesIO(content)
    upload.name = name
    return upload


def test_api_permissions(api_client_for):
    content = to_csv(make_rows(1))
    anonymous = APIClient()
    assert anonymous.post("/api/v1/organisations/import/", {"file": _upload(content)}, format="multipart").status_code == 401
    staff = api_client_for(factories.staff_user())
    assert staff.post("/api/v1/organisations/import/", {"file": _upload(content)}, format="multipart").status_code == 403
    editor = api_client_for(factories.editor_of(factories.OrganisationFactory()))
    assert editor.post("/api/v1/organisations/import/", {"file": _upload(content)}, format="multipart").status_code == 403
    assert Organisation.objects.count() == 1  # the editor's organisation only


def test_api_dry_run_write_and_errors(api_client_for, importer):
    client = api_client_for(importer)
    url = "/api/v1/organisations/import/"
    content = to_csv(make_rows(3))
    response = client.post(url, {"file": _upload(content), "dry_run": "true"}, format="multipart")
    assert response.status_code == 200, response.content
    assert response.json()["created"] == 3 and response.json()["dry_run"] is True
    assert Organisation.objects.count() == 0
    response = client.post(url, {"file": _upload(content)}, format="multipart")
    assert response.status_code == 201 and response.json()["created"] == 3
    assert Organisation.objects.count() == 3
    again = client.post(url, {"file": _upload(content)}, format="multipart")
    assert again.status_code == 201 and (again.json()["created"], again.json()["updated"]) == (0, 0)
    bad = client.post(url, {"file": _upload(b"name,country\nA,Narnia\n")}, format="multipart")
    assert bad.status_code == 400
    assert bad.json()["errors"] == [{"row": 2, "column": "country", "message": bad.json()["errors"][0]["message"]}]
    xlsx = client.post(url, {"file": _upload(to_xlsx(make_rows(1, start=50)), "o.xlsx")}, format="multipart")
    assert xlsx.status_code == 201 and xlsx.json()["created"] == 1


def test_api_needs_a_file_and_multipart(api_client_for, importer):
    client = api_client_for(importer)
    missing = client.post("/api/v1/organisations/import/", {}, format="multipart")
    assert missing.status_code == 400 and missing.json()["errors"][0]["column"] == "file"
    as_json = client.post("/api/v1/organisations/import/", {"file": "x"}, format="json")
    assert as_json.status_code == 415


def test_command_success_dry_run_and_exit_code(tmp_path):
    good = tmp_path / "good.csv"
    good.write_bytes(to_csv(make_rows(4)))
    out, err = io.StringIO(), io.StringIO()
    call_command("import_organisations", str(good), "--dry-run", stdout=out, stderr=err)
    assert "4 would be created" in out.getvalue() and Organisation.objects.count() == 0
    assert "Validating" in err.getvalue()
    call_command("import_organisations", str(good), stdout=out, stderr=err)
    assert Organisation.objects.count() == 4
    bad = tmp_path / "bad.csv"
    bad.write_bytes(b"name,country\nA,Narnia\n")
    err = io.StringIO()
    with pytest.raises(CommandError, match="nothing was written"):
        call_command("import_organisations", str(bad), stdout=io.StringIO(), stderr=err)
    assert "row 2, country: Unknown country" in err.getvalue()


def test_command_exits_non_zero(tmp_path):
    import subprocess
    import sys

    bad = tmp_path / "bad.csv"
    bad.write_bytes(b"name\nA\n")
    result = subprocess.run(
        [sys.executable, "manage.py", "import_organisations", str(bad), "--dry-run"],
        capture_output=True, text=True, env={**__import__("os").environ, "DATABASE_URL": f"sqlite:///{tmp_path}/x.sqlite3"},
    )
    # The header is checked before anything touches the database.
    assert result.returncode != 0
    assert "required column 'country' is missing" in result.stderr


def test_upload_page(client, importer):
    url = "/organisations/import/"
    client.force_login(factories.staff_user())
    assert client.get(url).status_code == 403
    client.force_login(importer)
    page = client.get(url)
    assert page.status_code == 200 and b'enctype="multipart/form-data"' in page.content
    response = client.post(url, {"file": _upload(b"name,country\nA,Narnia\nB,KZ\n"), "dry_run": "on"})
    assert response.status_code == 400
    assert b"Unknown country" in response.content and b"nothing was written" in response.content
    factories.OrganisationFactory(name="Kylym Shamy Human Rights Centre", country="KG", city="Bishkek")
    response = client.post(url, {"file": _upload(b"name,country,city\nKylym Shamy Centre for Human Rights,KG,Bishkek\n")})
    assert response.status_code == 200
    assert b"1 new" in response.content and b"Likely duplicates" in response.content
    assert Organisation.objects.filter(name="Kylym Shamy Centre for Human Rights").exists()


def test_a_row_with_many_look_alikes_lists_the_best_ten_and_counts_the_rest(client, api_client_for, importer):
    for n in range(13):
        factories.OrganisationFactory(name=f"Women Support Centre Almaty {n}", country="KZ")
    factories.OrganisationFactory(name="Women Support Centre Almaty", country="KZ")
    content = b"name,country\nWomen Support Centre Almaty North,KZ\n"
    report = run(content, dry_run=True)
    row = report.likely_duplicates[0]
    assert row.duplicates_total == 14 and len(row.duplicates) == 10 and row.more_duplicates == 4
    assert report.created == 1
    assert row.duplicates[0].name == "Women Support Centre Almaty" and row.duplicates[0].reason == "similar_name"
    scores = [d.score for d in row.duplicates]
    assert scores == sorted(scores, reverse=True)
    response = api_client_for(importer).post(
        "/api/v1/organisations/import/", {"file": _upload(content), "dry_run": "true"}, format="multipart")
    entry = response.json()["likely_duplicates"][0]
    assert (entry["row"], entry["total"], len(entry["organisations"])) == (2, 14, 10)
    client.force_login(importer)
    page = client.post("/organisations/import/", {"file": _upload(content), "dry_run": "on"})
    assert page.status_code == 200 and "…and 4 more likely duplicates" in page.content.decode()


def test_list_page_links_import_only_for_importers(client, importer):
    client.force_login(importer)
    assert b"/organisations/import/" in client.get("/organisations/").content
    client.force_login(factories.staff_user())
    assert b"/organisations/import/" not in client.get("/organisations/").content


def test_history_m2m_model_exists():
    # The import writes focus-area history rows itself; the model it writes to must exist.
    assert apps.get_model("directory", "HistoricalOrganisation_focus_areas")


@pytest.fixture
def api_client_for():
    def make(user):
        client = APIClient()
        client.force_authenticate(user)
        return client

    return make


def test_a_different_identifier_in_the_same_scheme_is_another_organisation():
    org = factories.OrganisationFactory(name="Adilet Legal Clinic", country="KZ")
    factories.IdentifierFactory(organisation=org, scheme="KZ-BIN", value="950440001673")
    report = run(b"name,country,identifiers\nAdilet Legal Clinic,KZ,KZ-BIN-120340005678\n")
    assert report.created == 1 and report.updated == 0
    # ... but reported as a likely duplicate (same name in the same country).
    assert report.likely_duplicates[0].duplicates[0].reason == "name"


def test_generator_columns_are_the_import_columns():
    from tests import import_data

    assert import_data.COLUMNS == COLUMNS
