"""Backups (README.md, "Deploying"): a `pg_dump -Fc` of the database restored with `pg_restore`
into an empty database holds the same rows, history and migrations as the original."""

import os
import subprocess

import psycopg
import pytest
from django.db import connection

from directory.services.organisations import organisation_update
from tests import factories

pytestmark = [
    pytest.mark.postgresql,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def _libpq_args(settings):
    args = []
    for flag, key in (("-h", "HOST"), ("-p", "PORT"), ("-U", "USER")):
        if settings.get(key):
            args += [flag, str(settings[key])]
    env = {
        **os.environ,
        **({"PGPASSWORD": settings["PASSWORD"]} if settings.get("PASSWORD") else {}),
    }
    return args, env


def _counts(conn) -> dict[str, int]:
    tables = [
        row[0]
        for row in conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename"
        ).fetchall()
    ]
    return {
        table: conn.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0] for table in tables
    }


def _connect(settings, dbname):
    return psycopg.connect(
        dbname=dbname,
        user=settings["USER"] or None,
        host=settings["HOST"] or None,
        port=settings["PORT"] or None,
        password=settings["PASSWORD"] or None,
        autocommit=True,
    )


def test_pg_dump_restored_into_an_empty_database_has_the_same_counts(tmp_path):
    staff = factories.staff_user()
    for i in range(5):
        organisation = factories.OrganisationFactory(name=f"Backup {i}", focus_areas=["water"])
        organisation_update(actor=staff, organisation=organisation, data={"city": "Osh"})
        person = factories.PersonFactory(name=f"Person {i}")
        factories.AffiliationFactory(person=person, organisation=organisation)
        factories.interaction(
            staff, organisations=[organisation], people=[person], subject=f"Call {i}"
        )

    settings = connection.settings_dict
    source = settings["NAME"]
    target = f"{source}_restore"[:63]
    args, env = _libpq_args(settings)
    dump = tmp_path / "directory.dump"
    # The commands README.md gives.
    subprocess.run(["pg_dump", *args, "-Fc", "-f", str(dump), source], env=env, check=True)
    with _connect(settings, "postgres") as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{target}"')
        admin.execute(f'CREATE DATABASE "{target}"')
    try:
        subprocess.run(
            ["pg_restore", *args, "--no-owner", "--exit-on-error", "-d", target, str(dump)],
            env=env,
            check=True,
        )
        with _connect(settings, source) as original, _connect(settings, target) as restored:
            expected, found = _counts(original), _counts(restored)
            assert found == expected
            assert expected["directory_organisation"] >= 5
            assert expected["directory_historicalorganisation"] >= 10
            assert expected["directory_interaction"] >= 5 and expected["django_migrations"] > 0
            # The same rows, not only as many.
            names = "SELECT name FROM directory_organisation ORDER BY name"
            assert restored.execute(names).fetchall() == original.execute(names).fetchall()
    finally:
        with _connect(settings, "postgres") as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{target}" WITH (FORCE)')
