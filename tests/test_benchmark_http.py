"""`manage.py benchmark --http-only` at a tiny scale: gunicorn with the repository's
configuration serves the seeded (committed) test database; the load client's figures come back
in the table and the JSON file."""

import json

import pytest
from django.core.management import call_command

from directory.benchmarking import http as http_benchmark

pytestmark = [
    pytest.mark.postgresql,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_http_mode_end_to_end(tmp_path):
    path = tmp_path / "http.json"
    out = tmp_path / "out.txt"
    call_command(
        "benchmark",
        "--scale",
        "tiny",
        "--in-place",
        "--http-only",
        "--http-seconds",
        "0.5",
        "--quiet-progress",
        "--json",
        str(path),
        stdout=open(out, "w"),
        stderr=open(tmp_path / "err.txt", "w"),
    )
    data = json.loads(path.read_text())["http"]
    assert data["server"]["worker_class"] == "gthread" and data["server"]["workers"] >= 2
    assert 8101 <= data["server"]["port"] <= 8109
    runs = {(r["name"], r["concurrency"]): r for r in data["results"]}
    names = {
        "healthz",
        "org_list",
        "org_search_latin",
        "org_search_cyrillic",
        "org_detail",
        "org_list_html",
    }
    assert set(runs) == {(name, c) for name in names for c in (1, 8)}
    for key, r in runs.items():
        assert r["errors"] == 0, key
        assert r["requests"] > 0 and r["requests_per_s"] > 0, key
        assert 0 < r["p50_ms"] <= r["p95_ms"] <= r["p99_ms"], key
        assert r["bytes"] > 0, key
    # The search finds the seeded organisation in either script: not an empty page.
    assert runs[("org_search_cyrillic", 1)]["bytes"] > runs[("org_list", 1)]["bytes"] / 50
    text = out.read_text()
    assert "HTTP (gunicorn)" in text and "org_list" in text
    assert any(line.startswith(("ok  ", "MISS")) for line in data["checks"])


def test_database_url_round_trips_the_connection_settings():
    settings = {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": "db",
        "USER": "u",
        "PASSWORD": "p@ss",
        "HOST": "127.0.0.1",
        "PORT": "5432",
    }
    assert http_benchmark.database_url(settings) == "postgres://u:p%40ss@127.0.0.1:5432/db"
