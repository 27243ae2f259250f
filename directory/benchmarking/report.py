"""The benchmark's table and JSON file."""

from __future__ import annotations

import json

COLUMNS = [("name", 32), ("p50", 7), ("p95", 7), ("p99", 7), ("queries", 7), ("bytes", 9), ("floor p50", 9),
           ("ratio", 6), ("n", 3)]

# Pairs whose query counts must be equal (page size and depth must not change the count).
EXPORT_CHUNK = 2000  # .iterator(chunk_size=...) of the exports
QUERY_PAIRS = [
    ("org_list_page_size_10", "org_list_page_size_200"),
    ("org_list_page_size_10", "org_list_deep_page"),
    ("people_list", "people_list_page_size_200"),
    ("interactions_list", "interactions_list_page_size_200"),
]


def _fmt(value, digits=1) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def checks(results: list[dict], export: dict) -> list[str]:
    by_name = {r["name"]: r for r in results}
    out = []
    for a, b in QUERY_PAIRS:
        ra, rb = by_name.get(a), by_name.get(b)
        if not ra or not rb or ra.get("queries") is None or rb.get("queries") is None:
            continue
        same = ra["queries"] == rb["queries"]
        out.append(f"{'ok  ' if same else 'FAIL'} queries {a}={ra['queries']} vs {b}={rb['queries']}")
    for r in results:
        if r.get("ratio_to_floor") is not None and r["ratio_to_floor"] > 3:
            out.append(f"SLOW {r['name']}: {r['ratio_to_floor']}x the floor")
        check = r.get("floor_check")
        if check and check != "identical":
            out.append(f"NOTE {r['name']} floor vs endpoint: {check}")
    for name, e in export.items():
        growth = e.get("memory_growth")
        if growth is None:
            continue
        if e["small_rows"] < 2 * EXPORT_CHUNK:
            # Below two chunks the peak still grows with rows by design (chunk N-1 is freed
            # while chunk N loads): only a comparison above that says anything.
            out.append(f"n/a  export {name}: peak memory x{growth} for {e['rows']:,} vs {e['small_rows']:,} rows "
                       f"(inconclusive: fewer than {2 * EXPORT_CHUNK:,} rows in the smaller export)")
        else:
            out.append(f"{'ok  ' if growth <= 1.2 else 'FAIL'} export {name}: peak memory x{growth} for "
                       f"{e['rows']:,} vs {e['small_rows']:,} rows")
    return out


# The CI gate (issue 9 point 7): structural failures only, absolute times are not gated.
MAX_FLOOR_RATIO = 8
NOT_LISTS = {"org_detail"}


def gate_failures(data: dict, max_ratio: float = MAX_FLOOR_RATIO) -> list[str]:
    """What makes `benchmark --gate` fail: an error status, a floor that does not reproduce the
    endpoint's rows, a list whose query count depends on page size or depth, a list slower
    than `max_ratio` times its floor, or an export whose peak memory grows with its rows
    (at least one export comparison must be large enough to say so)."""
    failures = []
    results = data["results"]
    by_name = {r["name"]: r for r in results}
    for r in results:
        if r.get("status") not in (200, "not available"):
            failures.append(f"{r['name']}: HTTP {r.get('status')}")
        if (r.get("floor_check") or "").startswith("MISMATCH"):
            failures.append(f"{r['name']}: the floor does not reproduce the page ({r['floor_check']})")
        ratio = r.get("ratio_to_floor")
        if r["name"] not in NOT_LISTS and ratio is not None and ratio > max_ratio:
            failures.append(f"{r['name']}: {ratio}x its floor (limit {max_ratio}x)")
    for a, b in QUERY_PAIRS:
        ra, rb = by_name.get(a), by_name.get(b)
        if ra and rb and ra.get("queries") is not None and ra["queries"] != rb.get("queries"):
            failures.append(f"queries depend on page size or depth: {a}={ra['queries']}, {b}={rb.get('queries')}")
    conclusive = 0
    for name, e in data["export"].items():
        if e.get("status") == "not available" or e.get("memory_growth") is None:
            continue
        if e["small_rows"] < 2 * EXPORT_CHUNK:
            continue
        conclusive += 1
        if e["memory_growth"] > 1.2:
            failures.append(f"export {name}: peak memory x{e['memory_growth']} for {e['rows']:,} vs "
                            f"{e['small_rows']:,} rows (limit x1.2)")
    if not conclusive:
        failures.append(f"no export memory comparison with at least {2 * EXPORT_CHUNK:,} rows in the smaller export")
    return failures


def table(data: dict) -> str:
    lines = []
    scale = data["scale"]
    lines.append(
        f"Scale {scale['name']}: {scale['organisations']:,} organisations, {scale['people']:,} people, "
        f"{scale['interactions']:,} interactions on {scale['database']}; seeding {scale.get('seed_seconds', '—')} s; "
        f"{scale['rounds']} rounds"
    )
    lines.append("  ".join(f"{title:>{w}}" if i else f"{title:<{w}}" for i, (title, w) in enumerate(COLUMNS)))
    lines.append("-" * (sum(w for _t, w in COLUMNS) + 2 * (len(COLUMNS) - 1)))
    for r in data["results"]:
        if r.get("status") == "not available":
            lines.append(f"{r['name']:<32}  not available: {r.get('note', '')}")
            continue
        cells = [r["name"], _fmt(r["p50_ms"]), _fmt(r["p95_ms"]), _fmt(r["p99_ms"]), _fmt(r["queries"]),
                 _fmt(r["bytes"]), _fmt(r["floor_p50_ms"], 2), _fmt(r["ratio_to_floor"]), _fmt(r.get("samples"))]
        line = "  ".join(f"{c:>{w}}" if i else f"{c:<{w}}" for i, (c, (_t, w)) in enumerate(zip(cells, COLUMNS, strict=True)))
        if r.get("status") not in (200, None):
            line += f"  HTTP {r['status']}"
        lines.append(line)
    lines.append("(milliseconds; queries and bytes per request; ratio = p50 / floor p50; n = timed samples)")
    lines.append("")
    for name, e in data["export"].items():
        if e.get("status") == "not available":
            lines.append(f"export {name}: not available ({e.get('note', '')})")
        else:
            line = f"export {name}: {e['rows']:,} rows, {e['rows_per_s']:,} rows/s"
            if e.get("peak_memory_bytes"):
                line += (f", peak {e['peak_memory_bytes'] / 1e6:.1f} MB ({e['small_rows']:,} rows: "
                         f"{e['small_peak_memory_bytes'] / 1e6:.1f} MB, x{e['memory_growth']})")
            lines.append(line)
    imp = data["import_rows_per_s"]
    if imp.get("status") == "not available":
        lines.append(f"import: not available ({imp.get('note', '')})")
    else:
        lines.append(f"import ({imp.get('via')}): {imp['organisations']:,} organisations/s "
                     f"({imp['organisations_rows']:,} rows), {imp['interactions']:,} interactions/s "
                     f"({imp['interactions_rows']:,} rows); import service {imp['organisations_service']:,} "
                     f"organisations/s ({imp['organisations_service_rows']:,}-row CSV)")
    inv = data["invitations"]
    if inv.get("status") == "not available":
        lines.append(f"invitation list of 300 people: not available ({inv.get('note', '')})")
    else:
        lines.append(f"invitation list: {inv['people']} people from {inv['organisations_matching']:,} organisations "
                     f"({inv['filters']}): preview {inv['preview_ms']} ms ({inv['preview_queries']} queries), "
                     f"add {inv['add_ms']} ms ({inv['add_queries']} queries), mark all invited "
                     f"{inv['bulk_invited_ms']} ms ({inv['bulk_invited_queries']} queries)")
    lines.append("")
    lines += data["checks"]
    lines.append(f"total {data['seconds']} s")
    return "\n".join(lines)


def write_json(data: dict, path: str):
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(data, handle, ensure_ascii=False, indent=2, default=str)
