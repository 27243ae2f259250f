"""Helpers shared by the browser journeys: the site's address, signing in, common checks."""

from dataclasses import dataclass

from playwright.sync_api import Page, expect

DEMO_PASSWORD = "browser-demo-password"
FORUM = "EU–Central Asia Civil Society Forum"


@dataclass(frozen=True)
class Site:
    base_url: str

    def url(self, path: str) -> str:
        return self.base_url + path

    def login(self, page: Page, username: str, next_path: str = "") -> None:
        """Sign in through the login form, as a person would (any demo user)."""
        page.goto(self.url("/accounts/login/" + (f"?next={next_path}" if next_path else "")))
        # By id, not by label text: signing in must work whatever the interface language.
        form = page.locator("main form")
        form.locator("#id_username").fill(username)
        form.locator("#id_password").fill(DEMO_PASSWORD)
        form.locator("button[type=submit]").click()
        expect(page.locator(".whoami")).to_have_text(username)

    def switch_language(self, page: Page, language_name: str) -> None:
        """Choose a language in the header's switcher (a form that works without JavaScript)."""
        switcher = page.locator("form.lang-switch")
        switcher.get_by_label("Language").select_option(label=language_name)
        with page.expect_navigation():
            switcher.get_by_role("button").click()

    def api_token(self, page: Page, username: str) -> str:
        response = page.request.post(
            self.url("/api/v1/auth/token/"), data={"username": username, "password": DEMO_PASSWORD}
        )
        assert response.status == 200, response.text()
        return response.json()["token"]


def open_forum(page: Page) -> None:
    """From the events list, the demo forum's page."""
    page.get_by_role("link", name=FORUM).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(FORUM)


def preview_for_forum(page: Page) -> None:
    """On "Add these results to an event": choose the forum and show the preview (by ids, so
    it works in either language)."""
    page.locator("#id_event").select_option(label=FORUM)
    page.locator("form.stacked-form button[type=submit]").click()
    expect(page.locator("#preview-heading")).to_be_visible()


def open_first(selector: str):
    """Opens the first link matching `selector` (a list page's first result)."""

    def action(page: Page) -> None:
        page.locator(selector).first.click()
        page.wait_for_load_state()

    return action
