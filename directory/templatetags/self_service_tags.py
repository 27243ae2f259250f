from django import template
from django.utils.translation import gettext as _

register = template.Library()


@register.filter
def proposal_value(value):
    """A proposed or current value as text: lists joined, booleans as yes/no, empty as a dash."""
    if value is None or value == "" or value == []:
        return "—"
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, list):
        return "; ".join(str(v) for v in value)
    return str(value)


@register.filter
def get_rows(mapping, key):
    return mapping.get(key, [])
