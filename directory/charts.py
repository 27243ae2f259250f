"""Server-drawn SVG charts (no JavaScript, no library): geometry is computed here, the
templates in templates/crm/charts/ draw it. Colours come from CSS classes (site.css)."""

from datetime import date

from django.utils import formats

BAR_ROW = 26
BAR_LABEL_W = 190
BAR_PLOT_W = 330


def months_back(today: date, count: int = 12) -> list[date]:
    """First days of the last `count` months, oldest first, ending with the current month."""
    year, month = today.year, today.month
    months = []
    for _ in range(count):
        months.append(date(year, month, 1))
        month -= 1
        if month == 0:
            year, month = year - 1, 12
    return list(reversed(months))


def _nice_max(value: int) -> int:
    if value <= 5:
        return max(value, 1)
    for step in (5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000, 10000):
        if value <= step * 5:
            return ((value + step - 1) // step) * step
    return value


def stacked_months(counts: dict, months: list[date], kinds: list[tuple[str, str]]) -> dict:
    """counts: {(first_day_of_month, kind): n}. Returns bars, ticks, legend and a table."""
    width, height = 640, 260
    left, right, top, bottom = 44, 10, 12, 36
    plot_w, plot_h = width - left - right, height - top - bottom
    totals = [sum(counts.get((m, k), 0) for k, _label in kinds) for m in months]
    peak = _nice_max(max(totals) if totals else 0)
    slot = plot_w / len(months)
    bar_w = slot * 0.66
    columns = []
    for index, month in enumerate(months):
        x = left + index * slot + (slot - bar_w) / 2
        y_base = top + plot_h
        segments = []
        for kind, label in kinds:
            n = counts.get((month, kind), 0)
            if not n:
                continue
            h = plot_h * n / peak
            y_base -= h
            segments.append({"kind": kind, "label": label, "n": n, "x": round(x, 1), "y": round(y_base, 1),
                             "w": round(bar_w, 1), "h": round(h, 1)})
        columns.append({
            "month": month,
            "label": formats.date_format(month, "M y"),
            "total": totals[index],
            "segments": segments,
            "label_x": round(left + index * slot + slot / 2, 1),
            "cells": [counts.get((month, k), 0) for k, _label in kinds],
        })
    ticks = []
    for fraction in (0, 0.5, 1):
        value = peak * fraction
        if fraction and value != int(value):
            continue
        ticks.append({"value": int(value), "y": round(top + plot_h - plot_h * fraction, 1)})
    used = {k for (m, k), n in counts.items() if n and m in set(months)}
    return {
        "width": width, "height": height, "left": left, "right": width - right,
        "baseline": top + plot_h, "label_y": height - 12,
        "mid_x": left + plot_w // 2, "mid_y": top + plot_h // 2,
        "columns": columns, "ticks": ticks,
        "legend": [{"kind": k, "label": label} for k, label in kinds if k in used],
        "kinds": kinds,
        "total": sum(totals),
        "empty": sum(totals) == 0,
    }


def horizontal_bars(rows: list[tuple[str, int]]) -> dict:
    """rows: [(label, n)], drawn in the given order."""
    rows = [(label, n) for label, n in rows if n]
    peak = max((n for _label, n in rows), default=0)
    height = max(len(rows), 1) * BAR_ROW + 8
    bars = []
    for index, (label, n) in enumerate(rows):
        y = 4 + index * BAR_ROW
        w = BAR_PLOT_W * n / peak if peak else 0
        w = round(max(w, 2), 1)
        bars.append({"label": label, "n": n, "y": y, "text_y": y + 16, "w": w, "value_x": round(BAR_LABEL_W + w + 6, 1)})
    return {
        "width": BAR_LABEL_W + BAR_PLOT_W + 50,
        "height": height,
        "label_x": BAR_LABEL_W - 8,
        "bar_x": BAR_LABEL_W,
        "bars": bars,
        "empty": not rows,
        "total": sum(n for _label, n in rows),
    }


def balance_bars(name: str, title: str, rows: list[dict]) -> dict:
    """Horizontal bars, one per value: rows carry label, n and percent (0–100)."""
    height = max(len(rows), 1) * BAR_ROW + 8
    bars = []
    for index, row in enumerate(rows):
        y = 4 + index * BAR_ROW
        bars.append({
            **row, "y": y, "text_y": y + 16, "width": round(BAR_PLOT_W * row["percent"] / 100.0, 1),
            "x": BAR_LABEL_W, "value_x": BAR_LABEL_W + round(BAR_PLOT_W * row["percent"] / 100.0, 1) + 6,
        })
    return {"name": name, "title": title, "rows": rows, "bars": bars, "height": height,
            "width": BAR_LABEL_W + BAR_PLOT_W + 90, "label_w": BAR_LABEL_W - 8}
