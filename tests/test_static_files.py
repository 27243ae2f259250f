"""Static files in production (issue 9 point 3): after collectstatic, WhiteNoise serves hashed,
compressed names with far-future caching, and the pages link to the hashed names."""

import json

import pytest
from django.core.management import call_command
from django.test import Client

MANIFEST_STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}


@pytest.mark.django_db
def test_collected_static_files_are_hashed_compressed_and_cached_forever(tmp_path, settings):
    settings.STATIC_ROOT = tmp_path
    settings.STORAGES = MANIFEST_STORAGES
    settings.WHITENOISE_USE_FINDERS = False
    call_command("collectstatic", "--noinput", verbosity=0)

    hashed = json.loads((tmp_path / "staticfiles.json").read_text())["paths"][
        "directory/css/site.css"
    ]
    assert hashed != "directory/css/site.css" and hashed.startswith("directory/css/site.")
    assert (tmp_path / f"{hashed}.gz").exists()

    client = Client()  # a new handler: WhiteNoise reads STATIC_ROOT when it starts
    page = client.get("/organisations/")
    assert f'href="/static/{hashed}"' in page.content.decode()

    response = client.get(f"/static/{hashed}", HTTP_ACCEPT_ENCODING="gzip")
    assert response.status_code == 200
    assert response["Content-Encoding"] == "gzip"
    assert (
        "immutable" in response["Cache-Control"]
        and "max-age=315360000" in response["Cache-Control"]
    )
    # The unhashed name is still served, but must be revalidated.
    plain = client.get("/static/directory/css/site.css")
    assert plain.status_code == 200 and "immutable" not in plain["Cache-Control"]


def test_without_a_manifest_files_are_served_from_the_apps(tmp_path, settings):
    # Tests, demo and development (settings.STATIC_MANIFEST off): no collectstatic needed.
    settings.STATIC_ROOT = tmp_path / "never-collected"
    settings.STORAGES = {
        **MANIFEST_STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    settings.WHITENOISE_USE_FINDERS = True
    response = Client().get("/static/directory/css/site.css")
    assert response.status_code == 200
    assert b"".join(response.streaming_content)
