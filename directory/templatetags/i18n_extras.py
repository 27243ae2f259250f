from django import template

from ..choices import LANGUAGE_CHOICES, ConsentPurpose

register = template.Library()
_NAMES = dict(LANGUAGE_CHOICES)


@register.filter
def language_names(codes) -> str:
    """ISO 639-1 codes as language names in the active language: ["ru", "kk"] → "Russian, Kazakh"."""
    return ", ".join(str(_NAMES.get(code, code)) for code in codes or ())


@register.filter
def field_label(form, name) -> str:
    """The (translated) label of a form field by name, for error summaries; the name itself
    when the form has no such field."""
    field = getattr(form, "fields", {}).get(name)
    return str(field.label) if field is not None and field.label else name


@register.filter
def purpose_labels(codes) -> str:
    """Consent purposes ("directory", "contact") as their labels in the active language."""
    labels = dict(ConsentPurpose.choices)
    return ", ".join(str(labels.get(code, code)) for code in codes or ())
