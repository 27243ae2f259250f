"""Registration and tax identifiers of organisations, validated per scheme."""

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

# scheme -> (regex for the value, human description of the format)
KNOWN_SCHEMES: dict[str, tuple[str, str]] = {
    "KZ-BIN": (r"\d{12}", _("12 digits (Kazakhstan business identification number)")),
    "KG-ID": (r"[0-9A-Za-z][0-9A-Za-z/-]{0,29}", _("registration number: digits, letters, '-' or '/' (up to 30)")),
    "KG-TIN": (r"\d{14}", _("14 digits (Kyrgyz taxpayer number, INN)")),
    "KG-OKPO": (r"\d{8}", _("8 digits (Kyrgyz OKPO code)")),
    "TJ-TIN": (r"\d{9}", _("9 digits (Tajik taxpayer number, INN)")),
    "UZ-TIN": (r"\d{9}", _("9 digits (Uzbek taxpayer number, STIR)")),
    "UZ-KTUT": (r"\d{8}", _("8 digits (Uzbek KTUT/OKPO code)")),
    "TM-TIN": (r"\d{9,12}", _("9 to 12 digits (Turkmen taxpayer number)")),
}
FREE_SCHEME_RE = re.compile(r"[A-Z]{2}-[A-Z0-9]{2,20}")
FREE_VALUE_RE = re.compile(r"[0-9A-Za-z][0-9A-Za-z./-]{0,63}")


def normalise_scheme(scheme: str) -> str:
    return (scheme or "").strip().upper()


def normalise_value(value: str) -> str:
    # Spaces are common when numbers are copied from certificates; they carry no meaning.
    return re.sub(r"\s+", "", value or "")


def validate_identifier(scheme: str, value: str) -> None:
    """Raise ValidationError (keyed by field) when the value does not fit the scheme."""
    scheme = normalise_scheme(scheme)
    value = normalise_value(value)
    if scheme in KNOWN_SCHEMES:
        pattern, description = KNOWN_SCHEMES[scheme]
        if not re.fullmatch(pattern, value):
            raise ValidationError(
                {"value": _("%(scheme)s must be %(format)s; got %(value)r.")
                 % {"scheme": scheme, "format": description, "value": value[:40]}}
            )
        return
    if not FREE_SCHEME_RE.fullmatch(scheme):
        raise ValidationError(
            {"scheme": _("Unknown scheme %(scheme)r: use a known scheme (%(known)s) or a "
                         "country code and a name such as 'KZ-REG'.")
             % {"scheme": scheme[:30], "known": ", ".join(KNOWN_SCHEMES)}}
        )
    if not FREE_VALUE_RE.fullmatch(value):
        raise ValidationError(
            {"value": _("Identifier values are 1 to 64 letters, digits, '.', '-' or '/'.")}
        )


def parse_identifier(text: str) -> tuple[str, str]:
    """Split 'KZ-BIN-950440001673' into ('KZ-BIN', '950440001673').

    Known schemes are matched first so a value may itself contain hyphens (KG-ID).
    """
    text = (text or "").strip()
    upper = text.upper()
    for scheme in sorted(KNOWN_SCHEMES, key=len, reverse=True):
        if upper.startswith(scheme + "-") and text[len(scheme) + 1 :]:
            return scheme, text[len(scheme) + 1 :]
    parts = text.split("-", 2)
    if len(parts) != 3 or not all(parts):
        raise ValidationError(_("Write identifiers as SCHEME-VALUE, e.g. KZ-BIN-950440001673."))
    return normalise_scheme(f"{parts[0]}-{parts[1]}"), parts[2]
