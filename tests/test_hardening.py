"""Web hardening (SECURITY.md): CSP, brute-force lockout, second factor, CSRF, deploy checks."""

import re
from pathlib import Path

import pytest
from axes.utils import reset as axes_reset
from django.core.management import call_command
from django.test import Client
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests import factories

PASSWORD = "correct-horse-battery"


@pytest.fixture(autouse=True)
def _clean_axes(db):
    axes_reset()
    yield
    axes_reset()


def _login(ip, username, password, **extra):
    return Client(REMOTE_ADDR=ip).post(
        "/accounts/login/", {"username": username, "password": password, **extra}
    )


def test_every_page_sends_a_strict_content_security_policy(client, db):
    response = client.get("/organisations/")
    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy
    assert "unsafe-inline" not in policy
    assert response["X-Frame-Options"] == "DENY"


def test_templates_hold_no_inline_script():
    root = Path(__file__).resolve().parent.parent / "templates"
    inline = []
    for path in root.rglob("*.html"):
        for match in re.finditer(r"<script(?P<attrs>[^>]*)>", path.read_text()):
            if "src=" not in match.group("attrs"):
                inline.append(str(path))
    assert inline == []


def test_lockout_is_per_username_and_address_with_a_clear_page(db):
    user = factories.UserFactory()
    other = factories.UserFactory()
    for _ in range(4):
        assert _login("10.1.1.1", user.username, "wrong").status_code == 200
    assert _login("10.1.1.1", user.username, "wrong").status_code == 429  # the fifth failure locks
    locked = _login("10.1.1.1", user.username, PASSWORD)
    assert locked.status_code == 429
    assert b"Too many failed sign-ins" in locked.content
    # The same account from another address, and another account from the same office, still work.
    assert _login("10.1.1.2", user.username, PASSWORD).status_code == 302
    assert _login("10.1.1.1", other.username, PASSWORD).status_code == 302


def test_cool_off_ends_the_lockout(db, settings):
    user = factories.UserFactory()
    for _ in range(5):
        _login("10.2.2.2", user.username, "wrong")
    assert _login("10.2.2.2", user.username, PASSWORD).status_code == 429
    settings.AXES_COOLOFF_TIME = 0.0000001  # hours: the cool-off has passed
    assert _login("10.2.2.2", user.username, PASSWORD).status_code == 302


def test_wrong_password_page_names_the_problem(db):
    user = factories.UserFactory()
    response = _login("10.3.3.3", user.username, "wrong")
    assert response.status_code == 200
    assert b"Please enter a correct username and password" in response.content


def _confirmed_device(user):
    device = TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
    return device


def _code(device):
    return f"{totp(device.bin_key, device.step, device.t0, device.digits, device.drift):06d}"


def test_second_factor_is_required_once_set_up(db):
    user = factories.staff_user()
    device = _confirmed_device(user)
    missing = _login("10.4.4.4", user.username, PASSWORD)
    assert missing.status_code == 200
    assert b"Enter the one-time code" in missing.content
    wrong = _login("10.4.4.4", user.username, PASSWORD, otp_token="000000" if _code(device) != "000000" else "111111")
    assert b"not valid" in wrong.content
    device.refresh_from_db()
    device.throttle_reset()  # a failed code delays the next try (django-otp throttling)
    good = _login("10.4.4.4", user.username, PASSWORD, otp_token=_code(device))
    assert good.status_code == 302


def test_staff_can_enable_a_second_factor(client, db):
    user = factories.staff_user()
    client.force_login(user)
    page = client.get("/accounts/2fa/")
    assert page.status_code == 200
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    bad = client.post("/accounts/2fa/", {"token": "12"})
    assert bad.status_code == 400
    assert not TOTPDevice.objects.filter(user=user, confirmed=True).exists()
    device.refresh_from_db()
    device.throttle_reset()
    ok = client.post("/accounts/2fa/", {"token": _code(device)})
    assert ok.status_code == 302
    assert TOTPDevice.objects.filter(user=user, confirmed=True).count() == 1


def test_admins_must_verify_when_the_setting_is_on(client, db, settings):
    settings.OTP_REQUIRED_FOR_ADMINS = True
    admin = factories.UserFactory(is_superuser=True, is_staff=True)
    client.force_login(admin)
    response = client.get("/admin/")
    assert response.status_code == 302 and response["Location"] == "/accounts/2fa/"
    api = client.get("/api/v1/organisations/")
    assert api.status_code == 403
    settings.OTP_REQUIRED_FOR_ADMINS = False
    assert client.get("/admin/").status_code == 200


def test_session_post_without_csrf_token_is_refused(db):
    user = factories.staff_user()
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    response = client.post("/accounts/2fa/", {"token": "123456"})
    assert response.status_code == 403
    assert not TOTPDevice.objects.filter(user=user).exists()


def test_deploy_checks_pass_with_production_defaults(settings):
    settings.DEBUG = False
    settings.SECRET_KEY = "x" * 20 + "production-secret-key-with-enough-entropy-123456"
    settings.SECURE_SSL_REDIRECT = True
    settings.SESSION_COOKIE_SECURE = True
    settings.CSRF_COOKIE_SECURE = True
    call_command("check", "--deploy", "--fail-level", "WARNING")


def test_session_idle_timeout_defaults_to_thirty_minutes(settings):
    assert settings.SESSION_COOKIE_AGE == 1800
    assert settings.SESSION_COOKIE_HTTPONLY is True


@pytest.mark.django_db
def test_activity_extends_the_session_at_most_once_a_minute(monkeypatch):
    """Idle timeout: a request a minute or more after the last extension pushes the expiry
    30 minutes ahead; requests in between write nothing (no session UPDATE per request)."""
    from django.contrib.sessions.models import Session

    from directory import middleware

    clock = [1_800_000_000.0]
    monkeypatch.setattr(middleware.time, "time", lambda: clock[0])
    client = Client()
    client.force_login(factories.staff_user(username="idle"))
    client.get("/people/", secure=True)
    key = client.cookies["sessionid"].value
    first = Session.objects.get(session_key=key).expire_date
    clock[0] += 30
    client.get("/people/", secure=True)
    assert Session.objects.get(session_key=key).expire_date == first  # not written again
    clock[0] += 31
    client.get("/people/", secure=True)
    assert Session.objects.get(session_key=key).expire_date > first
    # An anonymous visitor gets no session at all.
    anonymous = Client()
    anonymous.get("/organisations/", secure=True)
    assert "sessionid" not in anonymous.cookies
