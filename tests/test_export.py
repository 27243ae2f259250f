"""Export with the import columns: CSV (streamed) and XLSX; an export re-imports unchanged."""

import csv
import io

import pytest
from django.core.management import call_command
from django.http import StreamingHttpResponse

from directory.models import AccessLog, Organisation
from directory.services.imports import COLUMNS, organisation_import
from tests import factories
from tests.import_data import make_rows, to_csv

pytestmark = pytest.mark.django_db


def csv_rows(response):
    body = b"".join(response.streaming_content).decode("utf-8")
    assert body.startswith("\ufeff")
    return list(csv.reader(io.StringIO(body.removeprefix("\ufeff"))))


def xlsx_rows(content):
    from openpyxl import load_workbook

    sheet = load_workbook(io.BytesIO(content), read_only=True).worksheets[0]
    return [["" if v is None else str(v) for v in row] for row in sheet.iter_rows(values_only=True)]


def test_public_gets_public_rows_only_streamed(client):
    factories.OrganisationFactory(name="Open Org", visibility="public")
    factories.OrganisationFactory(name="Staff Org", visibility="staff")
    response = client.get("/organisations/export.csv")
    assert response.status_code == 200 and isinstance(response, StreamingHttpResponse)
    rows = csv_rows(response)
    assert rows[0] == list(COLUMNS)
    assert [r[0] for r in rows[1:]] == ["Open Org"]
    assert rows[1][COLUMNS.index("visibility")] == ""  # internal field, not for the public
    assert AccessLog.objects.count() == 0


def test_staff_export_follows_filters_and_is_logged(client):
    factories.OrganisationFactory(name="KZ Org", country="KZ", visibility="staff")
    factories.OrganisationFactory(name="KG Org", country="KG")
    staff = factories.staff_user()
    client.force_login(staff)
    rows = csv_rows(client.get("/organisations/export.csv?country=KZ"))
    assert [r[0] for r in rows[1:]] == ["KZ Org"] and rows[1][COLUMNS.index("visibility")] == "staff"
    log = AccessLog.objects.get()
    assert (log.action, log.rows, log.user, log.via) == ("export_organisations", 1, staff, "web")
    assert client.get("/organisations/export.csv?country=XX").status_code == 400


def test_formula_injection_is_escaped_in_csv_and_xlsx(client):
    factories.OrganisationFactory(name="=HYPERLINK(\"http://evil\")", phone="+7 701 000", description="@SUM(A1)")
    rows = csv_rows(client.get("/organisations/export.csv"))
    assert rows[1][0] == "'=HYPERLINK(\"http://evil\")"
    assert rows[1][COLUMNS.index("phone")] == "'+7 701 000"
    response = client.get("/organisations/export.xlsx")
    assert response.status_code == 200
    sheet = xlsx_rows(response.content)
    assert sheet[0] == list(COLUMNS) and sheet[1][0] == "'=HYPERLINK(\"http://evil\")"


def test_round_trip_export_import_changes_nothing(client):
    first = organisation_import(actor=None, content=to_csv(make_rows(20)), filename="a.csv")
    assert first.created == 20
    org = Organisation.objects.first()
    org.phone, org.description = "+996 555 123", "-- dashes first"
    org.other_names = ["=odd", "Другое имя"]
    org.save()
    history = Organisation.history.count()
    client.force_login(factories.staff_user())
    body = b"".join(client.get("/organisations/export.csv").streaming_content)
    again = organisation_import(actor=None, content=body, filename="export.csv")
    assert again.errors == []
    assert (again.created, again.updated, again.unchanged) == (0, 0, 20)
    xlsx = client.get("/organisations/export.xlsx").content
    once_more = organisation_import(actor=None, content=xlsx, filename="export.xlsx")
    assert once_more.errors == [] and (once_more.created, once_more.updated, once_more.unchanged) == (0, 0, 20)
    assert Organisation.history.count() == history
    org.refresh_from_db()
    assert org.phone == "+996 555 123" and org.other_names == ["=odd", "Другое имя"]


def test_list_page_links_to_exports_with_current_filters(client):
    factories.OrganisationFactory(country="KZ")
    content = client.get("/organisations/?country=KZ").content.decode()
    assert "/organisations/export.csv?country=KZ" in content
    assert "/organisations/export.xlsx?country=KZ" in content


def test_export_command(tmp_path):
    factories.OrganisationFactory(name="KZ Org", country="KZ", visibility="restricted")
    factories.OrganisationFactory(name="KG Org", country="KG")
    out = tmp_path / "o.csv"
    call_command("export_organisations", "--country", "KZ", "--output", str(out), stderr=io.StringIO())
    rows = list(csv.reader(io.StringIO(out.read_text(encoding="utf-8-sig"))))
    assert [r[0] for r in rows[1:]] == ["KZ Org"]
    xlsx = tmp_path / "o.xlsx"
    call_command("export_organisations", "--format", "xlsx", "--output", str(xlsx), stderr=io.StringIO())
    assert sorted(r[0] for r in xlsx_rows(xlsx.read_bytes())[1:]) == ["KG Org", "KZ Org"]
    assert AccessLog.objects.filter(action="export_organisations", via="command").count() == 2
