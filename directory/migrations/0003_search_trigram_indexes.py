from django.db import migrations

# Search keys are ASCII (directory.search.normalise), so trigrams work under any locale.
# Django's `contains` lookup emits `LIKE '%word%'`, which a gin_trgm_ops index serves.
FORWARD = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX IF NOT EXISTS org_search_key_trgm ON directory_organisation USING gin (search_key gin_trgm_ops)",
    "CREATE INDEX IF NOT EXISTS person_search_key_trgm ON directory_person USING gin (search_key gin_trgm_ops)",
]
BACKWARD = [
    "DROP INDEX IF EXISTS org_search_key_trgm",
    "DROP INDEX IF EXISTS person_search_key_trgm",
]


def _run(statements):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return  # SQLite scans the keys: same results, just slower
        for sql in statements:
            schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [("directory", "0002_focus_areas")]
    operations = [migrations.RunPython(_run(FORWARD), _run(BACKWARD))]
