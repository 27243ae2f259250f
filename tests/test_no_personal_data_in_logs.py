"""Logs never carry personal data or note text (SECURITY.md). Seed unique names, emails, phones
and notes, exercise the app through every surface that might log them, capture every log record
of every logger (at DEBUG) and grep the records: message, arguments and the formatted line."""

import logging

import pytest
from django.core.cache import cache
from django.test import Client
from rest_framework.test import APIClient

from directory.models import Affiliation, Interaction
from tests import factories

NAME = "Zhibek-Unique-7731"
EMAIL = "leak-7731@example.org"
PHONE = "+996 555 773 100"
NOTE = "note-secret-7731"
ORG = "Orgleak-Unique-7731"
SECRETS = [NAME, EMAIL, PHONE, NOTE, ORG, "7731"]


class Capture(logging.Handler):
    def __init__(self):
        super().__init__(level=logging.DEBUG)
        self.records = []

    def emit(self, record):
        self.records.append(record)


@pytest.fixture
def captured(caplog):
    """The root logger at DEBUG (caplog), as with LOG_LEVEL=DEBUG in production, and a handler
    on the root logger and on every other logger (some do not propagate). Loggers keep the
    levels the LOGGING setting gives them: pinning a chatty logger is part of the protection."""
    caplog.set_level(logging.DEBUG)
    handler = Capture()
    loggers = [logging.getLogger()] + [
        logger for logger in logging.Logger.manager.loggerDict.values() if isinstance(logger, logging.Logger)
    ]
    for logger in loggers:
        logger.addHandler(handler)
    yield handler, caplog
    for logger in loggers:
        logger.removeHandler(handler)


def texts_of(record):
    formatter = logging.Formatter("%(name)s %(levelname)s %(message)s")
    yield str(record.msg)
    for arg in (record.args if isinstance(record.args, tuple) else (record.args,)) if record.args else ():
        yield repr(arg)
    yield formatter.format(record)


@pytest.fixture
def seeded(db):
    cache.clear()
    staff = factories.staff_user(perms=("view_internal", "change_person", "add_person", "export_people"))
    org = factories.OrganisationFactory(name=ORG, visibility="public")
    person = factories.PersonFactory(name=NAME, email=EMAIL, phone=PHONE)
    Affiliation.objects.create(person=person, organisation=org, role="Director")
    factories.interaction(staff, subject="Seeded meeting", notes=NOTE, organisations=[org], people=[person])
    yield staff, org, person
    cache.clear()


def test_logs_carry_no_personal_data_or_notes(seeded, captured, settings):
    handler, caplog = captured
    staff, org, person = seeded
    anonymous = Client()
    web = Client()
    web.force_login(staff)
    api = APIClient()
    api.force_authenticate(staff)

    responses = [
        anonymous.get("/organisations/", {"q": NAME}),
        anonymous.get("/organisations/", {"q": ORG, "people__email": EMAIL}),
        anonymous.get("/api/v1/organisations/", {"q": ORG}),
        anonymous.get(f"/people/{person.pk}/"),  # redirected to sign in
        anonymous.get("/api/v1/people/", {"q": NAME}),  # 401
        web.get("/people/", {"q": NAME}),
        web.get(f"/people/{person.pk}/"),
        web.get(f"/people/{person.pk}/export/"),
        web.get(f"/organisations/{org.pk}/"),
        api.get("/api/v1/people/", {"q": NAME}),
        api.get("/api/v1/people/", {"q": EMAIL, "format": "csv"}),
        api.get(f"/api/v1/people/{person.pk}/"),
        web.get("/interactions/", {"q": NOTE}),
        web.get("/interactions/export.csv"),
        web.post("/interactions/new/", {
            "occurred_on": "2025-02-01", "kind": "call", "subject": f"Call with {NAME}",
            "notes": f"{NOTE} {EMAIL} {PHONE}", "sensitivity": "team", "team": staff.teams.first().pk,
            "organisations": [str(org.pk)], "people": [str(person.pk)],
        }),
        web.get(f"/interactions/pick/people/?q={NAME}"),
        # Failed sign-in with the email as the user name, a few times (lockout messages too).
        *[anonymous.post("/accounts/login/", {"username": EMAIL, "password": f"wrong {PHONE}"}) for _ in range(6)],
        api.post("/api/v1/auth/token/", {"username": EMAIL, "password": "wrong"}, format="json"),
        # Made-up paths carrying a name: 404s are logged.
        anonymous.get(f"/organisations/{NAME}/"),
        anonymous.get(f"/{NAME}/{EMAIL}/"),
        web.get(f"/interactions/pick/{NAME}/"),
        anonymous.get(f"/api/v1/people/{NAME}/"),
        api.get(f"/api/v1/{EMAIL}/"),
        # A bad filter value echoing the name.
        anonymous.get("/api/v1/organisations/", {"country": NAME}),
        web.get("/interactions/", {"occurred_after": NAME}),
        # CSRF failure on a form posting personal data.
        _csrf_client(staff).post("/interactions/new/", {"subject": NAME, "notes": NOTE}),
    ]
    api_interactions = api.post("/api/v1/interactions/", {
        "occurred_on": "2025-02-02", "kind": "meeting", "subject": f"Met {NAME}", "notes": NOTE,
        "organisations": [str(org.pk)], "people": [str(person.pk)],
    }, format="json")
    responses += [api_interactions, api.get("/api/v1/interactions/", {"q": NAME}),
                  api.get("/api/v1/interactions/", {"format": "csv"})]
    for response in responses:
        if hasattr(response, "streaming_content"):
            b"".join(response.streaming_content)
        assert response.status_code < 500

    # The app did what was asked (so the test exercised the real paths).
    assert Interaction.objects.filter(notes__contains=NOTE).count() >= 2
    assert api_interactions.status_code in (201, 404, 405)

    records = handler.records + [r for r in caplog.records if r not in handler.records]
    assert records, "nothing was logged: the capture does not work"
    leaks = [
        (record.name, text)
        for record in records
        for text in texts_of(record)
        for secret in SECRETS
        if secret in text
    ]
    assert leaks == [], "\n".join(f"{name}: {text[:200]}" for name, text in leaks)


def _csrf_client(user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    return client


@pytest.mark.parametrize(
    "line, expected",
    [
        (f"GET /organisations/{NAME}/?q={EMAIL} HTTP/1.1", "GET [unmatched path]?… HTTP/1.1"),
        ("GET /organisations/?q=x HTTP/1.1", "GET /organisations/?… HTTP/1.1"),
        (f"GET /interactions/pick/{NAME}/ HTTP/1.1", "GET /interactions/pick/<str:kind>/ HTTP/1.1"),
        ("GET /people/6b1f3c2e-4a57-4c1e-9d1e-2f6a0c9b7e01/ HTTP/1.1",
         "GET /people/6b1f3c2e-4a57-4c1e-9d1e-2f6a0c9b7e01/ HTTP/1.1"),
    ],
)
def test_runserver_request_lines_are_redacted(line, expected, captured):
    """`runserver`/`demo` log every request line ('"GET /path?query HTTP/1.1" 200 123')."""
    handler, _caplog = captured
    logging.getLogger("django.server").info('"%s" %s %s', line, "404", "10")
    record = handler.records[-1]
    assert record.getMessage() == f'"{expected}" 404 10'
