"""Translation catalogues without GNU gettext: compile .po to .mo with Babel, and list the
messages the sources mark (Django's templatize + Babel's extractor: the same messages
makemessages finds) to check a catalogue is complete."""

import io
import os
from pathlib import Path

from babel.messages.extract import extract
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from django.conf import settings
from django.utils.translation.template import templatize

ROOT = Path(settings.BASE_DIR)
TEMPLATE_DIRS = [ROOT / "templates", ROOT / "directory" / "templates", ROOT / "api" / "templates"]
PYTHON_DIRS = [ROOT / "directory", ROOT / "api"]
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
    """Page templates and the plain-text email templates (makemessages reads both)."""
    return sorted(
        p
        for d in TEMPLATE_DIRS
        if d.is_dir()
        for ext in ("html", "txt")
        for p in d.rglob(f"*.{ext}")
    )


def catalogue_paths() -> list[Path]:
    return sorted(
        p for root in settings.LOCALE_PATHS for p in Path(root).glob("*/LC_MESSAGES/*.po")
    )


def read_catalogue(path: Path):
    with open(path, "rb") as fh:
        return read_po(fh, locale=path.parent.parent.name)


def compile_catalogue(path: Path) -> Path:
    """Write the .mo next to the .po; fuzzy entries are left out, as msgfmt does."""
    catalog = read_catalogue(path)
    mo = path.with_suffix(".mo")
    # Write aside, then rename: two test runs side by side (CI) never read a half-written file.
    partial = mo.with_name(f"{mo.name}.{os.getpid()}.tmp")
    with open(partial, "wb") as fh:
        write_mo(fh, catalog, use_fuzzy=False)
    os.replace(partial, mo)
    return mo


def compile_all() -> list[Path]:
    return [compile_catalogue(p) for p in catalogue_paths()]


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


def problems(path: Path) -> list[str]:
    """What keeps a catalogue from being complete: marked messages it lacks, and entries
    that are untranslated (any plural form) or fuzzy."""
    catalogue = read_catalogue(path)
    found = []
    for key, where in sorted(marked_messages().items(), key=lambda kv: (kv[1], str(kv[0]))):
        msgid, context = key if isinstance(key, tuple) else (key, None)
        if catalogue.get(msgid, context=context) is None:
            found.append(
                f"missing ({where}): {msgid!r}" + (f" [context {context!r}]" if context else "")
            )
    for message in catalogue:
        if not message.id:
            continue
        msgid = message.id[0] if isinstance(message.id, tuple) else message.id
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if not all(strings):
            found.append(f"untranslated: {msgid!r}")
        if message.fuzzy:
            found.append(f"fuzzy: {msgid!r}")
    return found
