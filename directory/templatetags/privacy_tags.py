"""The "Personal data" panel of the person page: consent log, consent form, export, erasure."""

from django import template

from ..roles import get_roles

register = template.Library()

CONSENT_RECORDS_SHOWN = 20


@register.inclusion_tag("directory/privacy/panel.html", takes_context=True)
def privacy_panel(context, person):
    from ..views.privacy import ConsentForm, can_erase, can_export, can_record_consent

    request = context.get("request")
    user = getattr(request, "user", None)
    roles = get_roles(user)
    if not roles.staff:  # CSO editors see the consent status in the facts, not the log
        return {"show": False}
    records = list(
        person.consent_records.select_related("recorded_by").order_by("-recorded_at", "id")[
            :CONSENT_RECORDS_SHOWN
        ]
    )
    may_record = can_record_consent(user, person)
    return {
        "show": True,
        "person": person,
        "records": records,
        "form": ConsentForm() if may_record else None,
        "can_export": can_export(user),
        "can_erase": can_erase(user),
        "csrf_token": context.get("csrf_token"),
    }
