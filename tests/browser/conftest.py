"""Browser tests: Playwright drives Debian's Chromium against the demo server.

The server is `manage.py demo` in a subprocess on a free port, with its own SQLite file and the
demo data seeded once per run, so the pages are exactly what a user of the demo sees (DEBUG off,
CSP and CSRF on). Tests only read and add records (unique subjects), so they can share it.

Run explicitly: `python -m pytest tests/browser` (the default test run leaves this folder out,
see `norecursedirs` in pyproject.toml). `.ci/browser_deps.sh` installs Chromium and axe-core.
"""

import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest

from tests.browser.helpers import DEMO_PASSWORD, Site

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
OUTPUT = Path(os.environ.get("BROWSER_TEST_OUTPUT", ROOT / "test-output" / "browser"))

# Flags for a quiet, reproducible, offline browser: no sandbox (containers, root), nothing
# fetched in the background (updates, safe browsing, translate, metrics).
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-default-apps",
    "--disable-sync",
    "--disable-extensions",
    "--disable-domain-reliability",
    "--disable-client-side-phishing-detection",
    "--metrics-recording-only",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-features=Translate,OptimizationHints,MediaRouter",
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def axe_core_path() -> Path:
    """axe.min.js as installed by .ci/browser_deps.sh (AXE_CORE_JS overrides)."""
    if os.environ.get("AXE_CORE_JS"):
        return Path(os.environ["AXE_CORE_JS"])
    script = (ROOT / ".ci" / "browser_deps.sh").read_text()
    version = re.search(r"^AXE_CORE_VERSION=(\S+)$", script, re.M).group(1)
    cache = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    base = Path(os.environ.get("AXE_CORE_DIR", cache / "ca-directory" / f"axe-core-{version}"))
    return base / "node_modules" / "axe-core" / "axe.min.js"


@pytest.fixture(scope="session")
def output_dir() -> Path:
    OUTPUT.mkdir(parents=True, exist_ok=True)
    # Nothing stale from an earlier run may pass for this run's evidence.
    for folder in ("failures", "screenshots", "axe"):
        shutil.rmtree(OUTPUT / folder, ignore_errors=True)
    return OUTPUT


@pytest.fixture(scope="session")
def site(output_dir):
    """The demo server, migrated and seeded, on a free port; stopped after the run."""
    tmp = Path(tempfile.mkdtemp(prefix="browser-demo-"))
    port = free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "directory.settings",
        "DATABASE_URL": f"sqlite:///{tmp / 'demo.sqlite3'}",
        "DEMO_PASSWORD": DEMO_PASSWORD,
        "SECRET_KEY": "browser-tests-not-secret",
        "LOCAL_HTTP": "1",
        "DEBUG": "0",
        "LOG_LEVEL": "WARNING",
        # The tests sign in many times from one address.
        "AXES_FAILURE_LIMIT": "1000",
        "THROTTLE_TOKEN": "1000/minute",
        "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
    }
    log = open(output_dir / "server.log", "w")  # noqa: SIM115 - closed at teardown
    proc = subprocess.Popen(
        [sys.executable, "manage.py", "demo", f"127.0.0.1:{port}"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 300
    while True:
        if proc.poll() is not None:
            raise RuntimeError(
                f"demo server exited with {proc.returncode}; see {output_dir / 'server.log'}"
            )
        try:
            with urllib.request.urlopen(f"{base}/healthz", timeout=2) as resp:
                if resp.status == 200:
                    break
        except OSError:
            pass
        if time.monotonic() > deadline:
            proc.terminate()
            raise RuntimeError(f"demo server did not start; see {output_dir / 'server.log'}")
        time.sleep(0.5)
    yield Site(base)
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
    log.close()
    shutil.rmtree(tmp, ignore_errors=True)


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        raise RuntimeError(
            f"{CHROMIUM} is missing: run `bash .ci/browser_deps.sh` (apt-get install chromium)"
        )
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.when == "call":
        item.stash[CALL_FAILED] = report.failed
    return report


CALL_FAILED = pytest.StashKey[bool]()


def safe_name(nodeid: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", nodeid.split("::", 1)[-1])[:120]


@pytest.fixture
def new_context(browser, request, output_dir):
    """Makes browser contexts (one per user); on a failed test every open page is saved as a
    full-page screenshot under test-output/browser/failures/."""
    contexts = []

    def make(**options):
        options.setdefault("viewport", {"width": 1366, "height": 900})
        options.setdefault("locale", "en-GB")
        context = browser.new_context(**options)
        context.set_default_timeout(15_000)
        contexts.append(context)
        return context

    yield make
    if request.node.stash.get(CALL_FAILED, False):
        folder = output_dir / "failures"
        folder.mkdir(exist_ok=True)
        for c_index, context in enumerate(contexts):
            for p_index, page in enumerate(context.pages):
                path = folder / f"{safe_name(request.node.nodeid)}-{c_index}-{p_index}.png"
                try:
                    page.screenshot(path=path, full_page=True)
                except Exception as exc:  # a crashed page must not hide the test's own error
                    print(f"screenshot {path} failed: {exc}")
                else:
                    print(f"screenshot saved: {path}")
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_context):
    """A page of an anonymous visitor."""
    return new_context().new_page()


@pytest.fixture
def staff_page(new_context, site):
    """A page signed in as `staff.kz`."""
    page = new_context().new_page()
    site.login(page, "staff.kz")
    return page


@pytest.fixture(scope="session")
def axe_source() -> str:
    path = axe_core_path()
    if not path.exists():
        raise RuntimeError(
            f"{path} is missing: run `bash .ci/browser_deps.sh` (npm install axe-core)"
        )
    return path.read_text()
