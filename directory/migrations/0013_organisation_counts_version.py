from django.db import migrations

# A number that changes with every committed write to what organisation counts depend on (the
# organisations, their focus-area links and the focus areas). Database triggers keep it, so no
# writer can skip it: services, the admin, bulk_create, QuerySet.update(), raw SQL and COPY
# alike. The facet counts of the unfiltered list are cached under it (directory/counts_cache.py).
# A new value is random rather than the next number: a database restored from a backup (or
# rebuilt) must not meet again a number under which a shared cache holds newer counts.
TABLES = ("directory_organisation", "directory_organisation_focus_areas", "directory_focusarea")

POSTGRESQL = [
    "CREATE TABLE directory_counts_version (id integer PRIMARY KEY, value bigint NOT NULL)",
    "INSERT INTO directory_counts_version (id, value) VALUES (1, 1)",
    # Bumped once per transaction, at commit (a deferred constraint trigger): the counter row is
    # locked only for the moment of the commit, so concurrent writers neither wait on each other
    # for a whole transaction nor deadlock through it. As with Django's deferred foreign keys,
    # a transaction that writes these tables and then alters them (CREATE INDEX, ALTER TABLE)
    # must first run SET CONSTRAINTS ALL IMMEDIATE ("pending trigger events").
    """
    CREATE FUNCTION directory_counts_bump() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF current_setting('directory.counts_bumped', true) = 'on' THEN
            RETURN NULL;
        END IF;
        PERFORM set_config('directory.counts_bumped', 'on', true);
        UPDATE directory_counts_version SET value = floor(random() * 9e18)::bigint WHERE id = 1;
        RETURN NULL;
    END $$
    """,
    """
    CREATE FUNCTION directory_counts_bump_now() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        UPDATE directory_counts_version SET value = floor(random() * 9e18)::bigint WHERE id = 1;
        RETURN NULL;
    END $$
    """,
]
POSTGRESQL.append(
    # Whether a row's write queues the bump: only the transaction's first (a bulk load queues
    # one event, not one per row). Evaluated when the row is written; a rolled-back savepoint
    # drops the queued event and this setting together.
    """
    CREATE FUNCTION directory_counts_first() RETURNS boolean LANGUAGE plpgsql AS $$
    BEGIN
        IF current_setting('directory.counts_queued', true) = 'on' THEN
            RETURN false;
        END IF;
        PERFORM set_config('directory.counts_queued', 'on', true);
        RETURN true;
    END $$
    """
)
for _table in TABLES:
    POSTGRESQL += [
        f"CREATE CONSTRAINT TRIGGER {_table}_counts AFTER INSERT OR UPDATE OR DELETE ON {_table} "
        f"DEFERRABLE INITIALLY DEFERRED FOR EACH ROW WHEN (directory_counts_first()) "
        f"EXECUTE FUNCTION directory_counts_bump()",
        f"CREATE TRIGGER {_table}_counts_truncate AFTER TRUNCATE ON {_table} "
        f"FOR EACH STATEMENT EXECUTE FUNCTION directory_counts_bump_now()",
    ]
POSTGRESQL_REVERSE = [
    *(f"DROP TRIGGER IF EXISTS {t}_counts ON {t}" for t in TABLES),
    *(f"DROP TRIGGER IF EXISTS {t}_counts_truncate ON {t}" for t in TABLES),
    "DROP FUNCTION IF EXISTS directory_counts_bump()",
    "DROP FUNCTION IF EXISTS directory_counts_first()",
    "DROP FUNCTION IF EXISTS directory_counts_bump_now()",
    "DROP TABLE IF EXISTS directory_counts_version",
]

# SQLite has one writer at a time and row triggers only.
SQLITE = [
    "CREATE TABLE directory_counts_version (id integer PRIMARY KEY, value bigint NOT NULL)",
    "INSERT INTO directory_counts_version (id, value) VALUES (1, 1)",
]
for _table in TABLES:
    for _event in ("INSERT", "UPDATE", "DELETE"):
        SQLITE.append(
            f"CREATE TRIGGER {_table}_counts_{_event.lower()} AFTER {_event} ON {_table} "
            f"BEGIN UPDATE directory_counts_version SET value = random() WHERE id = 1; END"
        )
SQLITE_REVERSE = [
    *(f"DROP TRIGGER IF EXISTS {t}_counts_{e}" for t in TABLES for e in ("insert", "update", "delete")),
    "DROP TABLE IF EXISTS directory_counts_version",
]


def _run(statements):
    def run(apps, schema_editor):
        vendor = schema_editor.connection.vendor
        for sql in statements.get(vendor, ()):
            schema_editor.execute(sql, params=None)
    return run


class Migration(migrations.Migration):
    dependencies = [
        ("directory", "0012_home_indexes"),
    ]

    operations = [
        migrations.RunPython(
            _run({"postgresql": POSTGRESQL, "sqlite": SQLITE}),
            _run({"postgresql": POSTGRESQL_REVERSE, "sqlite": SQLITE_REVERSE}),
        ),
    ]
