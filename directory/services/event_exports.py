"""Invitation lists as CSV (mail-merge ready) and XLSX, and an event as iCalendar (.ics).

Callers pass a queryset from selectors.invitation_list (the access gate) and log the export
in the access log. Cells a spreadsheet would run as a formula get a leading '.
"""

import csv
import io
from datetime import UTC, timedelta

from django.utils import timezone

from .exports import escape

CHUNK_SIZE = 2000
COLUMNS = (
    "name",
    "organisation",
    "email",
    "language",
    "status",
    "country",
    "gender",
    "added_at",
    "notes",
)


def invitation_row(invitation) -> list[str]:
    person, org = invitation.person, invitation.organisation
    values = {
        "name": person.name,
        "organisation": org.name,
        "email": person.email,
        # The first working language: what a mail merge picks the letter's language by.
        "language": (person.languages or [""])[0],
        "status": invitation.status,
        "country": org.country.code if org.country else "",
        "gender": person.gender,
        "added_at": invitation.added_at.isoformat(timespec="seconds"),
        "notes": invitation.notes,
    }
    return [escape(values[column]) for column in COLUMNS]


class _Echo:
    def write(self, value):
        return value


def iter_csv(queryset, *, bom: bool = True):
    writer = csv.writer(_Echo(), lineterminator="\r\n")
    yield ("\ufeff" if bom else "") + writer.writerow(COLUMNS)
    for invitation in queryset.iterator(chunk_size=CHUNK_SIZE):
        yield writer.writerow(invitation_row(invitation))


def write_xlsx(queryset) -> bytes:
    from openpyxl import Workbook
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("invitations")
    sheet.append(list(COLUMNS))
    for invitation in queryset.iterator(chunk_size=CHUNK_SIZE):
        sheet.append([ILLEGAL_CHARACTERS_RE.sub("", cell) for cell in invitation_row(invitation)])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _ics_text(value: str) -> str:
    return (
        value.replace("\\", "\\\\")
        .replace(";", "\\;")
        .replace(",", "\\,")
        .replace("\r\n", "\\n")
        .replace("\n", "\\n")
    )


def _fold(line: str) -> list[str]:
    """RFC 5545: lines of at most 75 octets, continued with a leading space."""
    out, current = [], ""
    for char in line:
        if len((current + char).encode("utf-8")) > 75:
            out.append(current)
            current = " " + char
        else:
            current += char
    out.append(current)
    return out


def event_ics(event, *, host: str = "directory") -> str:
    """An all-day VEVENT (DTEND is exclusive: the day after the last day)."""
    location = ", ".join(
        part
        for part in (event.venue, event.city, event.country.name if event.country else "")
        if part
    )
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//Central Asia Civil Society Directory//Events//EN",
        "CALSCALE:GREGORIAN",
        "BEGIN:VEVENT",
        f"UID:{event.pk}@{host}",
        f"DTSTAMP:{timezone.now().astimezone(UTC):%Y%m%dT%H%M%SZ}",
        f"DTSTART;VALUE=DATE:{event.starts_on:%Y%m%d}",
        f"DTEND;VALUE=DATE:{event.ends_on + timedelta(days=1):%Y%m%d}",
        f"SUMMARY:{_ics_text(event.name)}",
    ]
    if location:
        lines.append(f"LOCATION:{_ics_text(location)}")
    if event.description:
        lines.append(f"DESCRIPTION:{_ics_text(event.description)}")
    lines += ["END:VEVENT", "END:VCALENDAR"]
    return "".join(f"{folded}\r\n" for line in lines for folded in _fold(line))
