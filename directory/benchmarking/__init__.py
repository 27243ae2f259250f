"""The performance benchmark behind `python manage.py benchmark` (issue 9).

- `database`: the benchmark's own database (a fresh PostgreSQL database or SQLite file);
- `seed`: a deterministic, bulk-loading seeder (also the import loaders);
- `floor`: hand-written raw SQL + json.dumps producing the same pages as the endpoints;
- `scenarios`: the requests timed, interleaved, with query counts and bytes;
- `report`: the table and the JSON file.
"""

SCALES = {
    # organisations, interactions, timing rounds, imported organisations / interactions (the
    # small scale imports 20,000 interactions to stay within its 3-minute budget), interactions
    # exported (the memory check compares this many rows with 1/export_divisor of them, and the
    # organisation export with the `country` subset given)
    "tiny": dict(organisations=200, interactions=1_000, rounds=2, import_organisations=200,
                 import_interactions=1_000, export_interactions=400, export_divisor=4, org_export_subset=["TJ"]),
    "small": dict(organisations=5_000, interactions=100_000, rounds=20, import_organisations=10_000,
                  import_interactions=20_000, export_interactions=8_800, export_divisor=2, org_export_subset=["KZ", "KG"]),
    "full": dict(organisations=50_000, interactions=1_000_000, rounds=30, import_organisations=10_000,
                 import_interactions=100_000, export_interactions=200_000, export_divisor=4, org_export_subset=["TJ"]),
}
PEOPLE_PER_ORGANISATION = 3
