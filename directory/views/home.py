"""The staff home page: my follow-ups, my teams' recent contacts, organisations nobody has
contacted for a year, and three server-drawn charts.

A fixed number of queries whatever the amount of data: every figure is one aggregate
(`values().annotate()`), every list one query plus its fixed prefetches.
"""

from datetime import timedelta

from django.db.models import Count, Exists, F, OuterRef, Q
from django.db.models.functions import Coalesce, TruncMonth
from django.shortcuts import redirect, render
from django.utils import timezone
from django_countries import countries

from .. import charts, selectors
from ..choices import InteractionKind, OrganisationStatus
from ..models import FocusArea, Interaction, Organisation, Team
from ..roles import get_roles
from .interactions import staff_required

FOLLOW_UP_LIMIT = 50
RECENT_LIMIT = 10
STALE_LIMIT = 20
STALE_DAYS = 365


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
    count = qs.count()
    rows = list(
        qs.annotate(last_contacted_on=selectors.last_contacted(user))
        .only("id", "name", "country", "city")
        .order_by(F("last_contacted_on").asc(nulls_first=True), "name", "id")[:STALE_LIMIT]
    )
    return rows, count, codes


def _monthly_chart(user, today):
    months = charts.months_back(today, 12)
    rows = (
        Interaction.objects.visible_to(user)
        .filter(occurred_on__gte=months[0], occurred_on__lte=today)
        .order_by()
        .annotate(month=TruncMonth("occurred_on"))
        .values("month", "kind")
        .annotate(n=Count("pk"))
    )
    counts = {}
    for row in rows:
        month = row["month"]
        month = month.date() if hasattr(month, "date") and callable(month.date) else month
        counts[(month.replace(day=1), row["kind"])] = row["n"]
    return charts.stacked_months(counts, months, [(k, str(label)) for k, label in InteractionKind.choices])


def _organisation_charts(user):
    organisations = Organisation.objects.visible_to(user).filter(status=OrganisationStatus.ACTIVE)
    by_country = (
        organisations.order_by().values("country").annotate(n=Count("pk")).order_by("-n", "country")
    )
    names = dict(countries)
    country_chart = charts.horizontal_bars([(names.get(r["country"], r["country"]), r["n"]) for r in by_country])
    through = Organisation.focus_areas.through.objects.filter(organisation_id__in=organisations.values("pk"))
    top_counts = dict(
        through.annotate(top=Coalesce(F("focusarea__parent__slug"), F("focusarea__slug")))
        .order_by()
        .values_list("top")
        .annotate(n=Count("organisation_id", distinct=True))
        .values_list("top", "n")
    )
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
    }
    return render(request, "crm/home.html", context)

