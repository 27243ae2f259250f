from django.db import migrations

# The taxonomy's slugs are part of the API contract (ARCHITECTURE.md): never rename them.
TAXONOMY = [
    ("human-rights", "Human rights", "Права человека", [
        ("domestic-violence", "Domestic violence", "Домашнее насилие"),
        ("gender-equality", "Gender equality", "Гендерное равенство"),
        ("disability", "Disability rights", "Права людей с инвалидностью"),
        ("migration", "Migration", "Миграция"),
        ("rule-of-law", "Rule of law", "Верховенство права"),
    ]),
    ("civic-space", "Civic space", "Гражданское пространство", [
        ("media-freedom", "Media freedom", "Свобода СМИ"),
        ("anti-corruption", "Anti-corruption", "Противодействие коррупции"),
    ]),
    ("environment", "Environment", "Окружающая среда", [
        ("climate", "Climate", "Климат"),
        ("water", "Water", "Водные ресурсы"),
        ("green-economy", "Green economy", "Зелёная экономика"),
    ]),
    ("health", "Health", "Здравоохранение", []),
    ("education", "Education", "Образование", []),
    ("youth", "Youth", "Молодёжь", []),
    ("social-services", "Social services", "Социальные услуги", []),
    ("regional-cooperation", "Regional cooperation", "Региональное сотрудничество", []),
]


def seed(apps, schema_editor):
    FocusArea = apps.get_model("directory", "FocusArea")
    position = 0
    for slug, name, name_ru, children in TAXONOMY:
        position += 10
        parent, _ = FocusArea.objects.update_or_create(
            slug=slug, defaults={"name": name, "name_ru": name_ru, "parent": None, "position": position}
        )
        for child_slug, child_name, child_ru in children:
            position += 1
            FocusArea.objects.update_or_create(
                slug=child_slug,
                defaults={"name": child_name, "name_ru": child_ru, "parent": parent, "position": position},
            )


class Migration(migrations.Migration):
    dependencies = [("directory", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
