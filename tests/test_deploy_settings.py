"""The production settings read from the environment (README.md, "Deploying"): each case
imports directory.settings in a fresh interpreter with the given variables."""

import json
import os
import subprocess
import sys

import pytest
from django.conf import settings as test_settings

SHOW = (
    "import json; from directory import settings as s; "
    "print(json.dumps({'cache': s.CACHES['default']['BACKEND'], 'location': s.CACHES['default'].get('LOCATION'),"
    " 'db': {k: s.DATABASES['default'][k] for k in ('CONN_MAX_AGE', 'CONN_HEALTH_CHECKS', 'OPTIONS')},"
    " 'sessions': s.SESSION_ENGINE, 'static': s.STORAGES['staticfiles']['BACKEND'],"
    " 'retry_after': s.DB_UNAVAILABLE_RETRY_AFTER}))"
)


def settings_with(**env):
    clean = {
        k: v
        for k, v in os.environ.items()
        if k not in ("REDIS_URL", "CACHE_BACKEND", "STATIC_MANIFEST")
    }
    output = subprocess.run(
        [sys.executable, "-c", SHOW],
        env={**clean, **env},
        cwd=test_settings.BASE_DIR,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return json.loads(output)


@pytest.mark.parametrize(
    "env, backend, location",
    [
        ({}, "django.core.cache.backends.locmem.LocMemCache", None),
        (
            {"REDIS_URL": "redis://cache.internal:6379/0"},
            "django.core.cache.backends.redis.RedisCache",
            "redis://cache.internal:6379/0",
        ),
        (
            {"CACHE_BACKEND": "database"},
            "django.core.cache.backends.db.DatabaseCache",
            "directory_cache",
        ),
    ],
)
def test_shared_cache_for_throttling_across_servers(env, backend, location):
    found = settings_with(**env)
    assert (found["cache"], found["location"]) == (backend, location)
    assert found["sessions"] == "django.contrib.sessions.backends.db"


def test_postgresql_connections_are_health_checked_and_time_out():
    found = settings_with(
        DATABASE_URL="postgres://u@db.internal:5432/directory",
        DB_CONNECT_TIMEOUT="2",
        DB_CONN_MAX_AGE="120",
        DB_UNAVAILABLE_RETRY_AFTER="7",
    )
    assert found["db"] == {
        "CONN_MAX_AGE": 120,
        "CONN_HEALTH_CHECKS": True,
        "OPTIONS": {"connect_timeout": 2, "options": "-c jit=off"},
    }
    assert found["retry_after"] == 7


def test_static_manifest_switch(tmp_path):
    assert (
        settings_with(STATIC_MANIFEST="1")["static"]
        == "whitenoise.storage.CompressedManifestStaticFilesStorage"
    )
    assert (
        settings_with(STATIC_MANIFEST="0")["static"]
        == "django.contrib.staticfiles.storage.StaticFilesStorage"
    )
    # By default: hashed names once collectstatic has written its manifest.
    (tmp_path / "staticfiles.json").write_text("{}")
    assert settings_with(STATIC_ROOT=str(tmp_path))["static"].endswith(
        "CompressedManifestStaticFilesStorage"
    )
    plain = settings_with(STATIC_ROOT=str(tmp_path / "none"))["static"]
    assert plain == "django.contrib.staticfiles.storage.StaticFilesStorage"
