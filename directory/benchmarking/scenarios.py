"""What the benchmark requests, and how it times it.

Every scenario is one GET through `django.test.Client` (in process: the whole middleware,
authentication, throttling, view and rendering stack, no network). After a warm-up, the
scenarios run round-robin for N rounds (the order reversed every other round), each followed by
its floor, so slow drifts of the machine hit every variant alike. Query counts come from one
extra run under `CaptureQueriesContext` (not timed: capturing costs time).
"""

from __future__ import annotations

import gc
import json
import math
import time
import tracemalloc
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext, override_settings
from django.urls import Resolver404, resolve

from ..models import Interaction, Organisation
from . import seed as seeding
from .floor import Floor, compare

BASE = "https://testserver"
LIST_CELLS = ("other_names", "languages", "focus_areas", "identifiers")
NOT_AVAILABLE = "not available"


@dataclass
class Scenario:
    name: str
    path: str
    params: dict = field(default_factory=dict)
    user: str = "anonymous"  # or "staff"
    floor: object = None  # a callable returning the floor's bytes
    note: str = ""
    available: bool = True
    samples: list = field(default_factory=list)
    floor_samples: list = field(default_factory=list)
    queries: int | None = None
    bytes: int | None = None
    status: int | None = None
    floor_check: str = ""

    @property
    def url(self) -> str:
        query = urlencode(self.params, doseq=True)
        return f"{self.path}?{query}" if query else self.path

    def result(self) -> dict:
        if not self.available:
            return {"name": self.name, "status": NOT_AVAILABLE, "note": self.note, "p50_ms": None, "p95_ms": None,
                    "p99_ms": None, "queries": None, "bytes": None, "floor_p50_ms": None, "ratio_to_floor": None}
        p50 = percentile(self.samples, 50)
        floor_p50 = percentile(self.floor_samples, 50) if self.floor_samples else None
        return {
            "name": self.name, "url": self.url, "user": self.user, "status": self.status,
            "p50_ms": p50, "p95_ms": percentile(self.samples, 95), "p99_ms": percentile(self.samples, 99),
            "queries": self.queries, "bytes": self.bytes, "floor_p50_ms": floor_p50,
            "ratio_to_floor": round(p50 / floor_p50, 1) if floor_p50 else None, "samples": len(self.samples),
            "floor_check": self.floor_check or None, "note": self.note or None,
        }


def percentile(samples, q) -> float | None:
    """Linear interpolation between closest ranks; milliseconds, 2 decimals."""
    if not samples:
        return None
    ordered = sorted(samples)
    rank = (len(ordered) - 1) * q / 100
    low, high = math.floor(rank), math.ceil(rank)
    value = ordered[low] + (ordered[high] - ordered[low]) * (rank - low)
    return round(value * 1000, 2)


def resolves(path: str) -> bool:
    try:
        resolve(path)
        return True
    except Resolver404:
        return False


@contextmanager
def benchmark_environment():
    """Throttles keep working (their cache work is part of a request) but with a 1-second window
    and a rate no benchmark reaches; the test client's host is allowed. Restored afterwards."""
    from rest_framework.throttling import SimpleRateThrottle

    rates = SimpleRateThrottle.THROTTLE_RATES
    saved = dict(rates)
    for scope in list(rates):
        rates[scope] = "1000000/s"
    cache.clear()
    try:
        with override_settings(ALLOWED_HOSTS=[*settings.ALLOWED_HOSTS, "testserver"]):
            yield
    finally:
        rates.clear()
        rates.update(saved)
        cache.clear()


class Runner:
    def __init__(self, stream=None):
        self.stream = stream
        users = get_user_model().objects.filter(username__in=seeding.STAFF_USERS).order_by("username")
        self.staff = {u.username: u for u in users}[seeding.STAFF_USERS[0]]
        self.clients = {"anonymous": Client(), "staff": Client()}
        self.clients["staff"].force_login(self.staff)
        self.floor = Floor(BASE)

    def log(self, text: str):
        if self.stream is not None:
            self.stream.write(text + "\n")
            self.stream.flush()

    def get(self, scenario: Scenario):
        return self.clients[scenario.user].get(scenario.url, secure=True, HTTP_ACCEPT="application/json, text/html")

    # --- the scenarios ----------------------------------------------------------------

    def scenarios(self) -> list[Scenario]:
        floor, staff = self.floor, self.staff
        api = "/api/v1/organisations/"
        org0 = Organisation.objects.filter(website=f"https://org0.{seeding.MARKER_DOMAIN}").values_list("pk", flat=True).first()
        public = Organisation.objects.filter(visibility="public", status="active").count()
        deep_page = max(1, int(math.ceil(public / 50) * 0.8))

        def org(name, params, user="anonymous", facets=False, note=""):
            s = Scenario(name, api, params, user, note=note)
            s.floor = lambda s=s: floor.organisation_page(s.params, role=s.user, user=staff, url=BASE + s.url,
                                                           facets=facets)
            return s

        out = [
            org("org_list", {}),
            org("org_list_country", {"country": ["KG"]}),
            org("org_list_focus_area", {"focus_area": ["rule-of-law"]}),
            org("org_list_two_focus_areas", {"focus_area": ["environment", "youth"]}),
            org("org_list_type_language", {"type": ["ngo"], "language": ["ky"]}),
            org("org_list_kz_environment", {"country": ["KZ"], "focus_area": ["environment"], "page_size": "50"},
                note="issue 3's reference query"),
            org("org_list_q_latin", {"q": "Kylym Shamy"}),
            org("org_list_q_cyrillic", {"q": "Кылым Шамы"}),
            org("org_list_q_translit", {"q": "Qilim Shami"}, note="Qilim Shami = Kylym Shamy = Кылым Шамы"),
            org("org_list_facets", {"facets": "1"}, facets=True),
            org("org_list_page_size_10", {"page_size": "10"}),
            org("org_list_page_size_50", {"page_size": "50"}),
            org("org_list_page_size_200", {"page_size": "200"}),
            org("org_list_deep_page", {"page": str(deep_page)}, note=f"page {deep_page} of 50"),
            org("org_list_staff", {}, user="staff"),
        ]
        detail = Scenario("org_detail", f"{api}{org0}/")
        detail.floor = lambda: floor.organisation_detail(org0)
        out.append(detail)
        for name, params in (("people_list", {}), ("people_list_page_size_200", {"page_size": "200"})):
            s = Scenario(name, "/api/v1/people/", params, "staff")
            s.floor = lambda s=s: floor.people_page(s.params, staff, url=BASE + s.url)
            out.append(s)
        for name, path, params in (
            ("interactions_list", "/api/v1/interactions/", {}),
            ("interactions_list_page_size_200", "/api/v1/interactions/", {"page_size": "200"}),
            ("org_timeline", f"{api}{org0}/interactions/", {}),
        ):
            s = Scenario(name, path, params, "staff")
            if not resolves(path):
                s.available, s.note = False, f"{path} does not resolve (endpoint not built yet)"
            else:
                target = org0 if name == "org_timeline" else None
                s.floor = lambda s=s, target=target: floor.interactions_page(staff, s._floor_size or 50, target)
            s._floor_size = None
            out.append(s)
        out += [
            Scenario("staff_home_html", "/home/", {}, "staff"),
            Scenario("org_list_html", "/organisations/", {}),
            Scenario("interactions_list_html", "/interactions/", {}, "staff"),
        ]
        return out

    # --- timing -------------------------------------------------------------------------

    def prepare(self, s: Scenario):
        """Warm up, count queries, record bytes and status, check the floor once."""
        t0 = time.perf_counter()
        self.get(s)
        s.warm_seconds = time.perf_counter() - t0
        with CaptureQueriesContext(connection) as captured:
            response = self.get(s)
        s.queries = len(captured.captured_queries)
        s.status = response.status_code
        s.bytes = len(response.content)
        if s.status != 200:
            s.note = (s.note + f"; HTTP {s.status}").strip("; ")
            return
        if s.floor is not None:
            endpoint = json.loads(response.content)
            if hasattr(s, "_floor_size"):
                s._floor_size = len(endpoint.get("results", [])) or 50
            floor_bytes = s.floor()
            s.floor()
            s.floor_check = compare(endpoint, json.loads(floor_bytes))

    def run(self, scenarios: list[Scenario], rounds: int, budget: float = 3.0, min_rounds: int = 7):
        """Round-robin over the scenarios. A scenario slower than `budget` seconds over all
        rounds stops after budget / (its warm-up time) rounds, but never before `min_rounds`:
        the slow pages would otherwise take most of the run (their p95/p99 rest on fewer samples)."""
        active = [s for s in scenarios if s.available]
        for s in active:
            self.prepare(s)
            self.log(f"  warm-up {s.name:<34} HTTP {s.status}  {s.queries} queries  {s.bytes:,} bytes"
                     + (f"  floor: {s.floor_check}" if s.floor else ""))
        timed = [s for s in active if s.status == 200]
        # As gunicorn.conf.py does after loading the app: what is loaded by now (Django, the
        # app, the warm-up's caches) stays out of the garbage collector's full collections,
        # which otherwise paused a request for ~75-160 ms every few hundred requests.
        gc.collect()
        gc.freeze()
        try:
            self._timing_rounds(timed, rounds, budget, min_rounds)
        finally:
            gc.unfreeze()

    def _timing_rounds(self, timed, rounds, budget, min_rounds):
        for s in timed:
            s.quota = max(min(rounds, min_rounds), min(rounds, int(budget / max(s.warm_seconds, 1e-6))))
        for r in range(rounds):
            order = timed if r % 2 == 0 else list(reversed(timed))
            for s in order:
                if len(s.samples) >= s.quota:
                    continue
                t0 = time.perf_counter()
                response = self.get(s)
                _ = response.content
                s.samples.append(time.perf_counter() - t0)
                if s.floor is not None:
                    t0 = time.perf_counter()
                    s.floor()
                    s.floor_samples.append(time.perf_counter() - t0)
            if self.stream is not None:
                self.stream.write(f"\r  timing round {r + 1}/{rounds}")
                self.stream.flush()
        if self.stream is not None:
            self.stream.write("\n")

    # --- exports --------------------------------------------------------------------------

    def _stream(self, user, url, trace=False):
        """Consume a streamed CSV; returns (rows, seconds, bytes, peak bytes or None)."""
        if trace:
            tracemalloc.start()
            tracemalloc.reset_peak()
        t0 = time.perf_counter()
        response = self.clients[user].get(url, secure=True)
        size = lines = 0
        chunks = response.streaming_content if response.streaming else [response.content]
        for chunk in chunks:
            size += len(chunk)
            lines += chunk.count(b"\n")
        seconds = time.perf_counter() - t0
        peak = None
        if trace:
            peak = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
        if response.status_code != 200:
            raise RuntimeError(f"{url}: HTTP {response.status_code}")
        return max(lines - 1, 0), seconds, size, peak

    def export(self, name, user, url, small_url, trace=True) -> dict:
        try:
            rows, seconds, size, _ = self._stream(user, url)
            small_rows, small_peak, peak = None, None, None
            if trace:
                small_rows, _s, _b, small_peak = self._stream(user, small_url, trace=True)
                _r, _s, _b, peak = self._stream(user, url, trace=True)
        except RuntimeError as exc:
            return {"status": NOT_AVAILABLE, "note": str(exc)}
        result = {
            "url": url, "rows": rows, "seconds": round(seconds, 2), "rows_per_s": round(rows / seconds) if seconds else None,
            "bytes": size, "peak_memory_bytes": peak, "small_url": small_url, "small_rows": small_rows,
            "small_peak_memory_bytes": small_peak,
            "memory_growth": round(peak / small_peak, 2) if small_peak else None,
        }
        self.log(f"  export {name}: {rows:,} rows in {seconds:.2f} s = {result['rows_per_s']:,} rows/s"
                 + (f"; peak {peak / 1e6:.1f} MB ({small_rows:,} rows: {small_peak / 1e6:.1f} MB)" if trace else ""))
        return result

    def exports(self, interaction_rows: int, org_subset: list[str], divisor: int = 4) -> dict:
        """Organisations: every row the staff user sees, memory compared with a country subset.
        Interactions: the latest `interaction_rows` visible rows (an `occurred_after` cut), memory
        compared with 1/divisor of them (web export; the API export is timed only)."""
        subset = "&".join(f"country={c}" for c in org_subset)
        out = {"organisations_csv": self.export(
            "organisations", "staff", "/api/v1/organisations/?format=csv", f"/api/v1/organisations/?format=csv&{subset}")}
        visible = Interaction.objects.visible_to(self.staff).order_by("-occurred_on")

        def cut(rows):  # the day after the last date beyond `rows` rows: at most `rows` rows
            found = list(visible.values_list("occurred_on", flat=True)[rows: rows + 1])
            day = found[0] if found else None
            return (day + timedelta(days=1)).isoformat() if day else "1900-01-01"

        large, small = cut(interaction_rows), cut(interaction_rows // divisor)
        for key, path, extra in (("interactions_csv", "/interactions/export.csv", "?"),
                                 ("interactions_api_csv", "/api/v1/interactions/", "?format=csv&")):
            if resolves(path):
                out[key] = self.export(key.removesuffix("_csv"), "staff", f"{path}{extra}occurred_after={large}",
                                       f"{path}{extra}occurred_after={small}", trace=key == "interactions_csv")
            else:
                out[key] = {"status": NOT_AVAILABLE, "note": f"{path} does not resolve"}
        return out

    # --- imports --------------------------------------------------------------------------

    def imports(self, organisations: int, interactions: int) -> dict:
        """Rows/s of the bulk loaders (as an import would write), rolled back afterwards."""
        bulk = "COPY" if connection.vendor == "postgresql" else "bulk_create"
        note = (f"organisations/interactions: the seeder's bulk loaders ({bulk} with the indexes in place, "
                "organisations in batches of 2,000, interactions one statement per table per 100,000 rows in "
                "index order; no history, no validation); organisations_service: "
                "directory.services.imports.organisation_import of a CSV file (validation, matching, "
                "likely duplicates, history)")
        areas = seeding.focus_area_ids()
        users = [get_user_model().objects.get(username=u) for u in seeding.STAFF_USERS]
        from ..models import Team

        teams = [Team.objects.get(memberships__user=u) for u in users]
        rows = seeding.organisation_rows(organisations, areas, seed=seeding.SEED + 100, start=10_000_000)
        with transaction.atomic():
            t0 = time.perf_counter()
            seeding.load_organisations(rows, fast=True)
            org_seconds = time.perf_counter() - t0
            transaction.set_rollback(True)
        existing = [
            {"id": pk, "name": name}
            for pk, name in Organisation.objects.order_by("name", "id").values_list("pk", "name")[:20_000]
        ]
        people_of: dict = {}
        from ..models import Affiliation

        for org_id, person_id in Affiliation.objects.filter(
            organisation_id__in=[o["id"] for o in existing], is_primary=True
        ).values_list("organisation_id", "person_id"):
            people_of.setdefault(org_id, []).append(person_id)
        interaction_rows = list(seeding.interaction_rows(
            interactions, existing, people_of, users, teams, areas, seed=seeding.SEED + 200))
        with transaction.atomic():
            t0 = time.perf_counter()
            seeding.load_interactions(interaction_rows, interactions, fast=True)
            int_seconds = time.perf_counter() - t0
            transaction.set_rollback(True)
        service_rows, service_seconds = self.import_service(organisations, areas)
        result = {
            "organisations": round(organisations / org_seconds), "organisations_rows": organisations,
            "interactions": round(interactions / int_seconds), "interactions_rows": interactions, "via": note,
            "organisations_service": round(service_rows / service_seconds), "organisations_service_rows": service_rows,
        }
        self.log(f"  import: {result['organisations']:,} organisations/s, {result['interactions']:,} interactions/s; "
                 f"import service {result['organisations_service']:,} organisations/s")
        return result

    def import_service(self, count: int, areas: list[int]) -> tuple[int, float]:
        """The real import (API.md "Import") of a `count`-row CSV file of new organisations, a
        tenth of them with a registration number, as the staff user; rolled back afterwards."""
        import csv
        import io

        from ..identifiers import validate_identifier
        from ..models import FocusArea
        from ..services.imports import COLUMNS, organisation_import

        slug_of = dict(FocusArea.objects.filter(id__in=areas).values_list("id", "slug"))
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=COLUMNS)
        writer.writeheader()
        rows = seeding.organisation_rows(count, areas, seed=seeding.SEED + 300, start=20_000_000)
        for number, row in enumerate(rows, 1):
            # New organisations: a number makes each name unique (the seeder's names repeat, and
            # a name matching two organisations of a country is, rightly, an import error).
            row["name"], row["name_local"] = f"{row['name']} {number}", f"{row['name_local']} {number}"
            row["other_names"] = [f"{name} {number}" for name in row["other_names"]]
            identifiers = []
            for scheme, value in row["identifiers"]:
                try:
                    validate_identifier(scheme, value)
                    identifiers.append(f"{scheme}-{value}")
                except Exception:  # the seeder's numbers need not satisfy a scheme's checksum
                    pass
            writer.writerow({
                **{k: row[k] for k in COLUMNS if k in row and k not in LIST_CELLS},
                "other_names": ";".join(row["other_names"]), "languages": ";".join(row["languages"]),
                "focus_areas": ";".join(slug_of[a] for a in row["focus_area_ids"]),
                "identifiers": ";".join(identifiers),
                "visibility": "staff" if row["visibility"] == "restricted" else row["visibility"],
            })
        content = buffer.getvalue().encode("utf-8")
        with transaction.atomic():
            t0 = time.perf_counter()
            report = organisation_import(actor=self.staff, content=content, filename="bench.csv")
            seconds = time.perf_counter() - t0
            transaction.set_rollback(True)
        if report.errors:
            raise RuntimeError(f"benchmark import file rejected: {report.errors[:3]}")
        return report.rows, seconds

    # --- invitations -----------------------------------------------------------------------

    def invitations(self, target: int = 300, rounds: int = 5) -> dict:
        """Building a `target`-person invitation list from a directory filter (issue 7) with
        directory.services.events, as `benchmark_events` does: the preview (median of `rounds`)
        and the atomic add, then marking the whole list invited; rolled back afterwards. The
        filter is the first of INVITATION_FILTERS matching enough organisations at this scale."""
        import statistics

        from django.http import QueryDict

        from ..management.commands.benchmark_events import Command as EventsBenchmark
        from ..services import events as services

        with transaction.atomic():
            organiser, event = EventsBenchmark._fixture()
            for filters in INVITATION_FILTERS:
                query = QueryDict(filters)
                matching = services.filtered_organisations(actor=organiser, filters=query).count()
                if matching >= target * 1.4:  # some organisations have no contact to invite
                    break

            def preview():
                return services.add_from_directory(actor=organiser, event=event, filters=query, dry_run=True)

            preview()  # warm-up
            timings = []
            for _round in range(rounds):
                with CaptureQueriesContext(connection) as captured:
                    t0 = time.perf_counter()
                    previewed = preview()
                    timings.append(time.perf_counter() - t0)
            with CaptureQueriesContext(connection) as added_queries:
                t0 = time.perf_counter()
                added = services.add_from_directory(actor=organiser, event=event, filters=query)
                add_seconds = time.perf_counter() - t0
            with CaptureQueriesContext(connection) as invited_queries:
                t0 = time.perf_counter()
                services.invitations_bulk_status(
                    actor=organiser, event=event, ids=[i.pk for i in added.added], status="invited")
                invited_seconds = time.perf_counter() - t0
            transaction.set_rollback(True)
        result = {
            "status": "ok", "filters": filters, "organisations_matching": matching, "people": len(added.added),
            "skipped": len(added.skipped), "previewed": len(previewed.added),
            "preview_ms": round(statistics.median(timings) * 1000, 1), "preview_queries": len(captured),
            "add_ms": round(add_seconds * 1000, 1), "add_queries": len(added_queries),
            "bulk_invited_ms": round(invited_seconds * 1000, 1), "bulk_invited_queries": len(invited_queries),
            "via": "directory.services.events.add_from_directory (preview, then add) and "
                   "invitations_bulk_status, rolled back",
        }
        self.log(f"  invitation list: {result['people']} people from {matching:,} organisations "
                 f"({filters}): preview {result['preview_ms']} ms / {result['preview_queries']} queries, "
                 f"add {result['add_ms']} ms / {result['add_queries']} queries, mark invited "
                 f"{result['bulk_invited_ms']} ms / {result['bulk_invited_queries']} queries")
        return result


# Narrowest first: benchmark_events' default filter gives ~300 people at `full` scale; the
# broader ones give about as many at `small` and `tiny` scale.
INVITATION_FILTERS = (
    "country=KZ&country=TJ&country=UZ&type=media&focus_area=environment",
    "country=KZ&country=TJ&country=UZ&focus_area=environment",
    "country=KZ&country=KG&country=TJ&country=UZ&country=TM",
)
