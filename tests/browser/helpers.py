"""Helpers shared by the browser journeys: the site's address, signing in, common checks."""

from dataclasses import dataclass

from playwright.sync_api import Page, expect

DEMO_PASSWORD = "browser-demo-password"


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
