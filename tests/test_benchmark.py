"""`manage.py benchmark` end to end at a tiny scale, on the test database (--in-place)."""

import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from tests import factories

EXPECTED = {
    "org_list", "org_list_country", "org_list_focus_area", "org_list_two_focus_areas", "org_list_type_language", "org_list_kz_environment",
    "org_list_q_latin", "org_list_q_cyrillic", "org_list_q_translit", "org_list_facets", "org_list_page_size_10",
    "org_list_page_size_50", "org_list_page_size_200", "org_list_deep_page", "org_list_staff", "org_detail",
    "people_list", "people_list_page_size_200", "interactions_list", "interactions_list_page_size_200",
    "org_timeline", "staff_home_html", "org_list_html", "interactions_list_html",
}
NUMBERS = ("p50_ms", "p95_ms", "p99_ms", "queries", "bytes")


@pytest.mark.django_db
def test_benchmark_tiny_end_to_end(tmp_path):
    path = tmp_path / "bench.json"
    call_command("benchmark", "--scale", "tiny", "--in-place", "--rounds", "2", "--quiet-progress",
                 "--json", str(path), stdout=open(tmp_path / "out.txt", "w"), stderr=open(tmp_path / "err.txt", "w"))
    data = json.loads(path.read_text())

    assert set(data) >= {"scale", "results", "import_rows_per_s", "export"}
    assert data["scale"]["organisations"] == 200 and data["scale"]["interactions"] == 1000
    results = {r["name"]: r for r in data["results"]}
    assert set(results) == EXPECTED
    for name, r in results.items():
        assert set(r) >= {"name", "p50_ms", "p95_ms", "p99_ms", "queries", "bytes", "floor_p50_ms", "ratio_to_floor"}
        if r.get("status") == "not available":
            assert r["note"], name
            continue
        assert r["status"] == 200, (name, r)
        for key in NUMBERS:
            assert isinstance(r[key], int | float) and r[key] > 0, (name, key, r)
        if name.endswith("_html"):
            assert r["floor_p50_ms"] is None
        elif r["floor_p50_ms"] is not None:
            assert r["ratio_to_floor"] > 0
            assert not r["floor_check"].startswith("MISMATCH"), (name, r["floor_check"])

    # The floor reproduces the organisation list page: same ids in the same order (and, today,
    # the very same JSON).
    for name in ("org_list", "org_list_q_cyrillic", "org_list_facets", "org_list_staff", "people_list"):
        assert results[name]["floor_p50_ms"] > 0
        assert results[name]["floor_check"] == "identical", (name, results[name]["floor_check"])

    for name, export in data["export"].items():
        assert export.get("status") == "not available" or export["rows_per_s"] > 0, name
    assert data["export"]["organisations_csv"]["rows"] > 0
    imports = data["import_rows_per_s"]
    assert imports["organisations"] > 0 and imports["interactions"] > 0
    assert imports["organisations_service"] > 0 and imports["organisations_service_rows"] == 200
    invitations = data["invitations"]
    assert invitations["status"] == "ok"
    assert invitations["people"] > 0 and invitations["previewed"] == invitations["people"]
    assert invitations["preview_queries"] > 0 and invitations["add_queries"] > 0
    assert "org_list" in (tmp_path / "out.txt").read_text()


@pytest.mark.django_db
def test_benchmark_only_times_the_named_parts(tmp_path):
    """`--only` narrows a run to some scenarios (by part of their name) and parts, and says
    what it left out; the gate, which needs every scenario, refuses it."""
    path = tmp_path / "bench.json"
    call_command("benchmark", "--scale", "tiny", "--in-place", "--rounds", "1", "--quiet-progress",
                 "--only", "org_list_q,invitations", "--json", str(path),
                 stdout=open(tmp_path / "out.txt", "w"), stderr=open(tmp_path / "err.txt", "w"))
    data = json.loads(path.read_text())
    assert {r["name"] for r in data["results"]} == {"org_list_q_latin", "org_list_q_cyrillic", "org_list_q_translit"}
    assert data["export"] == {} and data["import_rows_per_s"]["note"] == "not run (--only)"
    assert data["invitations"]["status"] == "ok"
    assert "import: not available (not run (--only))" in (tmp_path / "out.txt").read_text()
    with pytest.raises(CommandError, match="cannot be combined"):
        call_command("benchmark", "--scale", "tiny", "--in-place", "--quiet-progress", "--gate", "--only", "org_list")


@pytest.mark.django_db
def test_benchmark_refuses_a_database_with_real_organisations():
    factories.OrganisationFactory()
    with pytest.raises(CommandError, match="did not create"):
        call_command("benchmark", "--scale", "tiny", "--in-place", "--quiet-progress")


def _report(**changes):
    """A passing report; `changes` replace results by name (dicts merged) or the export."""
    results = [
        {"name": "org_list_page_size_10", "status": 200, "queries": 5, "ratio_to_floor": 2.0, "floor_check": "identical"},
        {"name": "org_list_page_size_200", "status": 200, "queries": 5, "ratio_to_floor": 2.5, "floor_check": "identical"},
        {"name": "org_list_deep_page", "status": 200, "queries": 5, "ratio_to_floor": 3.0, "floor_check": "identical"},
        {"name": "org_detail", "status": 200, "queries": 4, "ratio_to_floor": 20.0, "floor_check": "identical"},
        {"name": "interactions_list", "status": "not available", "queries": None, "ratio_to_floor": None},
    ]
    export = {"interactions_csv": {"rows": 8800, "small_rows": 4400, "memory_growth": 1.05}}
    for name, change in changes.items():
        if name == "export":
            export = change
        else:
            next(r for r in results if r["name"] == name).update(change)
    return {"results": results, "export": export}


def test_gate_passes_a_good_report_and_ignores_the_detail_ratio():
    from directory.benchmarking.report import gate_failures

    assert gate_failures(_report()) == []


@pytest.mark.parametrize(("changes", "expected"), [
    ({"org_list_page_size_200": {"queries": 6}}, "queries depend on page size or depth"),
    ({"org_list_deep_page": {"queries": 7}}, "org_list_deep_page=7"),
    ({"org_list_page_size_200": {"ratio_to_floor": 8.1}}, "8.1x its floor"),
    ({"org_list_deep_page": {"status": 500}}, "HTTP 500"),
    ({"org_list_page_size_10": {"floor_check": "MISMATCH: ids differ (1 vs 2 rows)"}}, "does not reproduce"),
    ({"export": {"interactions_csv": {"rows": 8800, "small_rows": 4400, "memory_growth": 1.3}}}, "peak memory x1.3"),
    ({"export": {"interactions_csv": {"rows": 800, "small_rows": 400, "memory_growth": 1.0}}}, "no export memory"),
])
def test_gate_fails_on_each_structural_problem(changes, expected):
    from directory.benchmarking.report import gate_failures

    failures = gate_failures(_report(**changes))
    assert len(failures) == 1 and expected in failures[0], failures


def test_gate_ratio_limit_is_configurable():
    from directory.benchmarking.report import gate_failures

    assert gate_failures(_report(), max_ratio=2.2) == [
        "org_list_page_size_200: 2.5x its floor (limit 2.2x)", "org_list_deep_page: 3.0x its floor (limit 2.2x)"]


class _FakeScenario:
    def __init__(self, name, ratios):
        self.name, self.ratios, self.samples, self.floor_samples = name, list(ratios), [1], [1]

    def result(self):
        return {"name": self.name, "ratio_to_floor": self.ratios[0], "note": None}


class _FakeRunner:
    def __init__(self):
        self.timed = []

    def run(self, scenarios, rounds):
        for s in scenarios:
            self.timed.append(s.name)
            s.ratios.pop(0)  # the second run's ratio


def test_gate_re_times_a_list_above_the_limit_and_keeps_the_second_figure():
    from directory.management.commands.benchmark import Command

    scenarios = [_FakeScenario("org_list", [9.0, 4.0]), _FakeScenario("people_list", [9.5, 9.1]),
                 _FakeScenario("org_detail", [20.0]), _FakeScenario("org_list_country", [3.0])]
    runner = _FakeRunner()
    command = Command(stderr=open("/dev/null", "w"))
    results = command.confirm_ratios(runner, scenarios, [s.result() for s in scenarios], 5, 8)
    assert runner.timed == ["org_list", "people_list"]  # not the detail, not the fast list
    by_name = {r["name"]: r for r in results}
    assert by_name["org_list"]["ratio_to_floor"] == 4.0 and "first run 9.0x" in by_name["org_list"]["note"]
    assert by_name["people_list"]["ratio_to_floor"] == 9.1  # still above: the gate fails on it
    assert by_name["org_detail"]["ratio_to_floor"] == 20.0 and by_name["org_list_country"]["ratio_to_floor"] == 3.0
