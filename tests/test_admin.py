"""The Django admin works for every model and writes through the services."""

import pytest
from django.contrib import admin
from django.urls import reverse

from directory.models import FocusArea, Organisation
from tests import factories


@pytest.fixture
def admin_client(client, db):
    client.force_login(factories.UserFactory(is_superuser=True, is_staff=True))
    return client


def test_every_registered_admin_page_renders(admin_client):
    factories.AffiliationFactory()
    for model in admin.site._registry:
        meta = model._meta
        changelist = admin_client.get(reverse(f"admin:{meta.app_label}_{meta.model_name}_changelist"))
        assert changelist.status_code == 200, meta.label
        add = admin_client.get(reverse(f"admin:{meta.app_label}_{meta.model_name}_add"))
        assert add.status_code in (200, 403), meta.label  # 403: append-only or fixed tables


def test_creating_an_organisation_in_the_admin_goes_through_the_service(admin_client):
    env = FocusArea.objects.get(slug="environment")
    response = admin_client.post(
        reverse("admin:directory_organisation_add"),
        {
            "name": "Admin Made Org", "name_local": "", "other_names": "[]", "acronym": "", "type": "ngo",
            "country": "KZ", "city": "Almaty", "website": "", "email": "", "phone": "",
            "languages": '["ru"]', "description": "", "focus_areas": [env.pk], "visibility": "public",
            "status": "active", "internal_notes": "",
            "identifiers-TOTAL_FORMS": "0", "identifiers-INITIAL_FORMS": "0",
            "affiliations-TOTAL_FORMS": "0", "affiliations-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302, response.content[:2000]
    org = Organisation.objects.get(name="Admin Made Org")
    assert list(org.focus_areas.values_list("slug", flat=True)) == ["environment"]
    assert org.search_key  # computed on save
    assert org.history.first().history_user.is_superuser


def test_interaction_admin_shows_metadata_only(admin_client):
    author = factories.staff_user()
    interaction = factories.interaction(author, sensitivity="participants", subject="Secret meeting topic 8812")
    listing = admin_client.get(reverse("admin:directory_interaction_changelist"))
    assert listing.status_code == 200
    assert "Secret meeting topic 8812" not in listing.content.decode()
    change = admin_client.get(reverse("admin:directory_interaction_change", args=[interaction.pk]))
    assert change.status_code == 302
