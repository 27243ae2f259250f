"""Export organisations with the import columns, so an export re-imports unchanged.

CSV streams (one row at a time over `.iterator(chunk_size=2000)`); XLSX uses openpyxl's
write-only mode. Cells a spreadsheet would run as a formula get a leading ' (the importer takes
it off again). Callers pass a queryset that started from `Organisation.objects.visible_to(user)`.
"""

import csv
import io

from .imports import COLUMNS, FORMULA_PREFIXES, LIST_SEPARATOR

CHUNK_SIZE = 2000


def escape(text: str) -> str:
    return "'" + text if text and text.startswith(FORMULA_PREFIXES) else text


def csv_chunks(columns, rows, *, chunk: int = CHUNK_SIZE, bom: bool = False):
    """The header and `rows` (lists of ready cells) as CSV text, one string per `chunk` rows
    (streaming one string per row costs more than writing the rows)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    if bom:
        buffer.write("\ufeff")
    writer.writerow(columns)
    count = 0
    for row in rows:
        writer.writerow(row)
        count += 1
        if count == chunk:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
            count = 0
    yield buffer.getvalue()


def export_row(org, *, internal: bool = True) -> list[str]:
    """The import columns of one organisation (focus areas and identifiers prefetched)."""
    values = {
        "name": org.name,
        "name_local": org.name_local,
        "other_names": LIST_SEPARATOR.join(org.other_names or []),
        "acronym": org.acronym,
        "type": org.type,
        "country": org.country.code if org.country else "",
        "city": org.city,
        "website": org.website,
        "email": org.email,
        "phone": org.phone,
        "description": org.description,
        "focus_areas": LIST_SEPARATOR.join(sorted(fa.slug for fa in org.focus_areas.all())),
        "languages": LIST_SEPARATOR.join(org.languages or []),
        "founded_year": str(org.founded_year) if org.founded_year else "",
        "identifiers": LIST_SEPARATOR.join(sorted(f"{i.scheme}-{i.value}" for i in org.identifiers.all())),
        # Visibility is an internal field: others get the column empty (empty cells keep values).
        "visibility": org.visibility if internal else "",
    }
    return [escape(values[column]) for column in COLUMNS]


class _Echo:
    def write(self, value):
        return value


def iter_csv(queryset, *, internal: bool = True, bom: bool = True):
    """CSV lines (str), header first; a UTF-8 BOM so Excel opens Cyrillic correctly."""
    writer = csv.writer(_Echo(), lineterminator="\r\n")
    yield ("\ufeff" if bom else "") + writer.writerow(COLUMNS)
    for org in queryset.iterator(chunk_size=CHUNK_SIZE):
        yield writer.writerow(export_row(org, internal=internal))


def write_xlsx(queryset, *, internal: bool = True) -> bytes:
    from openpyxl import Workbook
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("organisations")
    sheet.append(list(COLUMNS))
    for org in queryset.iterator(chunk_size=CHUNK_SIZE):
        sheet.append([ILLEGAL_CHARACTERS_RE.sub("", cell) for cell in export_row(org, internal=internal)])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
