"""The main journeys of issue 10, in a real browser against the demo server.

Journeys (3) organiser and (4) editor join here once events and self-service are merged: use the
`new_context` / `staff_page` fixtures and `site.login(page, "organiser")`.
"""

import re
import uuid
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
    filters.get_by_role("group", name="Country").get_by_role(
        "checkbox", name=re.compile(r"^Kyrgyzstan")
    ).check()
    filters.get_by_role("group", name="Focus area").get_by_role(
        "checkbox", name=re.compile(r"^Human rights")
    ).check()
    filters.get_by_role("button", name="Apply filters").click()
    expect(page).to_have_url(re.compile(r"country=KG"))
    expect(page).to_have_url(re.compile(r"focus_area=human-rights"))
    expect(
        page.get_by_role("group", name="Country").get_by_role(
            "checkbox", name=re.compile(r"^Kyrgyzstan")
        )
    ).to_be_checked()
    expect(results).to_have_count(1)

    results.first.get_by_role("link", name="Bir Duino Kyrgyzstan").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Bir Duino Kyrgyzstan")
    expect(page.locator(".profile-head")).to_contain_text("Kyrgyzstan, Bishkek")
    expect(page.get_by_role("region", name="About")).to_contain_text("Бир Дуйно")
    # Internal fields and people are for staff only.
    expect(page.get_by_role("heading", name="Internal (EU staff)")).to_have_count(0)
    expect(page.get_by_role("heading", name="People")).to_have_count(0)

    # The header's language switcher keeps the visitor on the same page, now in Russian.
    detail_url = page.url
    site.switch_language(page, "Русский")
    expect(page).to_have_url(detail_url)
    expect(page.locator("html")).to_have_attribute("lang", "ru")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Bir Duino Kyrgyzstan")
    # After the Russian catalogue is merged, check translated text here (the "About" heading,
    # the country name, the facet legends).


def test_staff_logs_a_meeting_with_a_follow_up_from_an_organisation_page(staff_page: Page, site):
    page = staff_page
    subject = f"Partnership meeting {uuid.uuid4().hex[:8]}"
    due = date.today() + timedelta(days=7)

    page.goto(site.url("/organisations/"))
    page.get_by_label("Search names, acronyms and cities").fill("Qazaqstan Water")
    page.get_by_role("button", name="Search", exact=True).click()
    page.get_by_role("link", name="Qazaqstan Water Partnership").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Qazaqstan Water Partnership")
    org_url = page.url

    page.locator(".profile-head").get_by_role("link", name="Log an interaction").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Log an interaction")
    # The organisation comes pre-chosen from its page.
    expect(
        page.get_by_role("group", name="Organisations").get_by_role(
            "checkbox", name=re.compile("Qazaqstan Water Partnership")
        )
    ).to_be_checked()
    page.get_by_label("Date:", exact=True).fill(date.today().isoformat())
    page.get_by_label("Kind").select_option(label="Meeting")
    page.get_by_label("Subject").fill(subject)
    page.get_by_label("Notes").fill("Agreed to draft a joint proposal on the Ili river basin.")
    page.get_by_label("Follow-up due").fill(due.isoformat())
    page.get_by_role("button", name="Save").click()

    expect(page.get_by_role("status")).to_contain_text("Interaction saved.")
    expect(page.get_by_role("heading", level=1)).to_have_text(subject)
    expect(page.locator("dl.facts")).to_contain_text("Meeting")
    expect(page.locator("dl.facts")).to_contain_text("by staff.kz")

    # On the organisation's timeline, newest first.
    page.goto(org_url)
    timeline = page.get_by_role("region", name="Contact history")
    first = timeline.locator("ol.timeline-list > li").first
    expect(first.get_by_role("link", name=subject)).to_be_visible()
    expect(first).to_contain_text("Meeting")
    expect(first).to_contain_text("follow-up due")

    # On the home page: an open follow-up assigned to the author, and a recent interaction.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Home").click()
    follow_ups = page.get_by_role("region", name="My open follow-ups")
    item = follow_ups.locator("li.follow-up", has_text=subject)
    expect(item).to_have_count(1)
    expect(item.locator("time")).to_have_attribute("datetime", due.isoformat())
    recent = page.get_by_role("region", name="Recent interactions of my teams")
    expect(recent.get_by_role("link", name=subject)).to_be_visible()
