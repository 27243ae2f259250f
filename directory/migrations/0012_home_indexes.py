from django.conf import settings
from django.db import migrations, models

# Every organisation's latest interaction open to all EU staff (the services keep it from now on).
BACKFILL = """
UPDATE directory_organisation SET staff_contacted_on = (
    SELECT MAX(i.occurred_on) FROM directory_interaction i
    JOIN directory_interaction_organisations t ON t.interaction_id = i.id
    WHERE t.organisation_id = directory_organisation.id AND i.sensitivity = 'staff'
)
"""


class Migration(migrations.Migration):
    """The staff home page and timelines at 1,000,000 interactions: a date index covering the
    compartment columns and the kind (index-only timeline ids, capped counts and monthly chart),
    and a maintained per-organisation date that narrows "not contacted for a year" to a few
    candidates before the exact, compartment-aware check."""

    dependencies = [
        ('directory', '0011_perf_indexes'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddIndex(
            model_name='interaction',
            index=models.Index(fields=['-occurred_on', '-created_at', 'id'], include=('kind', 'sensitivity', 'team', 'author'), name='interaction_date_vis_idx'),
        ),
        migrations.RemoveIndex(
            model_name='interaction',
            name='interaction_date_idx',
        ),
        migrations.AddField(
            model_name='organisation',
            name='staff_contacted_on',
            field=models.DateField(blank=True, editable=False, null=True),
        ),
        migrations.RunSQL(BACKFILL, migrations.RunSQL.noop),
        migrations.AddIndex(
            model_name='organisation',
            index=models.Index(fields=['country', 'staff_contacted_on'], include=('status', 'visibility'), name='org_country_contact_idx'),
        ),
    ]
