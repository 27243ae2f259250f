"""Helper of tests/test_i18n.py: find template text outside translation tags."""

import re
from html.parser import HTMLParser

from django.template.base import Lexer, TokenType

from directory.i18n import marked_messages, template_files  # noqa: F401 - used by the tests

# Stands for a value a tag or variable puts there (translated, or data): not a letter.
HOLE = "\ue000"
LETTER = re.compile(r"[^\W\d_]")
# Attributes whose text is read out or shown to the user.
TEXT_ATTRS = {"alt", "title", "placeholder", "aria-label", "aria-description", "label"}


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
        # Scripts, styles and code (parameter and column names) are not prose.
        if tag in ("script", "style", "code"):
            self._raw += 1
        # A button-like input shows its value; a <button>'s value is only posted.
        button_like = tag == "input" and dict(attrs).get("type") in ("submit", "button", "reset")
        shown = TEXT_ATTRS | ({"value"} if button_like else set())
        for name, value in attrs:
            if name in shown and value and LETTER.search(value):
                self.found.append(f'{tag} {name}="{value.replace(HOLE, "…")}"')

    def handle_endtag(self, tag):
        if tag in ("script", "style", "code") and self._raw:
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
