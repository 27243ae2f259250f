"""Every main page at phone (390 px) and laptop (1366 px) width: a full-page screenshot under
test-output/browser/screenshots/ for a person to review, and checks that nothing makes the page
scroll sideways or hides a control off screen."""

import pytest
from playwright.sync_api import Page

from tests.browser.helpers import open_forum, preview_for_forum

WIDTHS = {"phone": 390, "laptop": 1366}
# Russian text runs longer than English: both are reviewed (the language cookie, as the
# header's switcher sets it).
LANGUAGES = ["en", "ru"]

FORUM_FILTER = "/events/add-from-directory/?country=TM&focus_area=human-rights"

# name -> (user or None for the public, path, then: open the first result of a list (a
# selector), or a function of the page)
PAGES = {
    "organisations": (None, "/organisations/", None),
    "organisation": (None, "/organisations/?q=Bir+Duino", "ol.cards > li h3 a"),
    "login": (None, "/accounts/login/", None),
    "not-found": (None, "/organisations/00000000-0000-0000-0000-000000000000/", None),
    "staff-home": ("staff.kz", "/home/", None),
    "staff-organisations": ("staff.kz", "/organisations/", None),
    "staff-organisation": ("staff.kz", "/organisations/?q=Qazaqstan+Water", "ol.cards > li h3 a"),
    "staff-interactions": ("staff.kz", "/interactions/", None),
    "staff-interaction": ("staff.kz", "/interactions/", "ol.cards > li h3 a"),
    "staff-interaction-form": ("staff.kz", "/interactions/new/", None),
    "staff-people": ("staff.kz", "/people/", None),
    "staff-person": ("staff.kz", "/people/", "table a"),
    "staff-duplicates": ("staff.kz", "/organisations/duplicates/", None),
    "staff-import": ("staff.kz", "/organisations/import/", None),
    "events": ("organiser", "/events/", None),
    "event": ("organiser", "/events/", open_forum),
    "event-add-preview": ("organiser", FORUM_FILTER, preview_for_forum),
    "my-organisation": ("editor", "/my/organisations/", None),
    "staff-moderation": ("staff.kz", "/moderation/", None),
    "staff-moderation-detail": ("staff.kz", "/moderation/", "main table a"),
    "staff-freshness": ("staff.kz", "/freshness/", None),
}

# Elements wider than the viewport, or starting past its right edge (a stray fixed width,
# a long unbroken word, a table without its scroll wrapper).
OVERFLOW = """() => {
    const width = document.documentElement.clientWidth;
    const out = [];
    for (const el of document.querySelectorAll('body *')) {
        const style = getComputedStyle(el);
        if (style.display === 'none' || style.visibility === 'hidden') continue;
        let inScroller = false;
        for (let p = el.parentElement; p; p = p.parentElement) {
            const ox = getComputedStyle(p).overflowX;
            if (ox === 'auto' || ox === 'scroll' || ox === 'hidden') { inScroller = true; break; }
        }
        if (inScroller || el.closest('.visually-hidden, .skip-link')) continue;
        const r = el.getBoundingClientRect();
        if (r.width > 0 && r.right > width + 1) {
            out.push(`${el.tagName.toLowerCase()}.${el.className}: right edge ${Math.round(r.right)} > ${width}`);
        }
    }
    return {scrollWidth: document.documentElement.scrollWidth, width, out: out.slice(0, 10)};
}"""


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("width", list(WIDTHS))
@pytest.mark.parametrize("name", list(PAGES))
def test_page_fits_the_screen(name, width, language, new_context, site, output_dir):
    user, path, open_first = PAGES[name]
    context = new_context(viewport={"width": WIDTHS[width], "height": 900})
    context.add_cookies([{"name": "django_language", "value": language, "url": site.base_url}])
    page: Page = context.new_page()
    if user:
        site.login(page, user)
    page.goto(site.url(path))
    if callable(open_first):
        open_first(page)
    elif open_first:
        page.locator(open_first).first.click()
        page.wait_for_load_state()
    folder = output_dir / "screenshots"
    folder.mkdir(exist_ok=True)
    assert page.locator("html").get_attribute("lang") == language
    page.screenshot(path=folder / f"{name}-{width}-{language}.png", full_page=True)
    layout = page.evaluate(OVERFLOW)
    assert layout["scrollWidth"] <= layout["width"], (
        f"{path} scrolls sideways at {width} width: {layout}"
    )
    assert not layout["out"], (
        f"{path} has elements past the right edge at {width} width: {layout['out']}"
    )
