"""Import organisations from CSV or .xlsx (API.md "Import").

All or nothing: the whole file is read and validated in memory first, with the lookups
preloaded in one query per table (focus areas, identifiers, organisations for matching and
duplicates); every error is collected as ``{"row", "column", "message"}`` (rows numbered as a
spreadsheet shows them: the header is row 1). Only when there is no error are the rows written,
in one transaction, with bulk inserts/updates in batches of 2,000 that record history
(django-simple-history's bulk helpers).

Matching an existing organisation: by identifier, else by website domain, else by normalised
name (name or local name) in the same country. A matched organisation is updated only when a
non-empty cell differs from what it holds, so importing the same file twice changes nothing.
Empty cells never erase data; a non-empty list cell (other names, focus areas, languages)
replaces the list; identifiers are only ever added.

Organisations have a public email and phone, not personal data, so the suppression list of
erased people (services.privacy) does not apply to them.
"""

from __future__ import annotations

import csv
import gc
import io
import re
import uuid
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, time

from django.apps import apps
from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator, URLValidator
from django.db import transaction
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_countries import countries
from simple_history.utils import bulk_update_with_history

from ..choices import LANGUAGE_CODES, OrganisationType, Visibility
from ..identifiers import parse_identifier, validate_identifier
from ..models import FocusArea, Organisation, OrganisationIdentifier
from ..roles import get_roles
from .bulk import insert, insert_with_history
from .duplicates import (
    MAX_DUPLICATES_PER_ROW,
    Candidate,
    Duplicate,
    OrganisationIndex,
    find_duplicates_many,
    name_key,
)

COLUMNS = (
    "name", "name_local", "other_names", "acronym", "type", "country", "city", "website", "email",
    "phone", "description", "focus_areas", "languages", "founded_year", "identifiers", "visibility",
)
REQUIRED = ("name", "country")
LIST_COLUMNS = ("other_names", "focus_areas", "languages", "identifiers")
LIST_SEPARATOR = ";"
MAX_CELL = 10_000
MAX_FILE_BYTES = 20 * 1024 * 1024
MAX_ROWS = 100_000
BATCH_SIZE = 2000
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
MAX_LENGTHS = {"name": 300, "name_local": 300, "acronym": 40, "city": 120, "website": 300, "phone": 40,
               "email": 254, "description": 10_000}
# Model fields an import may set (identifiers and focus areas are relations).
FIELDS = ("name", "name_local", "other_names", "acronym", "type", "country", "city", "website", "email",
          "phone", "description", "languages", "founded_year", "visibility")
CHANGE_REASON = "Imported from a file"
NOT_UTF8_CP1251 = gettext_lazy("The file is not UTF-8 (it looks like Windows-1251). Save it as CSV UTF-8.")

Progress = Callable[[str, int, int], None]


def _n(number: int) -> str:
    """A count in the active language's digit grouping (5,000 / 5 000)."""
    return number_format(number, force_grouping=True)


def _column(index: int) -> str:
    return _("column %(number)s") % {"number": index + 1}


def NOT_XLSX() -> str:  # noqa: N802 - reads like the constant it replaces
    return _("This is not a valid .xlsx file. Save it as .xlsx (Excel workbook) or CSV UTF-8.")


class ImportFileError(Exception):
    """The file as a whole cannot be read (encoding, format, header): nothing was written."""

    def __init__(self, message: str, *, row: int | None = None, column: str | None = None, errors=None):
        super().__init__(message)
        self.errors = errors or [{"row": row, "column": column, "message": message}]


@dataclass
class RowResult:
    row: int
    name: str
    action: str  # "create", "update" or "unchanged"
    organisation_id: uuid.UUID | None = None
    changed: list[str] = field(default_factory=list)
    duplicates: list[Duplicate] = field(default_factory=list)  # the best MAX_DUPLICATES_PER_ROW
    duplicates_total: int = 0  # all of them

    @property
    def more_duplicates(self) -> int:
        return self.duplicates_total - len(self.duplicates)


@dataclass
class ImportReport:
    dry_run: bool
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[dict] = field(default_factory=list)
    results: list[RowResult] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def written(self) -> bool:
        return self.ok and not self.dry_run

    @property
    def likely_duplicates(self) -> list[RowResult]:
        return [r for r in self.results if r.duplicates]

    def as_dict(self) -> dict:
        return {
            "dry_run": self.dry_run,
            "rows": self.rows,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "errors": self.errors,
            "likely_duplicates": [
                {"row": r.row, "name": r.name, "total": r.duplicates_total,
                 "organisations": [d.as_dict() for d in r.duplicates]}
                for r in self.likely_duplicates
            ],
        }


# --------------------------------------------------------------------------- reading files


def _error(row, column, message) -> dict:
    return {"row": row, "column": column, "message": message}


def _looks_binary(content: bytes) -> bool:
    sample = content[:65536]
    if b"\x00" in sample:
        return True
    controls = sum(1 for b in sample if b < 9 or 13 < b < 32 or b == 11 or b == 12)
    return controls > max(2, len(sample) // 200)


def _looks_cp1251(content: bytes) -> bool:
    high = [b for b in content[:200_000] if b >= 0x80]
    if not high:
        return False
    letters = sum(1 for b in high if b >= 0xC0 or b in (0xA8, 0xB8, 0xB2, 0xB3, 0xAA, 0xBA, 0xAF, 0xBF))
    return letters / len(high) > 0.7


def _decode(content: bytes) -> str:
    if content.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ImportFileError(_("The file is not UTF-8 (it looks like UTF-16). Save it as CSV UTF-8."))
    if _looks_binary(content):
        raise ImportFileError(
            _("This is not a CSV or .xlsx file (it contains binary data). Upload CSV UTF-8 or .xlsx.")
        )
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError as exc:
        row = content.count(b"\n", 0, exc.start) + 1
        if _looks_cp1251(content):
            raise ImportFileError(str(NOT_UTF8_CP1251), row=row) from None
        raise ImportFileError(
            _("The file is not UTF-8 (byte 0x%(byte)02x on row %(row)s is not valid UTF-8). "
              "Save it as CSV UTF-8.") % {"byte": content[exc.start], "row": row},
            row=row,
        ) from None
    return text.removeprefix("\ufeff")


def _csv_rows(content: bytes):
    text = _decode(content)
    first_line = text.split("\n", 1)[0]
    delimiter = ","
    if "," not in first_line:
        if ";" in first_line:
            delimiter = ";"
        elif "\t" in first_line:
            delimiter = "\t"
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    number = 0
    try:
        for number, record in enumerate(reader, 1):  # noqa: B007 - used after the loop
            yield number, record, []
    except csv.Error as exc:
        row = number + 1
        if "field larger than field limit" in str(exc):
            raise ImportFileError(
                _("A cell on row %(row)s is longer than %(limit)s characters.")
                % {"row": row, "limit": _n(MAX_CELL)},
                row=row,
            ) from None
        raise ImportFileError(_("Row %(row)s is not valid CSV: %(error)s.") % {"row": row, "error": exc}, row=row) from None


def _xlsx_value(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time.min else value.isoformat()
    if isinstance(value, date | time):
        return value.isoformat()
    return str(value)


def _xlsx_rows(content: bytes):
    from zipfile import BadZipFile

    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=False)
    except (BadZipFile, InvalidFileException, KeyError, ValueError, OSError, TypeError):
        raise ImportFileError(NOT_XLSX()) from None
    try:
        if not workbook.worksheets:
            raise ImportFileError(_("The workbook has no sheet."))
        sheet = workbook.worksheets[0]
        for number, cells in enumerate(sheet.iter_rows(), 1):
            values, problems = [], []
            for index, cell in enumerate(cells):
                kind = getattr(cell, "data_type", None)
                if kind == "f":
                    problems.append((index, _("Formula cells are not accepted: copy the column and "
                                              "paste values only, then import again.")))
                    values.append("")
                elif kind == "e":
                    problems.append(
                        (index, _("The cell holds a spreadsheet error (%(error)s).") % {"error": cell.value})
                    )
                    values.append("")
                else:
                    values.append(_xlsx_value(cell.value))
            yield number, values, problems
    finally:
        workbook.close()


def read_table(content: bytes, filename: str = ""):
    """(header, rows, errors): rows are (spreadsheet row number, {column: text}) for non-empty
    rows. Raises ImportFileError when the file as a whole cannot be read."""
    if not content or not content.strip():
        raise ImportFileError(_("The file is empty."))
    if len(content) > MAX_FILE_BYTES:
        raise ImportFileError(
            _("The file is larger than %(size)s MB; split it.") % {"size": MAX_FILE_BYTES // (1024 * 1024)}
        )
    lower = (filename or "").lower()
    if content.startswith(b"\xd0\xcf\x11\xe0"):
        raise ImportFileError(_("Old Excel .xls files are not accepted: save it as .xlsx or CSV UTF-8."))
    if content.startswith(b"PK\x03\x04"):
        source = _xlsx_rows(content)
    elif lower.endswith((".xlsx", ".xlsm")):
        raise ImportFileError(NOT_XLSX())
    else:
        source = _csv_rows(content)

    errors: list[dict] = []
    header: list[str] | None = None
    rows: list[tuple[int, dict]] = []
    unnamed: dict[int, int] = {}  # index of a column without a name -> first row using it
    for number, record, problems in source:
        if header is None:
            if not any(cell.strip() for cell in record):
                continue  # blank lines before the header
            header = [cell.strip().lower().removeprefix("\ufeff") for cell in record]
            _check_header(header, number, problems)
            continue
        if len(rows) >= MAX_ROWS:
            raise ImportFileError(_("The file has more than %(limit)s rows; split it.") % {"limit": _n(MAX_ROWS)})
        for index, message in problems:
            column = header[index] if index < len(header) and header[index] else _column(index)
            errors.append(_error(number, column, message))
        if not any(cell.strip() for cell in record):
            continue
        row = {}
        for index, cell in enumerate(record):
            column = header[index] if index < len(header) else ""
            if len(cell) > MAX_CELL:
                errors.append(_error(number, column or _column(index),
                                     _("The cell has %(count)s characters; the limit is %(limit)s.")
                                     % {"count": _n(len(cell)), "limit": _n(MAX_CELL)}))
                continue
            if not column:
                if cell.strip():
                    unnamed.setdefault(index, number)
                continue
            row[column] = cell
        rows.append((number, row))
    if header is None:
        raise ImportFileError(_("The file is empty."))
    for index, number in sorted(unnamed.items()):
        errors.append(_error(number, _column(index),
                             _("This cell is in a column without a header; name the column or delete it.")))
    return header, rows, errors


def _check_header(header: list[str], number: int, problems) -> None:
    errors = []
    for index, message in problems:
        errors.append(_error(number, _column(index), message))
    names = [h for h in header if h]
    known = [h for h in names if h in COLUMNS]
    if not known:
        raise ImportFileError(
            _("The first row must be the header with column names (name, country, ...); none of its "
              "cells is a known column. Known columns: %(columns)s.") % {"columns": ", ".join(COLUMNS)},
            row=number,
        )
    for column in sorted({h for h in names if names.count(h) > 1}):
        errors.append(_error(number, column, _("The column %(column)r appears more than once.") % {"column": column}))
    for column in names:
        if column not in COLUMNS:
            errors.append(_error(number, column[:100], _("Unknown column %(column)r. Known columns: %(columns)s.")
                                 % {"column": column[:100], "columns": ", ".join(COLUMNS)}))
    for column in REQUIRED:
        if column not in names:
            errors.append(_error(number, column, _("The required column %(column)r is missing.") % {"column": column}))
    if errors:
        raise ImportFileError(errors[0]["message"], errors=errors)


# --------------------------------------------------------------------------- validating rows

_url_validator = URLValidator()
_email_validator = EmailValidator()
_TYPES = {v: v for v in OrganisationType.values} | {str(lbl).lower(): v for v, lbl in OrganisationType.choices}
_VISIBILITIES = {v: v for v in Visibility.values} | {str(lbl).lower(): v for v, lbl in Visibility.choices}


def _unescape(text: str) -> str:
    """Exports put ' before cells that a spreadsheet would run as a formula; take it off."""
    text = text.strip()
    if len(text) > 1 and text[0] == "'" and text[1] in "=+-@":
        return text[1:]
    return text


def _split(text: str) -> list[str]:
    return list(dict.fromkeys(part.strip() for part in text.split(LIST_SEPARATOR) if part.strip()))


def _country(text: str) -> str | None:
    code = countries.alpha2(text.strip())
    if code:
        return code
    code = countries.by_name(text.strip(), insensitive=True) if text.strip() else ""
    return code or None


@dataclass
class ParsedRow:
    row: int
    values: dict  # model field -> value, only for non-empty cells
    focus_areas: list | None  # FocusArea ids, None when the cell is empty
    identifiers: list  # (scheme, value)
    candidate: Candidate | None = None


def _parse_row(number: int, raw: dict, focus_by_slug: dict, errors: list) -> ParsedRow | None:
    cells = {column: _unescape(value) for column, value in raw.items()}
    values: dict = {}
    start = len(errors)

    def bad(column, message):
        errors.append(_error(number, column, message))

    for column in REQUIRED:
        if not cells.get(column):
            bad(column, _("%(column)s is required.") % {"column": column.replace("_", " ").capitalize()})
    for column, limit in MAX_LENGTHS.items():
        text = cells.get(column, "")
        if len(text) > limit:
            bad(column, _("At most %(limit)s characters (%(count)s given).")
                % {"limit": _n(limit), "count": _n(len(text))})
        elif text and column not in ("website", "email"):
            values[column] = text
    if cells.get("country"):
        code = _country(cells["country"])
        if code is None:
            bad("country", _("Unknown country %(value)r: use an ISO 3166 code such as KZ, KG, TJ, TM or UZ.")
                % {"value": cells["country"][:60]})
        else:
            values["country"] = code
    if cells.get("type"):
        kind = _TYPES.get(cells["type"].lower())
        if kind is None:
            bad("type", _("Unknown type %(value)r; use one of: %(choices)s.")
                % {"value": cells["type"][:60], "choices": ", ".join(OrganisationType.values)})
        else:
            values["type"] = kind
    if cells.get("visibility"):
        visibility = _VISIBILITIES.get(cells["visibility"].lower())
        if visibility is None:
            bad("visibility", _("Unknown visibility %(value)r; use one of: %(choices)s.")
                % {"value": cells["visibility"][:60], "choices": ", ".join(Visibility.values)})
        else:
            values["visibility"] = visibility
    website = cells.get("website", "")
    if website and len(website) <= MAX_LENGTHS["website"]:
        url = website if "://" in website else "https://" + website
        try:
            _url_validator(url)
            values["website"] = url
        except ValidationError:
            bad("website", _("Not a valid web address: %(value)r.") % {"value": website[:80]})
    email = cells.get("email", "")
    if email and len(email) <= MAX_LENGTHS["email"]:
        try:
            _email_validator(email)
            values["email"] = email
        except ValidationError:
            bad("email", _("Not a valid email address: %(value)r.") % {"value": email[:80]})
    if cells.get("founded_year"):
        text = cells["founded_year"]
        this_year = timezone.localdate().year
        if not re.fullmatch(r"\d{4}", text):
            bad("founded_year", _("Write the founding year as four digits, e.g. 2004 (got %(value)r).")
                % {"value": text[:20]})
        elif not 1800 <= int(text) <= this_year:
            bad("founded_year", _("The founding year must be between 1800 and %(year)s (got %(value)s).")
                % {"year": this_year, "value": text})
        else:
            values["founded_year"] = int(text)
    if cells.get("other_names"):
        names = _split(cells["other_names"])
        too_long = [n for n in names if len(n) > 300]
        if too_long:
            bad("other_names", _("Each other name must be at most 300 characters."))
        else:
            main = cells.get("name", "")
            values["other_names"] = [n for n in names if n != main]
    if cells.get("languages"):
        codes = [c.lower() for c in _split(cells["languages"])]
        unknown = [c for c in codes if c not in LANGUAGE_CODES]
        if unknown:
            bad("languages", _("Unknown ISO 639-1 language code(s): %(codes)s.")
                % {"codes": ", ".join(unknown[:5])[:100]})
        else:
            values["languages"] = codes
    focus_areas = None
    if cells.get("focus_areas"):
        slugs = [s.lower() for s in _split(cells["focus_areas"])]
        unknown = [s for s in slugs if s not in focus_by_slug]
        if unknown:
            bad("focus_areas", _("Unknown focus area(s): %(slugs)s. Use the slugs listed at /api/v1/focus-areas/.")
                % {"slugs": ", ".join(unknown[:5])[:200]})
        else:
            focus_areas = sorted({focus_by_slug[s] for s in slugs})
    identifiers = []
    for text in _split(cells.get("identifiers", "")):
        try:
            scheme, value = parse_identifier(text)
            validate_identifier(scheme, value)
        except ValidationError as exc:
            messages = exc.message_dict.values() if hasattr(exc, "error_dict") else [exc.messages]
            message = " ".join(m for msgs in messages for m in msgs)
            bad("identifiers", f"{text[:80]}: {message}")
            continue
        scheme, value = scheme.strip().upper(), re.sub(r"\s+", "", value)
        if (scheme, value) not in identifiers:
            identifiers.append((scheme, value))
    if len(errors) > start:
        return None
    values.setdefault("name", cells.get("name", ""))
    parsed = ParsedRow(number, values, focus_areas, identifiers)
    parsed.candidate = Candidate(
        name=values["name"], country=values["country"], name_local=values.get("name_local", ""),
        other_names=tuple(values.get("other_names", ())), acronym=values.get("acronym", ""),
        city=values.get("city", ""), website=values.get("website", ""), identifiers=tuple(identifiers),
    )
    return parsed


def _resolve(index: OrganisationIndex, candidate: Candidate):
    """(organisation id or None, (column, error message) or None) for one row."""
    by_identifier = index.by_identifiers(candidate)
    if len(by_identifier) > 1:
        return None, ("identifiers", _("These identifiers belong to different organisations; merge them first."))
    if by_identifier:
        return by_identifier[0], None
    by_website = [o for o in index.by_website(candidate) if not index.conflicts(candidate, o)]
    by_name = [o for o in index.by_name(candidate, main_only=True) if not index.conflicts(candidate, o)]
    if len(by_website) == 1:
        return by_website[0], None
    if len(by_website) > 1:
        both = [org_id for org_id in by_website if org_id in by_name]
        if len(both) == 1:
            return both[0], None
        return None, ("website", _("The website matches %(count)s existing organisations; add an identifier "
                                   "to say which one this row is, or merge them first.") % {"count": len(by_website)})
    if len(by_name) == 1:
        return by_name[0], None
    if len(by_name) > 1:
        return None, ("name", _("The name matches %(count)s existing organisations in this country; add an "
                                "identifier or website to say which one this row is, or merge them first.")
                      % {"count": len(by_name)})
    return None, None


# --------------------------------------------------------------------------- the import


def _noop(stage, done, total):
    pass


# pg_advisory_xact_lock key of organisation imports (any constant unique to this use).
IMPORT_LOCK_KEY = 0x0D12_0001


def _serialise_imports() -> None:
    """Two imports of the same file at once must not both decide "create" for the same rows:
    the second waits here until the first has committed, then matches against its rows. The
    lock is the transaction's (released at commit or rollback). SQLite needs nothing: its
    IMMEDIATE transactions take the write lock at BEGIN."""
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [IMPORT_LOCK_KEY])


def organisation_import(
    *, actor, content: bytes, filename: str = "", dry_run: bool = False, progress: Progress | None = None
) -> ImportReport:
    """Validate the whole file, then (unless `dry_run` or any error) write it in one transaction.

    `actor` is the user importing (None: a command run without a user, which is not gated).
    Raises nothing for bad input: file-level and row errors are in `report.errors`.
    A real import holds a lock from matching to commit: imports run one at a time.
    """
    with _no_cyclic_gc():
        if dry_run:
            return _organisation_import(actor=actor, content=content, filename=filename, dry_run=True,
                                        progress=progress)
        with transaction.atomic():
            _serialise_imports()
            return _organisation_import(actor=actor, content=content, filename=filename, dry_run=False,
                                        progress=progress)


@contextmanager
def _no_cyclic_gc():
    """The cyclic garbage collector paused for the import: a large file makes millions of small
    objects (index entries, likely-duplicate pairs, model instances, history rows), none of them
    in reference cycles that matter, and every few hundred allocations the collector would
    otherwise walk them again. Reference counting still frees everything; the collector resumes
    when the import ends."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def _organisation_import(*, actor, content, filename, dry_run, progress) -> ImportReport:
    progress = progress or _noop
    report = ImportReport(dry_run=dry_run)
    try:
        _header, raw_rows, errors = read_table(content, filename)
    except ImportFileError as exc:
        report.errors = exc.errors
        return report
    report.rows = len(raw_rows)
    total = len(raw_rows)

    # Lookups, one query per table.
    focus_by_slug = dict(FocusArea.objects.values_list("slug", "id"))
    parsed: list[ParsedRow] = []
    for done, (number, raw) in enumerate(raw_rows, 1):
        row = _parse_row(number, raw, focus_by_slug, errors)
        if row is not None:
            parsed.append(row)
        if done % 500 == 0:
            progress("validate", done, total)
    progress("validate", total, total)

    index = OrganisationIndex.load([r.candidate for r in parsed])
    roles = get_roles(actor) if actor is not None else None
    gated = roles is not None and not (roles.admin or roles.can_view_restricted)

    # Match every row: an existing organisation, or new. Two rows may not be the same one.
    targets: dict[int, uuid.UUID | None] = {}
    claimed: dict[uuid.UUID, int] = {}
    new_identifiers: dict[tuple, int] = {}
    new_domains: dict[str, int] = {}
    new_names: dict[tuple, int] = {}
    for row in parsed:
        candidate = row.candidate
        target, problem = _resolve(index, candidate)
        if problem:
            errors.append(_error(row.row, *problem))
            continue
        if target is not None:
            if target in claimed:
                errors.append(_error(row.row, "name", _("Row %(row)s already describes the same organisation; "
                                                        "combine the two rows.") % {"row": claimed[target]}))
                continue
            claimed[target] = row.row
            targets[row.row] = target
            continue
        same = None
        if candidate.identifier_keys:
            same = next((new_identifiers[k] for k in candidate.identifier_keys if k in new_identifiers), None)
        elif candidate.domain:
            same = new_domains.get(candidate.domain)
        else:
            same = next((new_names[(candidate.country, k)] for k in
                         (name_key(candidate.name), name_key(candidate.name_local)) if k and (candidate.country, k) in new_names), None)
        if same is not None:
            errors.append(_error(row.row, "name", _("Row %(row)s already describes the same organisation "
                                                    "(same identifier, website or name and country); "
                                                    "combine the two rows.") % {"row": same}))
            continue
        for key in candidate.identifier_keys:
            new_identifiers[key] = row.row
        if candidate.domain:
            new_domains.setdefault(candidate.domain, row.row)
        for key in (name_key(candidate.name), name_key(candidate.name_local)):
            if key:
                new_names.setdefault((candidate.country, key), row.row)
        targets[row.row] = None
    progress("match", total, total)

    # Access: a staff importer may neither see nor change organisations outside their gate.
    hidden: set = set()
    if gated:
        hidden = set(
            Organisation.objects.exclude(pk__in=Organisation.objects.visible_to(actor).values("pk"))
            .values_list("pk", flat=True)
        )
        for row in parsed:
            if row.row not in targets:
                continue
            if targets[row.row] in hidden:
                errors.append(_error(row.row, "name", _("This row matches an organisation you may not see; "
                                                        "ask a colleague who may see restricted records.")))
            if row.values.get("visibility") == Visibility.RESTRICTED:
                errors.append(_error(row.row, "visibility", _("You may not make an organisation restricted: "
                                                              "you could not see it.")))

    matched_ids = [t for t in targets.values() if t is not None]
    existing = Organisation.objects.in_bulk(matched_ids) if matched_ids else {}
    through = Organisation.focus_areas.through
    current_areas: dict[uuid.UUID, set] = {}
    if matched_ids:
        for org_id, area_id in through.objects.filter(organisation_id__in=matched_ids).values_list(
            "organisation_id", "focusarea_id"
        ):
            current_areas.setdefault(org_id, set()).add(area_id)

    # Build the objects (in memory) and validate them as the model would.
    now = timezone.now()
    to_create: list[Organisation] = []
    to_update: list[Organisation] = []
    update_fields: set[str] = set()
    area_rows: dict[uuid.UUID, list] = {}  # organisation -> focus area ids to set (changed or new)
    new_identifier_rows: list[OrganisationIdentifier] = []
    rows_by_number = {r.row: r for r in parsed}
    for number, target in targets.items():
        row = rows_by_number[number]
        if target is None:
            org = Organisation(**row.values)
            action, changed = "create", []
        else:
            org = existing[target]
            changed = []
            for name, value in row.values.items():
                current = getattr(org, name)
                if name == "country":
                    current = current.code
                if current != value:
                    setattr(org, name, value)
                    changed.append(name)
            action = "update" if changed else "unchanged"
        if target is None or changed:
            if target is None:
                org.search_key = row.candidate.search_key  # == build_search_key of its names
            try:
                # Every imported field was validated cell by cell in _parse_row (same rules as the
                # model's fields); the model's own rules (clean) run here. full_clean would add
                # ~0.3 ms a row, a third of the time budget, to check the same things again.
                org.clean()
            except ValidationError as exc:
                for column, messages in exc.message_dict.items():
                    errors.append(_error(number, column if column in COLUMNS else "name", " ".join(messages)))
                continue
            if target is None:
                org.city_key = name_key(org.city)[:200]
            else:
                org.refresh_keys()  # the stored names and the row's, combined
        if row.focus_areas is not None and set(row.focus_areas) != current_areas.get(target, set()):
            area_rows[org.pk] = row.focus_areas
            changed.append("focus_areas")
        for scheme, value in row.identifiers:
            owner = index.identifiers.get((scheme, value))
            if owner is None:
                new_identifier_rows.append(OrganisationIdentifier(organisation_id=org.pk, scheme=scheme, value=value))
                changed.append("identifiers")
        if target is not None and changed:
            action = "update"
            org.updated_at = now
            to_update.append(org)
            update_fields.update(c for c in changed if c in FIELDS)
        elif target is None:
            to_create.append(org)
        report.results.append(RowResult(number, org.name, action, org.pk, sorted(set(changed))))

    # Likely duplicates of every row (not the organisation the row updates), constant queries.
    if report.results:
        results = report.results
        candidates = [rows_by_number[r.row].candidate for r in results]
        exclude = [{r.organisation_id} for r in results]
        found = find_duplicates_many(candidates, index=index, exclude=exclude, hidden=hidden,
                                     limit=MAX_DUPLICATES_PER_ROW)
        for result, duplicates in zip(results, found, strict=True):
            result.duplicates, result.duplicates_total = duplicates, duplicates.total
    progress("duplicates", total, total)

    errors.sort(key=lambda e: (e["row"] or 0, COLUMNS.index(e["column"]) if e["column"] in COLUMNS else 99))
    report.errors = errors
    report.created = sum(1 for r in report.results if r.action == "create")
    report.updated = sum(1 for r in report.results if r.action == "update")
    report.unchanged = sum(1 for r in report.results if r.action == "unchanged")
    if errors:
        report.results = []
        report.created = report.updated = report.unchanged = 0
        return report
    if dry_run:
        return report
    _write(actor, now, to_create, to_update, update_fields, area_rows, new_identifier_rows, progress)
    return report


def _chunks(items, size=BATCH_SIZE):
    for start in range(0, len(items), size):
        yield items[start : start + size]


@transaction.atomic
def _write(actor, now, to_create, to_update, update_fields, area_rows, new_identifiers, progress):
    user = actor if getattr(actor, "is_authenticated", False) else None
    history = {"default_user": user, "default_change_reason": CHANGE_REASON, "default_date": now}
    total = len(to_create) + len(to_update)
    done = 0
    for batch in _chunks(to_create):
        insert_with_history(batch, Organisation, user=user, reason=CHANGE_REASON, date=now)
        done += len(batch)
        progress("write", done, total)
    fields = sorted(update_fields | {"search_key", "city_key", "updated_at"})
    for batch in _chunks(to_update):
        bulk_update_with_history(batch, Organisation, fields, batch_size=BATCH_SIZE, **history)
        done += len(batch)
        progress("write", done, total)

    through = Organisation.focus_areas.through
    changed_areas = [org_id for org_id in area_rows]
    for batch in _chunks(changed_areas):
        through.objects.filter(organisation_id__in=batch).delete()
    links = [through(organisation_id=org_id, focusarea_id=area_id)
             for org_id, area_ids in area_rows.items() for area_id in area_ids]
    insert(through, links)
    insert_with_history(new_identifiers, OrganisationIdentifier, user=user, reason=CHANGE_REASON, date=now)

    # The focus areas of each new history row (simple-history snapshots m2m fields per record).
    touched = [o.pk for o in to_create] + [o.pk for o in to_update]
    if not touched:
        return
    historical = Organisation.history.model
    m2m_history = apps.get_model("directory", "HistoricalOrganisation_focus_areas")
    record_of = {}
    for batch in _chunks(touched):
        record_of.update(
            historical.objects.filter(id__in=batch, history_date=now).values_list("id", "history_id")
        )
    links_of: dict = {}
    if any(link.pk is None for link in links):
        links = list(through.objects.filter(organisation_id__in=list(area_rows)))
    for link in links:
        links_of.setdefault(link.organisation_id, []).append(link)
    unchanged_area_orgs = [pk for pk in touched if pk not in area_rows]
    for batch in _chunks(unchanged_area_orgs):
        for link in through.objects.filter(organisation_id__in=batch):
            links_of.setdefault(link.organisation_id, []).append(link)
    insert(m2m_history, [
        m2m_history(history_id=record_of[org_id], id=link.pk, organisation_id=org_id, focusarea_id=link.focusarea_id)
        for org_id, org_links in links_of.items() if org_id in record_of
        for link in org_links
    ])

