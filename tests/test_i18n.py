"""Russian interface (issue 10 point 1): marked strings, a complete catalogue, the language
switcher remembered per user, Accept-Language by default, localised labels, dates and numbers."""

import datetime
import io

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import translation

from directory.i18n import catalogue_paths, problems, read_catalogue
from directory.models import UserPreference
from tests import factories
from tests.i18n_check import template_files, untranslated_text

LIST_URL = reverse("directory:organisation_list")
RU_PO = settings.BASE_DIR / "directory" / "locale" / "ru" / "LC_MESSAGES" / "django.po"


def test_every_template_string_is_marked_for_translation():
    problems = {
        str(path.relative_to(settings.BASE_DIR)): found
        for path in template_files()
        if (found := untranslated_text(path.read_text(encoding="utf-8")))
    }
    assert problems == {}, "Wrap these in {% translate %} / {% blocktranslate %}"


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("<h1>Organisations</h1>", ["Organisations"]),
        ('<input placeholder="Search names">', ['input placeholder="Search names"']),
        ('{% load i18n %}<img alt="Logo" src="x">', ['img alt="Logo"']),
        ('<input type="submit" value="Send"><input name="q" value="abc">', ['input value="Send"']),
        ('<button type="submit" name="action" value="decide">{{ x }}</button>', []),
        ("<p>{{ x }} (<code>status</code>): {{ y }}</p><p>Status</p>", ["Status"]),
        ("{% if a %}<p>{{ a }} found</p>{% endif %}", ["found"]),
        ("{% load i18n %}<h1>{% translate 'Organisations' %}</h1>", []),
        ("{% load i18n %}<p>{% blocktranslate %}Hello {{ name }}{% endblocktranslate %}</p>", []),
        ("<p>{{ a }} · {{ b }} → 42</p><script>var x = 'y';</script>", []),
        ("{% comment %}Notes for developers{% endcomment %}<!-- a comment -->", []),
    ],
)
def test_the_scanner_finds_plain_text(source, expected):
    assert untranslated_text(source) == expected


def test_russian_catalogue_is_complete():
    assert problems(RU_PO) == [], "Run makemessages, translate, see README (Languages)"
    catalogue = read_catalogue(RU_PO)
    assert catalogue.num_plurals == 3
    # Placeholders (%(name)s) of every translation match its msgid.
    assert [m.id for m in catalogue if m.id and m.check(catalogue)] == []


def test_check_command_reports_a_missing_message(tmp_path, settings):
    (tmp_path / "ru" / "LC_MESSAGES").mkdir(parents=True)
    po = tmp_path / "ru" / "LC_MESSAGES" / "django.po"
    po.write_text(
        'msgid ""\nmsgstr ""\n"Language: ru\\n"\n\n'
        '#, fuzzy\nmsgid "Organisations"\nmsgstr "Организации"\n\n'
        'msgid "People"\nmsgstr ""\n',
        encoding="utf-8",
    )
    found = problems(po)
    assert "fuzzy: 'Organisations'" in found
    assert "untranslated: 'People'" in found
    assert any(
        line.startswith("missing (templates/base.html): 'Skip to content'") for line in found
    )
    settings.LOCALE_PATHS = [tmp_path]
    with pytest.raises(CommandError):
        call_command("compile_translations", "--check", stdout=io.StringIO())


def test_catalogues_compile(tmp_path):
    assert RU_PO in catalogue_paths()
    mo = RU_PO.with_suffix(".mo")
    assert mo.exists()  # compiled by conftest's pytest_sessionstart
    with translation.override("ru"):
        assert translation.gettext("Organisations") == "Организации"


@pytest.mark.django_db
def test_accept_language_chooses_the_language(client):
    english = client.get(LIST_URL).content.decode()
    russian = client.get(LIST_URL, HTTP_ACCEPT_LANGUAGE="ru-RU,ru;q=0.9").content.decode()
    assert '<html lang="en">' in english and "Skip to content" in english
    assert '<html lang="ru">' in russian and "Перейти к содержанию" in russian


@pytest.mark.django_db
def test_anonymous_switch_uses_a_cookie_without_javascript(client):
    response = client.post(reverse("set_language"), {"language": "ru", "next": LIST_URL})
    assert response.status_code == 302 and response["Location"] == LIST_URL
    cookie = client.cookies[settings.LANGUAGE_COOKIE_NAME]
    assert cookie.value == "ru" and cookie["httponly"] and cookie["samesite"] == "Lax"
    assert '<html lang="ru">' in client.get(LIST_URL).content.decode()
    assert not UserPreference.objects.exists()


@pytest.mark.django_db
def test_switcher_form_is_in_the_header(client):
    html = client.get(LIST_URL).content.decode()
    assert f'action="{reverse("set_language")}"' in html
    assert '<label class="visually-hidden" for="lang-select">Language</label>' in html
    # Each language named in itself, marked with its language for screen readers.
    assert '<option value="ru" lang="ru">Русский</option>' in html
    assert '<option value="en" lang="en" selected>English</option>' in html
    # Not "Английский": the option is marked lang="en" and must stay readable in either language.
    russian = client.get(LIST_URL, HTTP_ACCEPT_LANGUAGE="ru").content.decode()
    assert '<option value="en" lang="en">English</option>' in russian
    assert '<option value="ru" lang="ru" selected>Русский</option>' in russian


@pytest.mark.django_db
def test_choice_is_remembered_for_the_user_on_another_device(client, staff_user):
    client.force_login(staff_user)
    client.post(reverse("set_language"), {"language": "ru", "next": LIST_URL})
    assert UserPreference.objects.get(user=staff_user).language == "ru"

    # Another browser: no cookie, English Accept-Language; signing in brings Russian back.
    from django.test import Client

    other = Client(HTTP_ACCEPT_LANGUAGE="en")
    before = other.get(LIST_URL).content.decode()
    assert '<html lang="en">' in before
    response = other.post(
        reverse("login"), {"username": staff_user.username, "password": "correct-horse-battery"}
    )
    assert response.status_code == 302
    assert '<html lang="ru">' in other.get(LIST_URL).content.decode()

    # Switching back is remembered too.
    other.post(reverse("set_language"), {"language": "en", "next": LIST_URL})
    assert UserPreference.objects.get(user=staff_user).language == "en"
    assert '<html lang="en">' in other.get(LIST_URL, HTTP_ACCEPT_LANGUAGE="ru").content.decode()


@pytest.mark.django_db
def test_user_without_a_choice_follows_the_browser(client, staff_user):
    client.post(
        reverse("login"),
        {"username": staff_user.username, "password": "correct-horse-battery"},
    )
    html = client.get(LIST_URL, HTTP_ACCEPT_LANGUAGE="ru").content.decode()
    assert '<html lang="ru">' in html


@pytest.mark.django_db
def test_unknown_language_is_ignored(client, staff_user):
    client.force_login(staff_user)
    response = client.post(reverse("set_language"), {"language": "xx", "next": LIST_URL})
    assert response.status_code == 302
    assert not UserPreference.objects.exists()
    assert '<html lang="en">' in client.get(LIST_URL).content.decode()


@pytest.mark.django_db
def test_labels_countries_and_types_in_russian(client):
    factories.OrganisationFactory(
        name="Bir Duino", country="KG", type="ngo", focus_areas=["human-rights"]
    )
    html = client.get(LIST_URL, HTTP_ACCEPT_LANGUAGE="ru").content.decode()
    assert "Кыргызстан" in html
    assert "Права человека" in html
    assert "НКО" in html
    english = client.get(LIST_URL).content.decode()
    assert "Kyrgyzstan" in english and "Human rights" in english


@pytest.mark.django_db
def test_dates_and_numbers_are_localised(client, staff_user):
    org = factories.OrganisationFactory(name="Bir Duino", country="KG")
    staff_client = client
    staff_client.force_login(staff_user)
    with translation.override("ru"):
        from django.utils.formats import date_format, number_format

        assert date_format(datetime.date(2026, 3, 5), "DATE_FORMAT") == "5 марта 2026 г."
        assert number_format(1234.5, 1, force_grouping=True) == "1\xa0234,5"
    html = staff_client.get(org.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="ru").content.decode()
    assert '<html lang="ru">' in html
    # Facet counts are grouped the Russian way (a no-break space), plural forms agree.
    from django.template.loader import render_to_string

    options = [{"value": "KZ", "label": "Казахстан", "count": 1234, "selected": False}]
    with translation.override("ru"):
        facet = render_to_string(
            "includes/facet_group.html", {"name": "country", "legend": "Страна", "options": options}
        )
    assert ">1\xa0234</span>" in facet
    # The screen-reader text says what is counted, in the right plural form.
    assert '<span class="visually-hidden">(1234 организации)</span>' in facet
    with translation.override("en"):
        facet = render_to_string(
            "includes/facet_group.html",
            {"name": "country", "legend": "Country", "options": options},
        )
    assert ">1,234</span>" in facet
    assert '<span class="visually-hidden">(1234 organisations)</span>' in facet


@pytest.mark.django_db
def test_api_errors_follow_accept_language(client):
    response = client.get(
        "/api/v1/organisations/00000000-0000-0000-0000-000000000000/", HTTP_ACCEPT_LANGUAGE="ru"
    )
    assert response.status_code == 404
    assert response.json()["detail"] == "Страница не найдена."  # DRF's own Russian
    response = client.get("/api/v1/organisations/", {"country": "XX"}, HTTP_ACCEPT_LANGUAGE="ru")
    assert response.status_code == 400
    assert "XX" in str(response.json()) and "допустим" in str(response.json())


@pytest.mark.django_db
def test_filter_errors_name_the_field_in_the_active_language(client):
    response = client.get(LIST_URL, {"country": "XX"}, HTTP_ACCEPT_LANGUAGE="ru")
    assert response.status_code == 400
    html = response.content.decode()
    assert "Страна (<code>country</code>):" in html
    assert "Выберите корректный вариант. XX нет среди допустимых значений." in html


@pytest.mark.django_db
def test_sort_options_in_russian(client):
    html = client.get(LIST_URL, HTTP_ACCEPT_LANGUAGE="ru").content.decode()
    assert '<option value="-country">Страна (по убыванию)</option>' in html
    assert '<option value="founded_year">Год основания</option>' in html
    english = client.get(LIST_URL).content.decode()
    assert '<option value="-country">Country (descending)</option>' in english


@pytest.mark.django_db
def test_consent_log_and_languages_show_names_not_codes(client):
    staff = factories.staff_user()
    factories.grant(staff, "view_restricted")
    person = factories.PersonFactory(name="Aigul Ismailova", languages=["ru", "ky"])
    factories.consent_given(person, actor=staff, purposes=("directory", "contact"))
    client.force_login(staff)
    html = client.get(person.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="ru").content.decode()
    assert "<td>Размещение в справочнике, Связь с сотрудниками ЕС</td>" in html
    assert "<dd>Русский, Киргизский</dd>" in html
    english = client.get(person.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "<td>Listing in the directory, Being contacted by EU staff</td>" in english
    assert "<dd>Russian, Kyrgyz</dd>" in english


@pytest.mark.django_db
def test_cso_editor_page_in_russian(client):
    """Country names follow the request's language (not the one at import time), field
    decisions are shown as words, dates in the Russian long form."""
    from directory.services import self_service

    org = factories.OrganisationFactory(name="Bir Duino", country="KG", city="Bishkek")
    editor = factories.editor_of(org)
    moderator = factories.staff_user(
        perms=("view_internal", "change_organisation", "change_person", "moderate_profile_changes")
    )
    change = self_service.profile_change_propose(
        actor=editor, organisation=org, changes={"city": "Osh", "website": "https://x.example.org"}
    )
    self_service.profile_change_review(
        actor=moderator, change=change, approve=["city"], reason="Not their site", notify=False
    )
    client.force_login(editor)
    url = reverse("directory:my_organisation", args=[org.pk])
    html = client.get(url, HTTP_ACCEPT_LANGUAGE="ru").content.decode()
    assert '<option value="KG" selected>Кыргызстан</option>' in html
    assert "<td>Одобрено</td>" in html and "<td>Отклонено</td>" in html
    assert ">approved<" not in html
    with translation.override("ru"):
        from django.utils.formats import date_format
        from django.utils.timezone import localtime

        when = date_format(localtime(change.created_at), "DATETIME_FORMAT")
    assert f"<h3>{when} — Одобрено частично</h3>" in html  # "30 ноября 2026 г. 3:50"
    english = client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert '<option value="KG" selected>Kyrgyzstan</option>' in english
    assert "<td>Approved</td>" in english


@pytest.mark.django_db
def test_self_service_emails_use_the_recipients_language(django_capture_on_commit_callbacks):
    from django.core import mail

    from directory.services import self_service
    from directory.services.preferences import set_language_preference

    org = factories.OrganisationFactory(name="Bir Duino", country="KG", city="Bishkek")
    russian = factories.editor_of(org, email="ru@example.org")
    factories.editor_of(org, email="en@example.org")
    set_language_preference(user=russian, language="ru")
    moderator = factories.staff_user(
        perms=("view_internal", "change_organisation", "change_person", "moderate_profile_changes")
    )
    change = self_service.profile_change_propose(
        actor=russian, organisation=org, changes={"city": "Osh", "website": "https://x.example.org"}
    )
    with translation.override("en"), django_capture_on_commit_callbacks(execute=True):
        self_service.profile_change_review(
            actor=moderator, change=change, approve=["city"], reason="Not their site"
        )
    (review,) = mail.outbox
    assert review.subject == "Ваше предложение изменений профиля «Bir Duino» рассмотрено"
    assert "Одобрено частично" in review.body and "Отклонено:" in review.body

    mail.outbox.clear()
    with translation.override("en"), django_capture_on_commit_callbacks(execute=True):
        assert self_service.confirmation_reminders_send(actor=moderator, organisations=[org]) == 1
    by_recipient = {tuple(m.to): m for m in mail.outbox}
    assert set(by_recipient) == {("en@example.org",), ("ru@example.org",)}
    assert by_recipient[("ru@example.org",)].subject.startswith("Подтвердите, пожалуйста")
    assert by_recipient[("en@example.org",)].subject.startswith("Please confirm")
