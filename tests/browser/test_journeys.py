"""The main journeys of issue 10, in a real browser against the demo server."""

import re
import uuid
from datetime import date, timedelta

from playwright.sync_api import Page, expect

from tests.browser.helpers import FORUM


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
    # The interface is Russian; the organisation's own data stays as entered.
    expect(page.get_by_role("region", name="Об организации")).to_contain_text("Бир Дуйно")
    expect(page.locator(".profile-head")).to_contain_text("Кыргызстан, Bishkek")
    expect(page.get_by_role("heading", name="Internal (EU staff)")).to_have_count(0)


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


def balance_count(page: Page, status: str) -> int:
    """The number in the forum's balance table "Status" for one status (0 when absent)."""
    group = page.locator(".balance-group").filter(
        has=page.get_by_role("heading", name="Status", exact=True)
    )
    row = group.locator("tbody tr").filter(
        has=page.get_by_role("rowheader", name=status, exact=True)
    )
    return int(row.locator("td").first.inner_text()) if row.count() else 0


def test_organiser_adds_directory_results_to_the_forum_and_marks_attendance(new_context, site):
    page = new_context().new_page()
    site.login(page, "organiser")

    # Turkmen human-rights organisations: not on the forum's list yet (the demo data invited
    # the other four countries), and two of their contacts gave no consent to invitations.
    page.goto(site.url("/organisations/"))
    filters = page.locator("#filters")
    filters.get_by_role("group", name="Country").get_by_role(
        "checkbox", name=re.compile(r"^Turkmenistan")
    ).check()
    filters.get_by_role("group", name="Focus area").get_by_role(
        "checkbox", name=re.compile(r"^Human rights")
    ).check()
    filters.get_by_role("button", name="Apply filters").click()
    expect(page).to_have_url(re.compile(r"country=TM"))
    page.get_by_role("link", name="Add these results to an event").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Add these results to an event")
    expect(page.get_by_role("region", name="Filters")).to_contain_text("country = TM")
    page.get_by_label("Event", exact=True).select_option(label=FORUM)
    page.get_by_role("button", name="Preview").click()

    preview = page.get_by_role("region", name="Preview")
    summary = preview.get_by_text(re.compile(r"organisations match:"))
    expect(summary).to_have_text(
        re.compile(r"\d+ organisations match: \d+ people will be added, \d+ skipped\.")
    )
    added, skipped = map(
        int, re.search(r"(\d+) people will be added, (\d+) skipped", summary.inner_text()).groups()
    )
    assert added > 0 and skipped > 0, summary.inner_text()
    # Each skip with its reason, and the reasons counted above the tables.
    skipped_rows = preview.locator("table.skipped tbody tr")
    expect(skipped_rows).to_have_count(skipped)
    for index in range(skipped):
        expect(skipped_rows.nth(index).locator("td").nth(2)).to_have_text(
            "No consent to invitations"
        )
    expect(preview.locator("ul > li")).to_have_text([f"No consent to invitations: {skipped}"])
    added_rows = preview.locator("table.added tbody tr")
    expect(added_rows).to_have_count(added)
    people = [
        (row.locator("td").nth(0).inner_text(), row.locator("td").nth(1).inner_text())
        for row in added_rows.all()
    ]
    # Nothing is written by the preview.
    page.get_by_role("button", name=f"Add {added} people to the list").click()

    expect(page.get_by_role("heading", level=1)).to_have_text(FORUM)
    expect(page.get_by_role("status").first).to_contain_text(
        f"{added} people added to the list; {skipped} skipped."
    )
    attended_before = balance_count(page, "Attended")

    def select_and_set(from_status: str, to_status: str) -> None:
        invitations = page.get_by_role("region", name="Invitations")
        invitations.get_by_label("Status", exact=True).select_option(label=from_status)
        invitations.get_by_role("button", name="Show").click()
        for name, organisation in people:
            row = (
                invitations.locator("table.invitations tbody tr")
                .filter(has_text=organisation)
                .filter(has=page.get_by_role("checkbox", name=f"Select {name}", exact=True))
            )
            expect(row).to_have_count(1)
            expect(row).to_contain_text(from_status)
            row.get_by_role("checkbox").check()
        invitations.get_by_label("Set the status of the selected invitations to").select_option(
            label=to_status
        )
        invitations.get_by_role("button", name="Apply to selected").click()
        expect(page.get_by_role("status").first).to_contain_text(re.compile(rf"{added} invitations? changed\."))

    # Invitations go out, then the same people come.
    select_and_set("Proposed", "Invited")
    select_and_set("Invited", "Attended")
    expect(page.get_by_role("heading", level=1)).to_have_text(FORUM)

    # The balance: the table and its SVG chart count the new attendees.
    attended = attended_before + added
    assert balance_count(page, "Attended") == attended
    status_group = page.locator(".balance-group").filter(
        has=page.get_by_role("heading", name="Status", exact=True)
    )
    chart = status_group.get_by_role("img", name="Status")
    expect(chart).to_be_visible()
    bars = chart.locator("rect.bar")
    expect(bars).to_have_count(status_group.locator("tbody tr").count())
    expect(
        chart.locator("rect.bar title", has_text=re.compile(rf"^Attended: {attended} \("))
    ).to_have_count(1)
    for dimension in ("Country", "Gender"):
        expect(page.locator(".balance-group").get_by_role("img", name=dimension)).to_be_visible()
    expect(page.get_by_role("table", name="Targets")).to_be_visible()


def test_editor_proposes_a_change_staff_approves_it_and_the_public_sees_it(new_context, site):
    organisation = "Kylym Shamy Human Rights Centre"
    description = f"Legal aid and monitoring in Chui and Issyk-Kul ({uuid.uuid4().hex[:8]})."

    editor = new_context().new_page()
    site.login(editor, "editor")
    editor.get_by_role("navigation", name="Main").get_by_role(
        "link", name="My organisation"
    ).click()
    expect(editor.get_by_role("heading", level=1)).to_have_text(organisation)
    editor.get_by_role("group", name="Public profile").get_by_label("Description", exact=True).fill(
        description
    )
    editor.get_by_role("button", name="Send for review").click()
    expect(editor.get_by_role("status").first).to_contain_text(
        "sent to the directory team for review"
    )
    proposal = editor.locator("article.card").filter(has_text=description)
    expect(proposal.get_by_role("heading")).to_contain_text("Pending")

    # Not public before a moderator approves it.
    public = new_context().new_page()
    public.goto(site.url("/organisations/?q=Kylym+Shamy"))
    public.get_by_role("link", name=organisation).click()
    about = public.get_by_role("region", name="About")
    expect(about).to_be_visible()
    expect(about).not_to_contain_text(description)
    public_url = public.url

    staff = new_context().new_page()
    site.login(staff, "staff.kz")
    staff.get_by_role("navigation", name="Main").get_by_role("link", name="Profile changes").click()
    expect(staff.get_by_role("heading", level=1)).to_have_text("Profile changes to review")
    # Oldest first: the editor's new proposal is the organisation's last one.
    staff.get_by_role("link", name=organisation).last.click()
    expect(staff.get_by_role("heading", level=1)).to_have_text(
        f"Proposed changes to {organisation}"
    )
    row = staff.locator("table.diff tbody tr").filter(
        has=staff.get_by_role("rowheader", name="Description", exact=True)
    )
    expect(row).to_contain_text(description)
    expect(row.get_by_role("radio", name="Approve")).to_be_checked()
    staff.get_by_role("button", name="Save the decisions").click()
    expect(staff.get_by_role("status").first).to_contain_text("The review was saved")
    expect(staff.get_by_role("heading", level=1)).to_have_text("Profile changes to review")

    public.goto(public_url)
    expect(public.get_by_role("region", name="About")).to_contain_text(description)
    editor.reload()
    expect(
        editor.locator("article.card").filter(has_text=description).get_by_role("heading")
    ).to_contain_text("Approved")
