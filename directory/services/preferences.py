"""The signed-in user's preferences (interface language)."""

from django.conf import settings
from django.db import transaction

from ..models import UserPreference

# Session key holding the remembered language: read by the middleware on every request
# without a query.
SESSION_KEY = "_user_language"


@transaction.atomic
def set_language_preference(*, user, language: str) -> UserPreference:
    pref, _created = UserPreference.objects.select_for_update().get_or_create(user=user)
    pref.language = language
    pref.full_clean()
    pref.save()
    return pref


def language_preference(user) -> str:
    """The user's saved language, or "" when they never chose one."""
    if not getattr(user, "is_authenticated", False):
        return ""
    code = UserPreference.objects.filter(user=user).values_list("language", flat=True).first()
    return code if code in dict(settings.LANGUAGES) else ""
