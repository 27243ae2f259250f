"""Translation catalogues: compile .po to .mo with Babel (no GNU gettext needed), and
read a catalogue for the completeness test."""

from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from django.conf import settings


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
    with open(mo, "wb") as fh:
        write_mo(fh, catalog, use_fuzzy=False)
    return mo


def compile_all() -> list[Path]:
    return [compile_catalogue(p) for p in catalogue_paths()]
