"""Cached facet counts and total of the unfiltered organisation list, per access class.

The counts are cached under `directory_counts_version`, a number that database triggers change
with every committed write to the organisations, their focus-area links or the focus areas
(migration 0013), so no writer (service, admin, bulk load, `QuerySet.update()`, raw SQL) can
leave a stale count behind. The key also carries the access rule the counts were made under
(public, staff, everything); CSO editors, whose rule names their own organisations, are never
cached. The version is read before counting and the counts stored under it: a write committed
meanwhile carries a newer version, so nobody reads counts that miss it.

Only reads outside a transaction use the cache: inside one, the counts could include this
transaction's own uncommitted writes.
"""

from django.core.cache import cache
from django.core.exceptions import EmptyResultSet
from django.db import connection

from .models import Organisation
from .roles import get_roles

CACHE_SECONDS = 24 * 3600


def access_class(user) -> str | None:
    """Which organisations `Organisation.objects.visible_to(user)` shows, as a cache key part;
    None when the rule is the user's own (CSO editors)."""
    roles = get_roles(user)
    if roles.admin or roles.can_view_restricted:
        return "all"
    if roles.editor_org_ids:
        return None
    if roles.staff or roles.organiser:
        return "staff"
    return "public"


def version() -> int | None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT value FROM directory_counts_version WHERE id = 1")
        row = cursor.fetchone()
    return row[0] if row else None


def _pk_sql(qs):
    return qs.order_by().values("pk").query.sql_with_params()


def is_unfiltered(qs, base, user) -> bool:
    """Is `qs` the whole of `base`, and `base` all of the user's visible organisations?

    `base` is the queryset the view filtered (its annotations may add joins that do not
    change the rows); `qs` must compile to the same rows query (same WHERE, joins, limits)."""
    try:
        return (
            base.query.where == Organisation.objects.visible_to(user).query.where
            and not base.query.distinct and base.query.combinator is None
            and _pk_sql(qs) == _pk_sql(base)
        )
    except EmptyResultSet:  # qs.none(): not the unfiltered list
        return False


def cached_counts(user, compute):
    """`compute()` (all facet dimensions of the user's visible organisations), cached per
    access class and counts version; None-safe fallbacks compute without the cache."""
    return _cached("org-facets", user, compute)


def cached_total(user, compute):
    """`compute()`: the number of organisations the user may see (the unfiltered list's
    `count`), cached like the facets. At 50,000 organisations the COUNT is the list's most
    expensive query (~2.4 ms of PostgreSQL per request, ~46 ms while the visibility map
    lags behind a bulk update)."""
    return _cached("org-total", user, compute)


def _cached(prefix, user, compute):
    kind = access_class(user)
    if kind is None or connection.in_atomic_block:
        return compute()
    current = version()
    if current is None:
        return compute()
    return cache.get_or_set(f"{prefix}:{current}:{kind}", compute, CACHE_SECONDS)
