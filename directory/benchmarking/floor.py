"""The floor: each list page produced by one hand-written SQL query (to-many fields folded in
with correlated ARRAY/json_agg subqueries on PostgreSQL, json_group_array on SQLite), read
through `connection.cursor()` and encoded with `json.dumps`, in the same shape as the endpoint.

Only the access rules of the two roles the benchmark uses are written out: anonymous visitors
and EU staff without the restricted-records permission (querysets.py).
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date

from django.contrib.auth import get_user_model
from django.db import connection
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django_countries import countries
from rest_framework.utils.urls import remove_query_param, replace_query_param

from ..models import (
    Affiliation,
    FocusArea,
    Interaction,
    Organisation,
    OrganisationIdentifier,
    Person,
)
from ..search import search_words

ORG = Organisation._meta.db_table
ORG_FA = Organisation.focus_areas.through._meta.db_table
IDENT = OrganisationIdentifier._meta.db_table
FA = FocusArea._meta.db_table
PERSON = Person._meta.db_table
AFF = Affiliation._meta.db_table
INTER = Interaction._meta.db_table
I_ORG = Interaction.organisations.through._meta.db_table
I_PEOPLE = Interaction.people.through._meta.db_table
I_STAFF = Interaction.staff_participants.through._meta.db_table
I_FA = Interaction.focus_areas.through._meta.db_table
USER = get_user_model()._meta.db_table
_PLACEHOLDER = uuid.UUID(int=0)


def dumps(data) -> bytes:
    """Encoded like DRF's JSONRenderer (UTF-8, compact)."""
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


class Floor:
    """SQL and row shaping for one database vendor; built once, reused for every request."""

    def __init__(self, base_url: str = "https://testserver"):
        self.pg = connection.vendor == "postgresql"
        self.base = base_url
        self.tz = timezone.get_current_timezone()
        self.country_names = {code: str(name) for code, name in countries}
        self.org_url = base_url + reverse("api-organisation-detail", kwargs={"pk": _PLACEHOLDER})
        self.person_url = base_url + reverse("api-person-detail", kwargs={"pk": _PLACEHOLDER})
        try:
            self.interaction_url = base_url + reverse("api-interaction-detail", kwargs={"pk": _PLACEHOLDER})
        except Exception:  # noqa: BLE001 - the endpoint is not there (yet)
            self.interaction_url = None

    # --- helpers -----------------------------------------------------------------------

    def _list(self, select: str, from_where: str, order: str) -> str:
        """A correlated subquery giving a JSON list of `select` (a scalar or an object)."""
        if self.pg:
            return f"COALESCE((SELECT json_agg({select} ORDER BY {order}) {from_where}), '[]'::json)"
        # A subquery drops SQLite's JSON subtype: objects are re-marked with json().
        value = "json(v)" if select.startswith("json_object(") else "v"
        return f"(SELECT json_group_array({value}) FROM (SELECT {select} AS v {from_where} ORDER BY {order}))"

    def _obj(self, *pairs) -> str:
        fn = "json_build_object" if self.pg else "json_object"
        inner = ", ".join(f"'{k}', {v}" for k, v in pairs)
        return f"{fn}({inner})"

    def _bool(self, expr: str) -> str:
        return expr if self.pg else f"json(CASE WHEN {expr} THEN 'true' ELSE 'false' END)"

    def _uuid_param(self, value):
        value = value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
        return value if self.pg else value.hex

    def _json(self, value):
        return json.loads(value) if isinstance(value, str) else value

    @staticmethod
    def _id(value) -> str:
        return str(value if isinstance(value, uuid.UUID) else uuid.UUID(str(value)))

    def _dt(self, value):
        if value is None:
            return None
        if isinstance(value, str):
            value = parse_datetime(value)
        if timezone.is_naive(value):
            value = value.replace(tzinfo=UTC)
        text = value.astimezone(self.tz).isoformat()
        return text[:-6] + "Z" if text.endswith("+00:00") else text

    @staticmethod
    def _date(value):
        if value is None:
            return None
        return value.isoformat() if isinstance(value, date) else str(value)[:10]

    def _fetch(self, sql: str, params) -> list[tuple]:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()

    @staticmethod
    def envelope(count, page, page_size, url, results, pages_default=50):
        last = max(1, -(-count // page_size))
        nxt = replace_query_param(url, "page", page + 1) if page < last else None
        if page <= 1:
            prev = None
        elif page - 1 == 1:
            prev = remove_query_param(url, "page")
        else:
            prev = replace_query_param(url, "page", page - 1)
        return {"count": count, "next": nxt, "previous": prev, "results": results}

    # --- organisations -----------------------------------------------------------------

    def _org_where(self, role, params: dict, user=None):
        where, args = [], []
        if role == "staff":
            where.append("o.visibility IN ('public', 'staff')")
        else:
            where.append("o.visibility = 'public' AND o.status = 'active'")
        if params.get("country"):
            where.append(f"o.country IN ({', '.join(['%s'] * len(params['country']))})")
            args += params["country"]
        if params.get("type"):
            where.append(f"o.type IN ({', '.join(['%s'] * len(params['type']))})")
            args += params["type"]
        if params.get("language"):
            if self.pg:
                where.append("(" + " OR ".join(["o.languages @> %s::jsonb"] * len(params["language"])) + ")")
                args += [json.dumps([code]) for code in params["language"]]
            else:
                where.append("(" + " OR ".join(["o.languages LIKE %s"] * len(params["language"])) + ")")
                args += [f'%"{code}"%' for code in params["language"]]
        if params.get("focus_area"):
            slugs = params["focus_area"]
            marks = ", ".join(["%s"] * len(slugs))
            where.append(
                f"EXISTS (SELECT 1 FROM {ORG_FA} t WHERE t.organisation_id = o.id AND t.focusarea_id IN "
                f"(SELECT f.id FROM {FA} f LEFT JOIN {FA} pf ON pf.id = f.parent_id "
                f"WHERE f.slug IN ({marks}) OR pf.slug IN ({marks})))"
            )
            args += slugs + slugs
        for word in search_words(params.get("q") or ""):
            where.append("o.search_key LIKE %s")
            args.append(f"%{word}%")
        return " AND ".join(where), args

    def _interaction_rule(self, user, alias="i") -> tuple[str, list]:
        from ..roles import get_roles

        roles = get_roles(user)
        teams = [self._uuid_param(t) for t in roles.team_ids] or [self._uuid_param(_PLACEHOLDER)]
        sql = (
            f"({alias}.sensitivity = 'staff' OR ({alias}.sensitivity = 'team' AND {alias}.team_id IN "
            f"({', '.join(['%s'] * len(teams))})) OR {alias}.author_id = %s OR ({alias}.sensitivity = "
            f"'participants' AND EXISTS (SELECT 1 FROM {I_STAFF} sp WHERE sp.interaction_id = {alias}.id "
            f"AND sp.user_id = %s)))"
        )
        return sql, teams + [user.pk, user.pk]

    def _org_columns(self, role, user=None):
        cols = [
            "o.id", "o.name", "o.name_local", "o.other_names", "o.acronym", "o.type", "o.country", "o.city",
            "o.website", "o.email", "o.phone", "o.description",
            self._list("f.slug", f"FROM {ORG_FA} t JOIN {FA} f ON f.id = t.focusarea_id WHERE t.organisation_id = o.id",
                       "f.position, f.id"),
            "o.languages", "o.founded_year",
            self._list(self._obj(("scheme", "i.scheme"), ("value", "i.value")),
                       f"FROM {IDENT} i WHERE i.organisation_id = o.id", "i.scheme, i.value"),
            "o.verified", "o.updated_at",
        ]
        args = []
        if role == "staff":
            rule, rule_args = self._interaction_rule(user, "ic")
            cols += [
                "o.visibility", "o.status", "o.internal_notes",
                f"(SELECT u.username FROM {USER} u WHERE u.id = o.verified_by_id)",
                "o.verified_at", "o.confirmed_at", "o.created_at",
                f"(SELECT MAX(ic.occurred_on) FROM {INTER} ic JOIN {I_ORG} io ON io.interaction_id = ic.id "
                f"WHERE io.organisation_id = o.id AND {rule})",
            ]
            args = rule_args
        return ", ".join(cols), args

    def _org_row(self, row, role) -> dict:
        data = {
            "id": self._id(row[0]),
            "url": self.org_url.replace(str(_PLACEHOLDER), self._id(row[0])),
            "name": row[1], "name_local": row[2], "other_names": self._json(row[3]), "acronym": row[4],
            "type": row[5], "country": row[6], "country_name": self.country_names.get(row[6], ""),
            "city": row[7], "website": row[8], "email": row[9], "phone": row[10], "description": row[11],
            "focus_areas": self._json(row[12]), "languages": self._json(row[13]), "founded_year": row[14],
            "identifiers": self._json(row[15]), "verified": bool(row[16]), "updated_at": self._dt(row[17]),
        }
        if role == "staff":
            data.update({
                "visibility": row[18], "status": row[19], "internal_notes": row[20], "verified_by": row[21],
                "verified_at": self._dt(row[22]), "confirmed_at": self._dt(row[23]), "created_at": self._dt(row[24]),
                "last_contacted_on": self._date(row[25]),
            })
        return data

    def organisation_page(self, params: dict, role="anonymous", user=None, url="", facets=False) -> bytes:
        page = int(params.get("page") or 1)
        size = int(params.get("page_size") or 50)
        where, args = self._org_where(role, params, user)
        cols, col_args = self._org_columns(role, user)
        sql = (
            f"SELECT (SELECT COUNT(*) FROM {ORG} o WHERE {where}), {cols} FROM {ORG} o WHERE {where} "
            f"ORDER BY o.name, o.id LIMIT %s OFFSET %s"
        )
        rows = self._fetch(sql, args + col_args + args + [size, (page - 1) * size])
        count = rows[0][0] if rows else self._fetch(f"SELECT COUNT(*) FROM {ORG} o WHERE {where}", args)[0][0]
        data = self.envelope(count, page, size, url, [self._org_row(r[1:], role) for r in rows])
        if facets:
            data["facets"] = self.organisation_facets(where, args)
        return dumps(data)

    def organisation_facets(self, where, args) -> dict:
        inner = f"SELECT o.id FROM {ORG} o WHERE {where}"
        sql = (
            f"SELECT 'country', o.country, COUNT(*) FROM {ORG} o WHERE {where} GROUP BY o.country "
            f"UNION ALL SELECT 'type', o.type, COUNT(*) FROM {ORG} o WHERE {where} GROUP BY o.type "
            f"UNION ALL SELECT 'leaf', f.slug, COUNT(*) FROM {ORG_FA} t JOIN {FA} f ON f.id = t.focusarea_id "
            f"WHERE t.organisation_id IN ({inner}) GROUP BY f.slug "
            f"UNION ALL SELECT 'top', COALESCE(pf.slug, f.slug), COUNT(DISTINCT t.organisation_id) FROM {ORG_FA} t "
            f"JOIN {FA} f ON f.id = t.focusarea_id LEFT JOIN {FA} pf ON pf.id = f.parent_id "
            f"WHERE t.organisation_id IN ({inner}) GROUP BY COALESCE(pf.slug, f.slug)"
        )
        found = {"country": {}, "type": {}, "leaf": {}, "top": {}}
        for kind, key, n in self._fetch(sql, args * 4):
            found[kind][key] = n

        def ordered(counts):
            return dict(sorted(counts.items(), key=lambda kv: (-kv[1], str(kv[0]))))

        return {"country": ordered(found["country"]), "focus_area": ordered({**found["leaf"], **found["top"]}),
                "type": ordered(found["type"])}

    def organisation_detail(self, pk) -> bytes:
        where, args = self._org_where("anonymous", {})
        cols, _ = self._org_columns("anonymous")
        rows = self._fetch(f"SELECT {cols} FROM {ORG} o WHERE o.id = %s AND {where}", [self._uuid_param(pk)] + args)
        return dumps(self._org_row(rows[0], "anonymous"))

    # --- people (EU staff) -------------------------------------------------------------

    def people_page(self, params: dict, user, url="") -> bytes:
        page = int(params.get("page") or 1)
        size = int(params.get("page_size") or 50)
        where = "p.sensitivity = 'normal'"
        today = timezone.localdate()
        affiliations = self._list(
            self._obj(("id", "a.organisation_id"), ("name", "o.name"), ("role", "a.role"),
                      ("is_primary", self._bool("a.is_primary"))),
            f"FROM {AFF} a JOIN {ORG} o ON o.id = a.organisation_id WHERE a.person_id = p.id "
            f"AND (a.end_date IS NULL OR a.end_date >= %s) AND o.visibility IN ('public', 'staff')",
            "a.is_primary DESC, a.id",
        )
        sql = (
            f"SELECT (SELECT COUNT(*) FROM {PERSON} p WHERE {where}), p.id, p.name, p.name_local, p.position, "
            f"p.email, p.phone, p.languages, {affiliations}, p.updated_at, p.gender, p.sensitivity, "
            f"p.consent_given_at, p.consent_method, p.consent_purposes, p.consent_withdrawn_at, p.do_not_contact, "
            f"p.created_at FROM {PERSON} p WHERE {where} ORDER BY p.name, p.id LIMIT %s OFFSET %s"
        )
        rows = self._fetch(sql, [today, size, (page - 1) * size])
        results = []
        for r in rows:
            orgs = self._json(r[8])
            for item in orgs:
                item["id"] = self._id(item["id"])
            results.append({
                "id": self._id(r[1]), "url": self.person_url.replace(str(_PLACEHOLDER), self._id(r[1])),
                "name": r[2], "name_local": r[3], "position": r[4], "email": r[5], "phone": r[6],
                "languages": self._json(r[7]), "organisations": orgs, "updated_at": self._dt(r[9]),
                "gender": r[10], "sensitivity": r[11],
                "has_consent": r[12] is not None and r[15] is None,
                "consent_given_at": self._dt(r[12]), "consent_method": r[13],
                "consent_purposes": self._json(r[14]), "consent_withdrawn_at": self._dt(r[15]),
                "do_not_contact": bool(r[16]), "created_at": self._dt(r[17]),
            })
        count = rows[0][0] if rows else 0
        return dumps(self.envelope(count, page, size, url, results))

    # --- interactions (EU staff, cursor pages: no count) --------------------------------

    def interactions_page(self, user, size: int, organisation=None) -> bytes:
        rule, args = self._interaction_rule(user, "i")
        where = rule
        if organisation is not None:
            where += f" AND EXISTS (SELECT 1 FROM {I_ORG} x WHERE x.interaction_id = i.id AND x.organisation_id = %s)"
            args = args + [self._uuid_param(organisation)]
        orgs = self._list("o.id", f"FROM {I_ORG} t JOIN {ORG} o ON o.id = t.organisation_id WHERE "
                                  f"t.interaction_id = i.id AND o.visibility IN ('public', 'staff')", "o.name, o.id")
        people = self._list("pp.id", f"FROM {I_PEOPLE} t JOIN {PERSON} pp ON pp.id = t.person_id WHERE "
                                     f"t.interaction_id = i.id AND pp.sensitivity = 'normal'", "pp.name, pp.id")
        staff = self._list("u.username", f"FROM {I_STAFF} t JOIN {USER} u ON u.id = t.user_id WHERE "
                                         f"t.interaction_id = i.id", "u.username")
        areas = self._list("f.slug", f"FROM {I_FA} t JOIN {FA} f ON f.id = t.focusarea_id WHERE "
                                     f"t.interaction_id = i.id", "f.position, f.id")
        sql = (
            f"SELECT i.id, i.occurred_on, i.kind, i.subject, i.notes, {orgs}, {people}, {staff}, {areas}, i.team_id, "
            f"au.username, i.sensitivity, i.follow_up_due, fu.username, i.follow_up_done, i.created_at, i.updated_at "
            f"FROM {INTER} i JOIN {USER} au ON au.id = i.author_id LEFT JOIN {USER} fu ON fu.id = i.follow_up_assignee_id "
            f"WHERE {where} ORDER BY i.occurred_on DESC, i.created_at DESC, i.id LIMIT %s"
        )
        results = []
        for r in self._fetch(sql, args + [size]):
            pk = self._id(r[0])
            results.append({
                "id": pk,
                "url": self.interaction_url.replace(str(_PLACEHOLDER), pk) if self.interaction_url else None,
                "occurred_on": self._date(r[1]), "kind": r[2], "subject": r[3], "notes": r[4],
                "organisations": [self._id(x) for x in self._json(r[5])],
                "people": [self._id(x) for x in self._json(r[6])],
                "staff_participants": self._json(r[7]), "focus_areas": self._json(r[8]),
                "team": self._id(r[9]), "author": r[10], "sensitivity": r[11],
                "follow_up_due": self._date(r[12]), "follow_up_assignee": r[13], "follow_up_done": bool(r[14]),
                "created_at": self._dt(r[15]), "updated_at": self._dt(r[16]),
            })
        return dumps({"results": results})


def compare(endpoint: dict | list, floor: dict | list) -> str:
    """How the floor's page matches the endpoint's: 'identical', or what differs."""
    def results(data):
        return data.get("results", data) if isinstance(data, dict) else data

    a, b = results(endpoint), results(floor)
    if isinstance(a, dict) and isinstance(b, dict):  # a detail
        a, b = [a], [b]
    ids_a = [row.get("id") for row in a]
    ids_b = [row.get("id") for row in b]
    if ids_a != ids_b:
        return f"MISMATCH: ids differ ({len(ids_a)} vs {len(ids_b)} rows)"
    notes = []
    keys_a = set(a[0]) if a else set()
    keys_b = set(b[0]) if b else set()
    if keys_a != keys_b:
        notes.append(f"fields only in endpoint: {sorted(keys_a - keys_b)}; only in floor: {sorted(keys_b - keys_a)}")
    differing = sorted({k for x, y in zip(a, b, strict=True) for k in keys_a & keys_b if x.get(k) != y.get(k)})
    if differing:
        notes.append(f"values differ in {differing}")
    if isinstance(endpoint, dict) and isinstance(floor, dict):
        for key in ("count", "next", "previous", "facets"):
            if key in endpoint and key in floor and endpoint[key] != floor[key]:
                notes.append(f"{key} differs")
    return "; ".join(notes) if notes else "identical"
