"""Logging filters: logs never carry personal data, so query strings (search terms, names,
emails typed into filters) are cut from every logged request line."""

import logging
import re

_QUERY = re.compile(r"\?[^\s\"']*")


class StripQueryStrings(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if record.args:
            args = record.args if isinstance(record.args, tuple) else (record.args,)
            record.args = tuple(_QUERY.sub("?…", a) if isinstance(a, str) else a for a in args)
        if isinstance(record.msg, str):
            record.msg = _QUERY.sub("?…", record.msg)
        return True


_REQUEST_LINE = re.compile(r"^(?P<method>[A-Z]+) (?P<target>\S+)(?P<rest> HTTP/\S+)$")


def safe_path(path: str) -> str:
    """A path fit for logs: kept when it matches a URL pattern whose arguments are ids (UUIDs,
    numbers); the pattern itself (`/interactions/pick/<str:kind>/`) when an argument is free
    text; `[unmatched path]` when nothing matches (a name typed into a URL, say)."""
    import uuid

    from django.urls import Resolver404, resolve

    path = path.split("?", 1)[0]
    try:
        match = resolve(path)
    except (Resolver404, ValueError):
        return "[unmatched path]"
    values = list(match.args) + list(match.kwargs.values())
    if all(isinstance(v, uuid.UUID | int) for v in values):
        return path
    return "/" + match.route


class RedactPaths(logging.Filter):
    """Request paths can carry personal data (`/organisations/<a name>/` answers 404 and Django
    logs "Not Found: <path>"): replace them with `safe_path`. Attach it to the loggers that log
    paths (django.request, django.security.csrf, django.server) so the records themselves are
    clean for every handler, and to the handlers for records that propagate."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not record.args:
            return True
        args = record.args if isinstance(record.args, tuple) else (record.args,)
        request = getattr(record, "request", None)
        path = getattr(request, "path", None) if not isinstance(request, bytes | str) else None
        cleaned = []
        for arg in args:
            if isinstance(arg, str) and path and arg in (path, path.encode("unicode_escape").decode("ascii")):
                arg = safe_path(path)
            elif isinstance(arg, str) and record.name == "django.server":
                line = _REQUEST_LINE.match(arg)
                if line:
                    target = line["target"]
                    query = "?…" if "?" in target else ""
                    arg = f"{line['method']} {safe_path(target)}{query}{line['rest']}"
            cleaned.append(arg)
        record.args = tuple(cleaned)
        return True
