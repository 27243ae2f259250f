"""Accessibility in the server-rendered HTML (issue 10 point 2): every main page, in English
and Russian, has a language, a skip link to <main>, one h1, a label for every control,
header cells with a scope, and charts with a text alternative; the CSS colours meet the
WCAG contrast ratios. (The in-browser axe-core run is in the browser tests.)"""

import re
from html.parser import HTMLParser

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone

from tests import factories

pytestmark = pytest.mark.django_db

CSS = settings.BASE_DIR / "directory" / "static" / "directory" / "css" / "site.css"
UNLABELLED_TYPES = {"hidden", "submit", "button", "reset", "image"}


class Page(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.html_lang = None
        self.ids: set[str] = set()
        self.label_for: set[str] = set()
        self.controls: list[dict] = []
        self.label_depth = 0
        self.h1 = 0
        self.th_without_scope = 0
        self.skip_target = None
        self.svgs: list[dict] = []
        self._svg = None
        self._svg_text_tag = None
        self.tables_without_header = 0
        self._table = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if a.get("id"):
            self.ids.add(a["id"])
        if tag == "html":
            self.html_lang = a.get("lang")
        elif tag == "a" and "skip-link" in (a.get("class") or "") and self.skip_target is None:
            self.skip_target = (a.get("href") or "").lstrip("#")
        elif tag == "label":
            self.label_depth += 1
            if a.get("for"):
                self.label_for.add(a["for"])
        elif tag in ("input", "select", "textarea"):
            if tag != "input" or a.get("type", "text") not in UNLABELLED_TYPES:
                self.controls.append({**a, "_tag": tag, "_wrapped": self.label_depth > 0})
        elif tag == "h1":
            self.h1 += 1
        elif tag == "th":
            if not a.get("scope"):
                self.th_without_scope += 1
            if self._table:
                self._table[-1] = True
        elif tag == "table":
            self._table.append(False)
        elif tag == "svg":
            self._svg = {
                "role": a.get("role"),
                "labelledby": a.get("aria-labelledby", ""),
                "aria_hidden": a.get("aria-hidden"),
                "title": "",
                "desc": "",
            }
        elif tag in ("title", "desc") and self._svg is not None and not self._svg[tag]:
            self._svg_text_tag = tag

    def handle_endtag(self, tag):
        if tag == "label":
            self.label_depth -= 1
        elif tag == "table" and self._table:
            if not self._table.pop():
                self.tables_without_header += 1
        elif tag == "svg" and self._svg is not None:
            self.svgs.append(self._svg)
            self._svg = None
        elif tag in ("title", "desc"):
            self._svg_text_tag = None

    def handle_data(self, data):
        if self._svg_text_tag and self._svg is not None:
            self._svg[self._svg_text_tag] += data.strip()


def check(html: str) -> list[str]:
    page = Page()
    page.feed(html)
    problems = []
    if page.html_lang not in ("en", "ru"):
        problems.append(f"html lang={page.html_lang!r}")
    if not page.skip_target or page.skip_target not in page.ids:
        problems.append("skip link without a target")
    if page.h1 != 1:
        problems.append(f"{page.h1} h1 elements")
    for control in page.controls:
        labelled = (
            control["_wrapped"]
            or control.get("id") in page.label_for
            or control.get("aria-label")
            or control.get("aria-labelledby")
        )
        if not labelled:
            problems.append(f"unlabelled {control['_tag']} name={control.get('name')!r}")
    if page.th_without_scope:
        problems.append(f"{page.th_without_scope} th without scope")
    if page.tables_without_header:
        problems.append(f"{page.tables_without_header} table(s) without header cells")
    for svg in page.svgs:
        if svg["aria_hidden"] == "true":
            continue
        if svg["role"] != "img" or not svg["title"] or not svg["desc"] or not svg["labelledby"]:
            problems.append(f"chart without a text alternative: {svg}")
    return problems


@pytest.fixture
def world():
    team = factories.TeamFactory(name="EU Delegation KZ", countries=["KZ", "KG"])
    staff = factories.staff_user(team=team, username="aida", first_name="Aida")
    factories.grant(staff, "view_restricted", "import_organisations", "export_people")
    org = factories.OrganisationFactory(
        name="Bir Duino", country="KG", focus_areas=["human-rights"], languages=["ru", "ky"]
    )
    other = factories.OrganisationFactory(name="Bir Duino Kyrgyzstan", country="KG")
    person = factories.PersonFactory(name="Aigul Ismailova", languages=["ru"])
    factories.AffiliationFactory(person=person, organisation=org)
    factories.consent_given(person, actor=staff)
    record = factories.interaction(
        staff,
        organisations=[org],
        people=[person],
        subject="Partnership meeting",
        occurred_on=timezone.localdate(),
        follow_up_due=timezone.localdate(),
        follow_up_assignee=staff,
    )
    return {"staff": staff, "org": org, "other": other, "person": person, "record": record}


def pages(world):
    org, person, record = world["org"], world["person"], world["record"]
    return [
        "/organisations/",
        "/organisations/?q=bir&country=KG",
        f"/organisations/{org.pk}/",
        "/people/",
        f"/people/{person.pk}/",
        f"/people/{person.pk}/consent/",
        "/home/",
        "/interactions/",
        "/interactions/new/",
        f"/interactions/{record.pk}/",
        f"/interactions/{record.pk}/edit/",
        "/organisations/import/",
        "/organisations/duplicates/?name=Bir+Duino&country=KG",
        f"/organisations/{org.pk}/merge/?other={world['other'].pk}",
        "/accounts/2fa/",
        "/no-such-page/",
    ]


@pytest.mark.parametrize("language", ["en", "ru"])
def test_main_pages_are_structurally_accessible(world, language):
    anonymous = Client(HTTP_ACCEPT_LANGUAGE=language)
    staff = Client(HTTP_ACCEPT_LANGUAGE=language)
    staff.force_login(world["staff"])
    results = {}
    for url in ["/organisations/", f"/organisations/{world['org'].pk}/", "/accounts/login/"]:
        response = anonymous.get(url)
        assert response.status_code == 200, url
        results[f"anonymous {url}"] = check(response.content.decode())
    for url in pages(world):
        response = staff.get(url)
        assert response.status_code == (404 if url == "/no-such-page/" else 200), url
        html = response.content.decode()
        assert f'<html lang="{language}">' in html, url
        results[url] = check(html)
    admin = Client(HTTP_ACCEPT_LANGUAGE=language)
    admin.force_login(factories.UserFactory(is_superuser=True, is_staff=True))
    url = f"/people/{world['person'].pk}/erase/"
    response = admin.get(url)
    assert response.status_code == 200
    results[url] = check(response.content.decode())
    assert {url: found for url, found in results.items() if found} == {}


def test_checker_finds_problems():
    html = (
        '<html><body><a class="skip-link" href="#nowhere">Skip</a><main id="main">'
        '<h1>A</h1><h1>B</h1><input name="q"><select name="s"></select>'
        '<label>Wrapped <input name="ok"></label><label for="x">X</label><input id="x" name="x">'
        "<table><tr><td>1</td></tr></table><table><tr><th>H</th></tr></table>"
        '<svg viewBox="0 0 1 1"><rect/></svg></main></body></html>'
    )
    found = check(html)
    assert "html lang=None" in found
    assert "skip link without a target" in found
    assert "2 h1 elements" in found
    assert "unlabelled input name='q'" in found
    assert "unlabelled select name='s'" in found
    assert not any("'ok'" in p or "'x'" in p for p in found)
    assert "1 th without scope" in found
    assert "1 table(s) without header cells" in found
    assert any(p.startswith("chart without a text alternative") for p in found)


# --- Colour contrast (WCAG 2.2: 4.5:1 for text, 3:1 for focus rings and graphics) --------


def _luminance(hex_colour: str) -> float:
    h = hex_colour.lstrip("#")
    if len(h) == 3:
        h = "".join(c * 2 for c in h)
    channels = [int(h[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    r, g, b = (c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: str, b: str) -> float:
    high, low = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def css_variables() -> dict[str, str]:
    return dict(re.findall(r"--([\w-]+):\s*(#[0-9a-fA-F]{3,6})\b", CSS.read_text()))


def test_contrast_helper():
    assert round(contrast("#000", "#fff"), 1) == 21.0
    assert round(contrast("#777", "#fff"), 2) == 4.48  # the classic just-too-light grey


def test_text_colours_meet_4_5_to_1():
    v = css_variables()
    backgrounds = {"page": v["bg"], "card": v["card"], "table head": "#eef1f5", "tag": "#e8f0f8"}
    low = {
        (fg, where): round(contrast(v[fg], colour), 2)
        for fg in ("ink", "muted", "accent", "ok", "warn", "err")
        for where, colour in backgrounds.items()
        if contrast(v[fg], colour) < 4.5
    }
    assert low == {}
    assert contrast(v["accent-ink"], v["accent"]) >= 4.5  # header, buttons
    assert contrast("#fff", v["err"]) >= 4.5  # danger buttons
    assert contrast("#000", v["focus"]) >= 4.5  # skip link


def test_focus_ring_and_chart_colours_meet_3_to_1():
    v = css_variables()
    css = CSS.read_text()
    assert ":focus-visible { outline: 3px solid var(--focus-ring)" in css
    assert ".site-header :focus-visible { outline-color: var(--focus); }" in css
    assert contrast(v["focus-ring"], v["bg"]) >= 3 and contrast(v["focus-ring"], v["card"]) >= 3
    assert contrast(v["focus"], v["accent"]) >= 3
    kinds = {name: colour for name, colour in v.items() if name.startswith("k-")}
    assert len(kinds) == 7
    assert {k: c for k, c in kinds.items() if contrast(c, v["card"]) < 3} == {}
