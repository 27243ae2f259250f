"""The main journeys of issue 10, in a real browser against the demo server.

Journeys (3) organiser and (4) editor join here once events and self-service are merged: use the
`new_context` / `staff_page` fixtures and `site.login(page, "organiser")`.
"""

import re
from datetime import date, timedelta

from playwright.sync_api import Page, expect


def test_public_searches_filters_and_opens_an_organisation(page: Page, site):
    page.goto(site.url("/organisations/"))
    page.get_by_label("Search names, acronyms and cities").fill("Бир Дуйно")
    page.get_by_role("button", name="Search", exact=True).click()
    expect(page).to_have_url(re.compile(r"q=%D0%91%D0%B8%D1%80"))
    results = page.locator("ol.cards > li")
    expect(results.first.locator("h3 a")).to_have_text("Bir Duino Kyrgyzstan")

    # Filters are plain form controls applied with one button (works without JavaScript).
    filters = page.locator("#filters")
    filters.get_by_role("group", name="Country").get_by_role("checkbox", name=re.compile(r"^Kyrgyzstan")).check()
    filters.get_by_role("group", name="Focus area").get_by_role(
        "checkbox", name=re.compile(r"^Human rights")
    ).check()
    filters.get_by_role("button", name="Apply filters").click()
    expect(page).to_have_url(re.compile(r"country=KG"))
    expect(page).to_have_url(re.compile(r"focus_area=human-rights"))
    expect(page.get_by_role("group", name="Country").get_by_role("checkbox", name=re.compile(r"^Kyrgyzstan"))).to_be_checked()
    expect(results).to_have_count(1)

    results.first.get_by_role("link", name="Bir Duino Kyrgyzstan").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Bir Duino Kyrgyzstan")
    expect(page.locator(".profile-head")).to_contain_text("Kyrgyzstan, Bishkek")
    expect(page.get_by_role("region", name="About")).to_contain_text("Бир Дуйно")
    # Internal fields and people are for staff only.
    expect(page.get_by_role("heading", name="Internal (EU staff)")).to_have_count(0)
    expect(page.get_by_role("heading", name="People")).to_have_count(0)
    # After the i18n merge: switch to Russian here with the header's language switcher and
    # check the heading and facets of the same page in Russian.
