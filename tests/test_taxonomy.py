"""The focus-area taxonomy seeded by the data migration: fixed slugs, two levels, two languages."""

import pytest
from django.utils import translation

from directory.models import FocusArea

pytestmark = pytest.mark.django_db

EXPECTED = {
    "human-rights": ["domestic-violence", "gender-equality", "disability", "migration", "rule-of-law"],
    "civic-space": ["media-freedom", "anti-corruption"],
    "environment": ["climate", "water", "green-economy"],
    "health": [],
    "education": [],
    "youth": [],
    "social-services": [],
    "regional-cooperation": [],
}


def test_seeded_slugs_match_the_architecture():
    expected = set(EXPECTED) | {child for children in EXPECTED.values() for child in children}
    assert set(FocusArea.objects.values_list("slug", flat=True)) == expected
    assert FocusArea.objects.count() == len(expected) == 18


def test_parents_and_children():
    tops = FocusArea.objects.filter(parent__isnull=True).order_by("position", "id")
    assert [a.slug for a in tops] == list(EXPECTED)
    for parent in tops:
        children = parent.children.order_by("position", "id")
        assert [c.slug for c in children] == EXPECTED[parent.slug]
        assert all(c.children.count() == 0 for c in children)


def test_every_area_has_english_and_russian_names():
    for area in FocusArea.objects.all():
        assert area.name.strip(), area.slug
        assert area.name_ru.strip(), area.slug
        assert area.name != area.name_ru
        assert any("\u0400" <= ch <= "\u04ff" for ch in area.name_ru), area.slug


def test_label_follows_the_active_language():
    area = FocusArea.objects.get(slug="environment")
    with translation.override("ru"):
        assert area.label == "Окружающая среда"
        assert str(area) == "Окружающая среда"
    with translation.override("en"):
        assert area.label == "Environment"
