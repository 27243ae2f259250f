"""axe-core (from the npm registry, see .ci/browser_deps.sh) checks each main page in the browser;
a serious or critical violation fails the test. Every finding, whatever its impact, is written to
test-output/browser/axe/<page>.json for review."""

import json

import pytest
from playwright.sync_api import Page, expect

from tests.browser.helpers import open_first, open_forum, preview_for_forum

FAILING_IMPACTS = {"serious", "critical"}
# "Needs review" items fail too, except colour contrast, which axe cannot compute over SVG or
# for options scrolled out of view in a filter list: those were checked by hand (README).
REVIEWED_BY_HAND = {"color-contrast"}
BIR_DUINO = "/organisations/?q=Bir+Duino"
QWP = "/organisations/?q=Qazaqstan+Water"

# Turkmen human-rights organisations: the demo data did not invite them, and two contacts gave
# no consent, so the preview shows both tables and the confirm button.
FORUM_FILTER = "/events/add-from-directory/?country=TM&focus_area=human-rights"

# name -> (user or None for the public, path, then what to open from there: a list page's first
# result, or a function of the page)
PAGES = {
    "public-list": (None, "/organisations/", None),
    "public-list-filtered": (None, "/organisations/?country=KG&focus_area=human-rights", None),
    "public-detail": (None, BIR_DUINO, "first-result"),
    "login": (None, "/accounts/login/", None),
    "staff-home": ("staff.kz", "/home/", None),
    "staff-interactions": ("staff.kz", "/interactions/", None),
    "staff-organisation-detail": ("staff.kz", QWP, "first-result"),
    "staff-interaction-form": ("staff.kz", "/interactions/new/", None),
    "staff-person-detail": ("staff.kz", "/people/", "first-person"),
    "staff-people": ("staff.kz", "/people/", None),
    "staff-interaction-detail": ("staff.kz", "/interactions/", "first-result"),
    "staff-duplicates": ("staff.kz", "/organisations/duplicates/", None),
    "staff-import": ("staff.kz", "/organisations/import/", None),
    "organiser-events": ("organiser", "/events/", None),
    "organiser-event-detail": ("organiser", "/events/", open_forum),
    "organiser-add-preview": ("organiser", FORUM_FILTER, preview_for_forum),
    # With one organisation, "My organisation" opens it straight away.
    "editor-my-organisation": ("editor", "/my/organisations/", None),
    "staff-moderation-queue": ("staff.kz", "/moderation/", None),
    "staff-moderation-detail": ("staff.kz", "/moderation/", open_first("main table a")),
    "staff-freshness": ("staff.kz", "/freshness/", None),
}


def run_axe(page: Page, axe_source: str) -> dict:
    # Evaluated through the DevTools protocol, so the page's CSP (script-src 'self') does not
    # stop it, and nothing is added to the page the user sees.
    page.evaluate(axe_source)
    result = page.evaluate(
        """async () => {
            const r = await axe.run(document);
            const brief = v => ({
                id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
                nodes: v.nodes.map(n => ({target: n.target, html: n.html.slice(0, 300),
                                          summary: n.failureSummary}))
            });
            // "incomplete": what axe could not decide alone (for a person to review).
            return {violations: r.violations.map(brief), incomplete: r.incomplete.map(brief),
                    passes: r.passes.length};
        }"""
    )
    return result


@pytest.mark.parametrize("name", list(PAGES))
def test_page_has_no_serious_accessibility_violations(
    name, new_context, site, axe_source, output_dir
):
    user, path, action = PAGES[name]
    page = new_context().new_page()
    if user:
        site.login(page, user)
    page.goto(site.url(path))
    if action == "first-result":
        page.locator("ol.cards > li h3 a").first.click()
        page.wait_for_load_state()
    if action == "first-person":
        page.locator("table a").first.click()
        page.wait_for_load_state()
    if callable(action):
        action(page)
    result = run_axe(page, axe_source)
    folder = output_dir / "axe"
    folder.mkdir(exist_ok=True)
    (folder / f"{name}.json").write_text(json.dumps(result, indent=2, ensure_ascii=False))
    assert result["passes"] > 10, "axe-core checked nothing on this page"
    unsure = [v for v in result["incomplete"] if v["id"] not in REVIEWED_BY_HAND]
    serious = [v for v in result["violations"] + unsure if v["impact"] in FAILING_IMPACTS]
    summary = "\n".join(
        f"{v['impact']}: {v['id']} ({v['help']}) on {len(v['nodes'])} element(s), e.g. {v['nodes'][0]['html']}"
        for v in serious
    )
    assert not serious, f"axe-core found on {path}:\n{summary}"


def test_the_checker_reports_a_known_violation(page: Page, site, axe_source):
    """The check above can fail: the same run on a page with a nameless button and an image
    without alt text reports both as critical."""
    page.goto(site.url("/accounts/login/"))
    page.evaluate("""() => {
        document.querySelector('main').insertAdjacentHTML('beforeend',
            '<button type="button"></button><img src="/static/directory/css/site.css">');
    }""")
    found = {v["id"]: v["impact"] for v in run_axe(page, axe_source)["violations"]}
    assert found.get("button-name") == "critical"
    assert found.get("image-alt") == "critical"


def test_keyboard_reaches_the_content_through_a_visible_skip_link(page: Page, site):
    page.goto(site.url("/organisations/"))
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to content")
    expect(skip).to_be_focused()
    box = skip.bounding_box()
    assert box and box["x"] >= 0 and box["y"] >= 0, f"the focused skip link is off screen: {box}"
    outline = page.evaluate("() => getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none", "the focused skip link has no visible focus outline"
    page.keyboard.press("Enter")
    expect(page.locator("main")).to_be_focused()
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.querySelector('main').contains(document.activeElement)")
    outline = page.evaluate("() => getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none", "the first control of the content has no visible focus outline"
