"""Reads: every list and detail queryset is built here, from the access gate, with the
relations its page or serializer renders prefetched (ARCHITECTURE.md, habit 4)."""

from django.contrib.auth import get_user_model
from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import Count, F, OuterRef, Prefetch, Subquery
from django.db.models.functions import Coalesce

from .models import (
    Affiliation,
    FocusArea,
    Interaction,
    Organisation,
    OrganisationIdentifier,
    Person,
)
from .roles import get_roles

FOCUS_AREA_ONLY = ("id", "slug", "name", "name_ru", "parent_id", "position")


def last_contacted(user):
    """Date of the latest interaction with the organisation that the user may see."""
    return Subquery(
        Interaction.objects.visible_to(user)
        .filter(organisations=OuterRef("pk"))
        .order_by("-occurred_on")
        .values("occurred_on")[:1]
    )


def organisation_list(user):
    qs = Organisation.objects.visible_to(user)
    if get_roles(user).staff:
        qs = qs.annotate(last_contacted_on=last_contacted(user))
    return qs.prefetch_related(
        Prefetch("focus_areas", queryset=FocusArea.objects.only(*FOCUS_AREA_ONLY)),
        Prefetch(
            "identifiers",
            queryset=OrganisationIdentifier.objects.only("id", "organisation_id", "scheme", "value"),
        ),
    )


def attach_organisation_lists(organisations) -> None:
    """The API list's cheaper stand-in for organisation_list's two prefetches: the same rows,
    but as tuples (`_focus_slugs`, `_identifier_pairs` on each organisation, in the
    prefetches' order: focus areas by position and id, identifiers by scheme and value)
    instead of a model instance per row and a related manager and queryset per organisation
    (~3 ms of Python per 50-row page), and in one raw query (UNION ALL) instead of two ORM
    ones: building two `organisation_id IN (<50 ids>)` lookups cost more Python than the
    rows they fetch, plus a round trip."""
    pk_field = Organisation._meta.pk
    # Keyed by the value the database returns for organisation_id (a UUID on PostgreSQL, its
    # hex text on SQLite): no conversion per row.
    by_key = {pk_field.get_db_prep_value(org.pk, connection): org for org in organisations}
    if not by_key:
        return
    for org in by_key.values():
        org._focus_slugs = []
        org._identifier_pairs = []
    keys = list(by_key)
    marks = ", ".join(["%s"] * len(keys))
    links = Organisation.focus_areas.through._meta.db_table
    areas = FocusArea._meta.db_table
    identifiers = OrganisationIdentifier._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT l.organisation_id, 0, a.position, a.id, a.slug, NULL FROM {links} l "
            f"JOIN {areas} a ON a.id = l.focusarea_id WHERE l.organisation_id IN ({marks}) "
            f"UNION ALL SELECT i.organisation_id, 1, NULL, NULL, i.scheme, i.value FROM {identifiers} i "
            f"WHERE i.organisation_id IN ({marks}) ORDER BY 2, 3, 4, 5, 6",
            keys + keys,
        )
        for org_key, kind, _position, _area, text, value in cursor.fetchall():
            if kind == 0:
                by_key[org_key]._focus_slugs.append(text)
            else:
                by_key[org_key]._identifier_pairs.append((text, value))


def organisation_detail(user):
    people = Person.objects.visible_to(user)
    return organisation_list(user).prefetch_related(
        Prefetch(
            "affiliations",
            queryset=Affiliation.objects.current()
            .filter(person__in=people.values("pk"))
            .select_related("person"),
            to_attr="visible_affiliations",
        )
    )


def person_list(user):
    organisations = Organisation.objects.visible_to(user)
    return Person.objects.visible_to(user).prefetch_related(
        Prefetch(
            "affiliations",
            queryset=Affiliation.objects.current()
            .filter(organisation__in=organisations.values("pk"))
            .select_related("organisation")
            .only(
                "id", "person_id", "organisation_id", "role", "is_primary", "start_date", "end_date",
                "organisation__id", "organisation__name", "organisation__country",
            ),
            to_attr="visible_affiliations",
        )
    )


def _sorted_counts(counts: dict) -> dict:
    return dict(sorted(counts.items(), key=lambda kv: (-kv[1], str(kv[0]))))


def facet_country(qs) -> dict:
    return _sorted_counts(
        dict(qs.order_by().values_list("country").annotate(n=Count("pk")).values_list("country", "n"))
    )


def facet_type(qs) -> dict:
    return _sorted_counts(
        dict(qs.order_by().values_list("type").annotate(n=Count("pk")).values_list("type", "n"))
    )


def facet_focus_area(qs) -> dict:
    through = Organisation.focus_areas.through.objects.filter(organisation_id__in=qs.order_by().values("pk"))
    leaf = dict(
        through.values_list("focusarea__slug").annotate(n=Count("organisation_id")).values_list(
            "focusarea__slug", "n"
        )
    )
    # A parent counts an organisation once even when it has the parent and several children.
    top = dict(
        through.annotate(top=Coalesce(F("focusarea__parent__slug"), F("focusarea__slug")))
        .values_list("top")
        .annotate(n=Count("organisation_id", distinct=True))
        .values_list("top", "n")
    )
    return _sorted_counts({**leaf, **top})


def facet_language(qs) -> dict:
    try:
        sub_sql, params = qs.order_by().values("languages").query.sql_with_params()
    except EmptyResultSet:  # qs.none(): nothing to count
        return {}
    if connection.vendor == "postgresql":
        sql = (
            f"SELECT lang, COUNT(*) FROM ({sub_sql}) s "
            "CROSS JOIN LATERAL jsonb_array_elements_text(s.languages) AS lang GROUP BY lang"
        )
    else:
        sql = f"SELECT j.value, COUNT(*) FROM ({sub_sql}) s, json_each(s.languages) j GROUP BY j.value"
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return _sorted_counts({code: n for code, n in cursor.fetchall()})


def facet_verified(qs) -> dict:
    counts = dict(qs.order_by().values_list("verified").annotate(n=Count("pk")).values_list("verified", "n"))
    return {"true": counts.get(True, 0), "false": counts.get(False, 0)}


FACETS = {
    "country": facet_country,
    "focus_area": facet_focus_area,
    "type": facet_type,
    "language": facet_language,
    "verified": facet_verified,
}


def interaction_list(user):
    """Interactions the user may see, with what lists and timelines render prefetched.

    Related organisations and people are limited to those the user may see themselves.
    """
    User = get_user_model()
    return (
        Interaction.objects.visible_with_readable(user)
        .select_related("team", "author", "follow_up_assignee")
        .prefetch_related(
            Prefetch(
                "organisations",
                queryset=Organisation.objects.visible_to(user).only("id", "name", "country"),
            ),
            Prefetch("people", queryset=Person.objects.visible_to(user).only("id", "name")),
            Prefetch("staff_participants", queryset=User.objects.only("id", "username").order_by("username", "id")),
            Prefetch("focus_areas", queryset=FocusArea.objects.only(*FOCUS_AREA_ONLY)),
        )
    )


def facet_country_and_type(qs) -> tuple[dict, dict]:
    """Both facets from one scan of the filtered set (grouped by the pair, summed here)."""
    countries: dict = {}
    types: dict = {}
    for country, kind, n in qs.order_by().values_list("country", "type").annotate(n=Count("pk")).values_list(
        "country", "type", "n"
    ):
        countries[country] = countries.get(country, 0) + n
        types[kind] = types.get(kind, 0) + n
    return _sorted_counts(countries), _sorted_counts(types)


def organisation_facets(qs, dimensions=("country", "focus_area", "type"), user=None, base=None) -> dict:
    """Counts over the whole filtered set, one or two queries per dimension (country and type
    share one). With `user` and `base` (the unfiltered queryset `qs` was filtered from), the
    unfiltered list's counts (all of `user`'s visible organisations) come from a cache kept
    exact by a database-maintained version (directory/counts_cache.py)."""
    if user is not None and base is not None:
        from . import counts_cache

        if counts_cache.is_unfiltered(qs, base, user):
            every = counts_cache.cached_counts(user, lambda: _organisation_facets(qs, tuple(FACETS)))
            return {name: every[name] for name in dimensions}
    return _organisation_facets(qs, dimensions)


def _organisation_facets(qs, dimensions) -> dict:
    out = {}
    if "country" in dimensions and "type" in dimensions:
        out["country"], out["type"] = facet_country_and_type(qs)
    for name in dimensions:
        if name not in out:
            out[name] = FACETS[name](qs)
    return {name: out[name] for name in dimensions}


# --- events ------------------------------------------------------------------------------------

# Declined and no-show invitations stay on the list but do not count towards the balance.
NOT_COUNTED = ("declined", "no_show")
BALANCE_DIMENSIONS = ("country", "focus_area", "type", "gender")


def event_list(user):
    from .models import Event

    return Event.objects.visible_to(user).select_related("team").annotate(
        invitation_count=Count("invitations")
    )


def invitation_list(user, event=None):
    from .models import Invitation

    qs = Invitation.objects.visible_to(user).select_related("event", "added_by").prefetch_related(
        Prefetch("person", queryset=Person.objects.only("id", "name", "email", "languages", "gender", "sensitivity")),
        Prefetch("organisation", queryset=Organisation.objects.only("id", "name", "country", "type")),
    )
    if event is not None:
        qs = qs.filter(event=event)
    return qs.order_by("person__name", "id")


def _percent(n: int, total: int) -> float:
    return round(100.0 * n / total, 1) if total else 0.0


def event_balance(event) -> dict:
    """Counts by status (every invitation) and by country, top-level focus area, organisation
    type and gender (invitations that count: not declined, not no-show), with each target's
    actual value. Three queries at any list size."""
    from .choices import REGION_COUNTRIES, InvitationStatus
    from .models import Invitation

    rows = list(
        Invitation.objects.filter(event=event).values_list(
            "status", "organisation_id", "organisation__country", "organisation__type", "person__gender"
        )
    )
    counted = [row for row in rows if row[0] not in NOT_COUNTED]
    org_ids = {row[1] for row in counted}
    through = Organisation.focus_areas.through
    top_level: dict = {}
    for org_id, slug, parent in through.objects.filter(organisation_id__in=org_ids).values_list(
        "organisation_id", "focusarea__slug", "focusarea__parent__slug"
    ):
        top_level.setdefault(org_id, set()).add(parent or slug)

    status = {value: 0 for value in InvitationStatus.values}
    for row in rows:
        status[row[0]] += 1
    dims = {name: {} for name in (*BALANCE_DIMENSIONS, "organisation")}

    def bump(name, value):
        dims[name][value] = dims[name].get(value, 0) + 1

    for _status, org_id, country, org_type, gender in counted:
        bump("country", country)
        bump("type", org_type)
        bump("gender", gender or "unknown")
        bump("organisation", str(org_id))
        for slug in top_level.get(org_id, ()):
            bump("focus_area", slug)
    total = len(counted)
    dims["status"] = status
    result = {
        "total": total,
        "status": status,
        **{name: dict(sorted(dims[name].items(), key=lambda kv: (-kv[1], kv[0]))) for name in BALANCE_DIMENSIONS},
        "targets": [],
    }
    for target in event.targets or []:
        dimension, value, op = target["dimension"], target["value"], target["op"]
        unit = target.get("unit", "percent")
        counts = dims[dimension]

        def actual_of(v, counts=counts, unit=unit):
            n = counts.get(v, 0)
            return n if unit == "count" else _percent(n, total)

        if value == "*" and (unit == "count" or dimension == "organisation"):
            values = [actual_of(v) for v in counts] or [0]
            checks = [("*", max(values) if op == "at_most" else min(values))]
        elif value == "*":
            keys = set(counts) | (set(REGION_COUNTRIES) if dimension == "country" else set())
            checks = [(v, actual_of(v)) for v in sorted(keys)]
        else:
            checks = [(value, actual_of(value))]
        for checked_value, actual in checks:
            met = actual >= target["target"] if op == "at_least" else actual <= target["target"]
            result["targets"].append({
                "dimension": dimension, "value": checked_value, "op": op, "unit": unit,
                "target": target["target"], "actual": actual, "met": met,
            })
    return result
