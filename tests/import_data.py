"""Generated import files for tests and the import benchmark (no committed data files).

    python -m tests.import_data 10000 [FIRST] > /tmp/orgs.csv
    time python manage.py import_organisations /tmp/orgs.csv
"""

import csv
import io
import random
import sys

# The import columns (directory.services.imports.COLUMNS), repeated so that this module runs
# as a script without Django set up; tests/test_import.py checks the two agree.
COLUMNS = (
    "name", "name_local", "other_names", "acronym", "type", "country", "city", "website", "email",
    "phone", "description", "focus_areas", "languages", "founded_year", "identifiers", "visibility",
)
COUNTRIES = ["KZ", "KG", "TJ", "TM", "UZ"]
CITIES = {"KZ": "Almaty", "KG": "Bishkek", "TJ": "Dushanbe", "TM": "Ashgabat", "UZ": "Tashkent"}
WORDS = ["Civic", "Green", "Youth", "Legal", "Aid", "Dialogue", "Water", "Steppe", "Mountain", "Women",
         "Rights", "Future", "Bridge", "Light", "Voice", "Hope", "Open", "Silk", "Road", "Union"]
KINDS = ["Foundation", "Centre", "Association", "Network", "Initiative", "Alliance", "Bureau"]
FOCUS = ["human-rights", "climate", "water", "youth", "education", "health", "media-freedom", "gender-equality"]


CONSONANTS = "bdgkmnprstvzlhjy"
VOWELS = "aeiou"
CYRILLIC = {"a": "а", "b": "б", "d": "д", "e": "е", "g": "г", "h": "х", "i": "и", "j": "дж", "k": "к",
            "l": "л", "m": "м", "n": "н", "o": "о", "p": "п", "r": "р", "s": "с", "t": "т", "u": "у",
            "v": "в", "y": "й", "z": "з"}


def _word(rng) -> str:
    syllables = rng.randint(2, 4)
    return "".join(rng.choice(CONSONANTS) + rng.choice(VOWELS) for _ in range(syllables)).capitalize()


def _cyrillic(text: str) -> str:
    return "".join(CYRILLIC.get(ch.lower(), ch) for ch in text).title()


def make_rows(n: int, seed: int = 1, start: int = 0) -> list[dict]:
    """n distinct, valid organisations (every column filled), deterministic for a seed."""
    rng = random.Random(seed * 1_000_003 + start)
    rows = []
    for i in range(start, start + n):
        country = COUNTRIES[i % len(COUNTRIES)]
        words = [_word(rng), _word(rng)]
        name = f"{words[0]} {words[1]} {rng.choice(KINDS)}"
        rows.append({
            "name": name,
            "name_local": _cyrillic(f"{words[0]} {words[1]}"),
            "other_names": f"{words[1]} {words[0]}",
            "acronym": f"{words[0][0]}{words[1][0]}{i}",
            "type": rng.choice(["ngo", "foundation", "network"]),
            "country": country,
            "city": CITIES[country],
            "website": f"https://org{i}.example.org/",
            "email": f"info@org{i}.example.org",
            "phone": f"+7 700 {i:07d}",
            "description": f"Works on {words[0].lower()} matters since {1990 + i % 30}.",
            "focus_areas": ";".join(rng.sample(FOCUS, 2)),
            "languages": "ru;en",
            "founded_year": str(1990 + i % 30),
            "identifiers": f"KZ-BIN-{100000000000 + i}" if country == "KZ" else f"{country}-REG-{i}",
            "visibility": "public",
        })
    return rows


def to_csv(rows: list[dict], columns=COLUMNS, *, bom=False, crlf=True, encoding="utf-8") -> bytes:
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n" if crlf else "\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([row.get(c, "") for c in columns])
    data = out.getvalue().encode(encoding)
    return (b"\xef\xbb\xbf" + data) if bom else data


def to_xlsx(rows: list[dict], columns=COLUMNS) -> bytes:
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.append(list(columns))
    for row in rows:
        sheet.append([row.get(c, "") for c in columns])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


if __name__ == "__main__":
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 10000
    first = int(sys.argv[2]) if len(sys.argv) > 2 else 0  # a different start gives other organisations
    sys.stdout.buffer.write(to_csv(make_rows(count, start=first)))
