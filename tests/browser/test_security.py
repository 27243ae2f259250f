"""Journey 5: a page from another origin cannot submit the app's forms (CSRF), a stored
`<script>` is shown as text and never runs, and the Content Security Policy blocks inline
script even where escaping would fail."""

import html
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import free_port


@pytest.fixture
def other_origin():
    """A tiny server on another port: set `pages[path] = html` and open `url + path`."""
    pages: dict[str, str] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - http.server's naming
            body = pages.get(self.path, "not found").encode()
            self.send_response(200 if self.path in pages else 404)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    server.url = f"http://127.0.0.1:{server.server_port}"
    server.pages = pages
    yield server
    server.shutdown()
    server.server_close()


def test_a_form_posted_from_another_origin_is_refused(staff_page: Page, site, other_origin):
    page = staff_page
    subject = f"Forged meeting {uuid.uuid4().hex[:8]}"
    # The same fields the real form sends, without the CSRF token the attacker cannot read.
    # 127.0.0.1 on another port is the same *site*, so the SameSite=Lax session cookie IS
    # sent: only the CSRF check stands between this page and a write.
    other_origin.pages["/attack"] = f"""<!doctype html><title>Win a prize</title>
<form method="post" action="{site.url("/interactions/new/")}">
  <input name="occurred_on" value="2026-01-05"><input name="kind" value="meeting">
  <input name="subject" value="{html.escape(subject)}"><input name="sensitivity" value="staff">
  <input name="save" value="1"><button type="submit">Claim</button>
</form>"""
    page.goto(other_origin.url + "/attack")
    with page.expect_response(site.url("/interactions/new/")) as response_info:
        page.get_by_role("button", name="Claim").click()
    response = response_info.value
    assert response.request.method == "POST"
    assert response.status == 403
    expect(page.locator("body")).to_contain_text("CSRF verification failed")

    # Nothing was written: the signed-in user's contact history does not know the subject.
    page.goto(site.url("/interactions/?q=" + subject.replace(" ", "+")))
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    expect(page.get_by_text(subject)).to_have_count(0)
    # The same form from the app itself works (the check is the token, not a broken form).
    page.goto(site.url("/interactions/new/"))
    page.get_by_label("Date:", exact=True).fill("2026-01-05")
    page.get_by_label("Subject").fill(subject)
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(subject)


def test_a_stored_script_does_not_run_and_csp_blocks_inline_script(page: Page, site):
    # A staff member stores markup in a public organisation's description through the API.
    token = site.api_token(page, "staff.kz")
    auth = {"Authorization": f"Token {token}"}
    listing = page.request.get(
        site.url("/api/v1/organisations/?country=KZ&visibility=public&ordering=-name&page_size=1"),
        headers=auth,
    )
    assert listing.status == 200, listing.text()
    organisation = listing.json()["results"][0]
    detail_url = site.url(f"/api/v1/organisations/{organisation['id']}/")
    etag = page.request.get(detail_url, headers=auth).headers["etag"]
    payload = (
        "Clean water for all.\n<script>window.__pwned = 'script'</script>"
        '<img src="/missing.png" onerror="window.__pwned = \'onerror\'">'
    )
    patched = page.request.patch(
        detail_url, headers={**auth, "If-Match": etag}, data={"description": payload}
    )
    assert patched.status == 200, patched.text()

    violations = []
    page.on(
        "console",
        lambda msg: violations.append(msg.text) if "Content Security Policy" in msg.text else None,
    )
    page.goto(site.url(f"/organisations/{organisation['id']}/"))
    about = page.get_by_role("region", name="About")
    # Shown as text, exactly as typed; no element was created from it.
    expect(about).to_contain_text("<script>window.__pwned = 'script'</script>")
    expect(about.locator("script, img")).to_have_count(0)
    assert page.evaluate("window.__pwned") is None

    # Defence in depth: even an inline script that made it into the page is refused by CSP.
    page.evaluate("""() => {
        window.__cspEvents = [];
        document.addEventListener('securitypolicyviolation', e => window.__cspEvents.push(e.violatedDirective));
        const s = document.createElement('script');
        s.textContent = "window.__pwned = 'inline'";
        document.body.appendChild(s);
        const b = document.createElement('button');
        b.setAttribute('onclick', "window.__pwned = 'handler'");
        document.body.appendChild(b);
        b.click();
    }""")
    page.wait_for_function("window.__cspEvents.length >= 2")
    assert page.evaluate("window.__pwned") is None
    assert all(d.startswith("script-src") for d in page.evaluate("window.__cspEvents"))
    assert violations, "the browser reported no CSP violation"
