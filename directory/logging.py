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
