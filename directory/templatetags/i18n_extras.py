from django import template

from ..choices import LANGUAGE_CHOICES

register = template.Library()
_NAMES = dict(LANGUAGE_CHOICES)


@register.filter
def language_names(codes) -> str:
    """ISO 639-1 codes as language names in the active language: ["ru", "kk"] → "Russian, Kazakh"."""
    return ", ".join(str(_NAMES.get(code, code)) for code in codes or ())
