"""Helpers of tests/test_i18n.py: find template text outside translation tags, and list the
messages the sources mark for translation (the same extraction makemessages does, via Babel,
so the test needs no GNU gettext)."""

import io
import re
from html.parser import HTMLParser
from pathlib import Path

from babel.messages.extract import extract
from django.template.base import Lexer, TokenType
from django.utils.translation.template import templatize

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE_DIRS = [ROOT / "templates", ROOT / "directory" / "templates", ROOT / "api" / "templates"]
PYTHON_DIRS = [ROOT / "directory", ROOT / "api"]
# Stands for a value a tag or variable puts there (translated, or data): not a letter.
HOLE = "\ue000"
LETTER = re.compile(r"[^\W\d_]")
# Attributes whose text is read out or shown to the user.
TEXT_ATTRS = {"alt", "title", "placeholder", "aria-label", "aria-description", "label"}
KEYWORDS = {
    "_": None,
    "gettext": None,
    "gettext_lazy": None,
    "gettext_noop": None,
    "ngettext": (1, 2),
    "ngettext_lazy": (1, 2),
    "pgettext": ((1, "c"), 2),
    "pgettext_lazy": ((1, "c"), 2),
    "npgettext": ((1, "c"), 2, 3),
    "npgettext_lazy": ((1, "c"), 2, 3),
}


def template_files() -> list[Path]:
    return sorted(p for d in TEMPLATE_DIRS if d.is_dir() for p in d.rglob("*.html"))


def _flatten(source: str) -> str:
    """The template with every tag and variable replaced by HOLE, and the inside of
    blocktranslate and comment blocks dropped: what is left was typed as plain text."""
    out, skip = [], None
    for token in Lexer(source).tokenize():
        if token.token_type == TokenType.BLOCK:
            name = token.contents.split()[0] if token.contents else ""
            if skip:
                if name == skip:
                    skip = None
                continue
            if name in ("blocktranslate", "blocktrans"):
                skip = "end" + name
            elif name == "comment":
                skip = "endcomment"
            out.append(HOLE)
        elif token.token_type == TokenType.TEXT:
            if not skip:
                out.append(token.contents)
        elif not skip:
            out.append(HOLE)
    return "".join(out)


class _TextFinder(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self._raw = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self._raw += 1
        for name, value in attrs:
            if name in TEXT_ATTRS and value and LETTER.search(value):
                self.found.append(f'{tag} {name}="{value.replace(HOLE, "…")}"')

    def handle_endtag(self, tag):
        if tag in ("script", "style") and self._raw:
            self._raw -= 1

    def handle_data(self, data):
        if not self._raw and LETTER.search(data):
            self.found.append(" ".join(data.replace(HOLE, " ").split()))


def untranslated_text(source: str) -> list[str]:
    """Visible text and text attributes a template shows without a translation tag."""
    finder = _TextFinder()
    flat = re.sub(r"<!--.*?-->", "", _flatten(source), flags=re.S)
    flat = re.sub(r"<!doctype[^>]*>", "", flat, flags=re.I)
    finder.feed(flat)
    finder.close()
    return finder.found


def _extract(fileobj) -> set:
    """Catalogue keys as Babel makes them: the msgid, or (msgid, context)."""
    keys = set()
    for _lineno, message, _comments, context in extract("python", fileobj, KEYWORDS):
        msgid = message[0] if isinstance(message, tuple) else message
        keys.add((msgid, context) if context else msgid)
    return keys


def marked_messages() -> dict:
    """Every message the templates and Python sources mark, keyed like a Babel catalogue,
    with the file it was found in."""
    found: dict = {}
    for path in template_files():
        text = templatize(path.read_text(encoding="utf-8"), origin=str(path))
        for key in _extract(io.BytesIO(text.encode("utf-8"))):
            found.setdefault(key, str(path.relative_to(ROOT)))
    for base in PYTHON_DIRS:
        for path in sorted(base.rglob("*.py")):
            if "migrations" in path.parts:
                continue
            with open(path, "rb") as fh:
                for key in _extract(fh):
                    found.setdefault(key, str(path.relative_to(ROOT)))
    return found
