"""The contact-history API CSV (`/api/v1/interactions/?format=csv` and the timelines) without a
serializer call per row: the web export's machinery (directory.services.exports.
interaction_chunks: plain values, each chunk's links in one query per relation) with the API's
columns and formats. tests/api/test_interaction_csv_fast.py compares it, byte for byte, with
`stream_csv` over `InteractionSerializer.to_representation`, for every staff role.

Records the user may not read (`readable` false) keep their metadata only, as the serializer
does: content cells are empty and their links are never looked up.
"""

from directory.services.exports import escape_cell, interaction_chunks

from .organisation_csv import datetime_renderer
from .serializers import detail_url_parts

# InteractionSerializer's fields, in order; another list (a changed serializer) takes the
# serializer path (`fast_columns`).
COLUMNS = (
    "id", "url", "occurred_on", "kind", "subject", "notes", "organisations", "people",
    "staff_participants", "focus_areas", "team", "author", "sensitivity", "follow_up_due",
    "follow_up_assignee", "follow_up_done", "created_at", "updated_at",
)
VALUES = ("pk", "occurred_on", "kind", "team_id", "author__username", "sensitivity", "created_at", "updated_at",
          "readable", "subject", "notes", "follow_up_due", "follow_up_assignee__username", "follow_up_done")


def fast_columns(columns) -> bool:
    return tuple(columns) == COLUMNS


def batches(queryset, serializer, *, user):
    """Lists of rows (tuples of ready cells), one per chunk, as `stream_csv(queryset, serializer,
    COLUMNS)` writes them. Ids, dates and choices never start like a formula; free text is
    escaped (renderers.cell)."""
    fields = serializer.fields
    head, tail = detail_url_parts(serializer.context.get("request"), fields["url"].view_name)
    created_text = datetime_renderer(fields["created_at"])
    updated_text = datetime_renderer(fields["updated_at"])
    for chunk, links in interaction_chunks(queryset, user, VALUES, link_ids=True):
        organisations, people = links["organisations"], links["people"]
        participants, areas = links["staff_participants"], links["focus_areas"]
        batch = []
        append = batch.append
        for (pk, occurred_on, kind, team, author, sensitivity, created, updated, readable,
             subject, notes, due, assignee, done) in chunk:
            text = str(pk)
            if readable:
                append((
                    text, head + text + tail, occurred_on.isoformat(), kind, escape_cell(subject),
                    escape_cell(notes), organisations.get(pk, ""), people.get(pk, ""),
                    escape_cell(participants.get(pk, "")), escape_cell(areas.get(pk, "")), str(team),
                    escape_cell(author), sensitivity, due.isoformat() if due else "", escape_cell(assignee),
                    "true" if done else "false" if done is not None else "",
                    created_text(created), updated_text(updated),
                ))
            else:
                append((text, head + text + tail, occurred_on.isoformat(), kind, "", "", "", "", "", "", str(team),
                        escape_cell(author), sensitivity, "", "", "", created_text(created), updated_text(updated)))
        yield batch
