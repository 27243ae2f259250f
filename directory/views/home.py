"""The staff home page: my follow-ups, my teams' recent contacts, organisations nobody has
contacted for a year, and three server-drawn charts.

A fixed number of queries whatever the amount of data: every figure is one aggregate
(`values().annotate()`), every list one query plus its fixed prefetches.
"""

import hashlib
from datetime import timedelta

from django.core.cache import cache
from django.db.models import Count, Exists, F, OuterRef, Q, Window
from django.db.models.functions import Coalesce
from django.shortcuts import redirect, render
from django.utils import timezone
from django_countries import countries

from .. import charts, selectors
from ..choices import InteractionKind, OrganisationStatus
from ..models import FocusArea, Interaction, Organisation, Team
from ..roles import get_roles
from ..services import interactions as services
from .interactions import staff_required

FOLLOW_UP_LIMIT = 50
RECENT_LIMIT = 10
STALE_LIMIT = 20
STALE_DAYS = 365
# Figures (the three charts) are recalculated at most this often, and at once after any change
# to contact history; the page says so. Counting ~400,000 interactions per view would not fit
# the page's 100 ms budget.
CHART_SECONDS = 600


def root(request):
    """`/`: signed-in EU staff go to their home page; everybody else to the directory."""
    if get_roles(request.user).staff:
        return redirect("directory:home")
    return redirect("directory:organisation_list")


def _follow_ups(user):
    # Assigned to me: I see the record's metadata even when I may not read its content.
    return list(
        Interaction.objects.filter(follow_up_assignee=user, follow_up_done=False, follow_up_due__isnull=False)
        .with_readable(user)
        .select_related("team")
        .only("id", "occurred_on", "kind", "subject", "sensitivity", "follow_up_due", "follow_up_done",
              "follow_up_assignee_id", "team__id", "team__name")
        .order_by("follow_up_due", "occurred_on", "id")[:FOLLOW_UP_LIMIT]
    )


def _stale_organisations(user, team_ids, today):
    teams = Team.objects.filter(pk__in=team_ids).only("id", "countries")
    codes = sorted({country.code for team in teams for country in team.countries})
    if not codes:
        return [], 0, codes
    since = today - timedelta(days=STALE_DAYS)
    recent = Interaction.objects.visible_to(user).filter(organisations=OuterRef("pk"), occurred_on__gte=since)
    qs = (
        Organisation.objects.visible_to(user)
        .filter(country__in=codes, status=OrganisationStatus.ACTIVE)
        # An interaction open to all staff within the year rules the organisation out for
        # everybody: the maintained date leaves a few candidates (at 1,000,000 interactions,
        # ~600 of 15,000) for the exact check against what this user may see.
        .filter(Q(staff_contacted_on__isnull=True) | Q(staff_contacted_on__lt=since))
        .exclude(Exists(recent))
    )
    # The count rides on the list (a window over the same anti-join): one pass, not two.
    rows = list(
        qs.annotate(last_contacted_on=selectors.last_contacted(user), total=Window(Count("pk")))
        .only("id", "name", "country", "city")
        .order_by(F("last_contacted_on").asc(nulls_first=True), "name", "id")[:STALE_LIMIT]
    )
    return rows, (rows[0].total if rows else 0), codes


def _roles_digest(user) -> str:
    """What the user may see, as a short digest: a team or permission change starts a fresh
    count on the next request instead of serving one made under the old access."""
    roles = get_roles(user)
    parts = [
        roles.admin, roles.staff, roles.organiser, roles.can_view_restricted,
        sorted(map(str, roles.team_ids)), sorted(map(str, roles.editor_org_ids)),
    ]
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:16]


def _cached(key, compute, user):
    """The figures' raw counts, kept CHART_SECONDS (the page says so). The key carries the
    contact-history version, so any interaction written since is counted at once, and the
    user's access, so a changed role never reads counts made under the old one."""
    key = f"home:{services.charts_version()}:{_roles_digest(user)}:{key}"
    return cache.get_or_set(key, compute, CHART_SECONDS)


def _monthly_counts(user, since, today) -> dict:
    # Grouped by day and kind: an index-only scan of interaction_date_vis_idx (it covers the
    # compartment columns); folded into months here.
    rows = (
        Interaction.objects.visible_to(user)
        .filter(occurred_on__gte=since, occurred_on__lte=today)
        .order_by()
        .values_list("occurred_on", "kind")
        .annotate(n=Count("pk"))
    )
    counts: dict = {}
    for day, kind, n in rows:
        key = (day.replace(day=1), kind)
        counts[key] = counts.get(key, 0) + n
    return counts


def _monthly_chart(user, today):
    months = charts.months_back(today, 12)
    counts = _cached(f"monthly:{user.pk}:{today.isoformat()}", lambda: _monthly_counts(user, months[0], today), user)
    return charts.stacked_months(counts, months, [(k, str(label)) for k, label in InteractionKind.choices])


def _organisation_counts(user) -> tuple[list, dict]:
    organisations = Organisation.objects.visible_to(user).filter(status=OrganisationStatus.ACTIVE)
    by_country = list(
        organisations.order_by().values_list("country").annotate(n=Count("pk")).order_by("-n", "country")
    )
    through = Organisation.focus_areas.through.objects.filter(organisation_id__in=organisations.values("pk"))
    top_counts = dict(
        through.annotate(top=Coalesce(F("focusarea__parent__slug"), F("focusarea__slug")))
        .order_by()
        .values_list("top")
        .annotate(n=Count("organisation_id", distinct=True))
        .values_list("top", "n")
    )
    return by_country, top_counts


def _organisation_charts(user):
    by_country, top_counts = _cached(f"organisations:{user.pk}", lambda: _organisation_counts(user), user)
    names = dict(countries)
    country_chart = charts.horizontal_bars([(names.get(code, code), n) for code, n in by_country])
    tops = FocusArea.objects.filter(parent__isnull=True).order_by("position", "id")
    focus_rows = sorted(((fa.label, top_counts.get(fa.slug, 0)) for fa in tops), key=lambda r: (-r[1], r[0]))
    return country_chart, charts.horizontal_bars(focus_rows)


@staff_required
def home(request):
    user = request.user
    roles = get_roles(user)
    today = timezone.localdate()
    follow_ups = _follow_ups(user)
    for item in follow_ups:
        item.overdue = item.follow_up_due < today
    recent = list(
        selectors.interaction_list(user).filter(team_id__in=roles.team_ids)[:RECENT_LIMIT]
    ) if roles.team_ids else []
    stale, stale_count, stale_countries = _stale_organisations(user, roles.team_ids, today)
    country_chart, focus_chart = _organisation_charts(user)
    context = {
        "today": today,
        "follow_ups": follow_ups,
        "recent": recent,
        "stale": stale,
        "stale_count": stale_count,
        "stale_countries": [names for code, names in countries if code in stale_countries],
        "stale_since": today - timedelta(days=STALE_DAYS),
        "monthly": _monthly_chart(user, today),
        "country_chart": country_chart,
        "focus_chart": focus_chart,
        "chart_minutes": CHART_SECONDS // 60,
    }
    return render(request, "crm/home.html", context)

