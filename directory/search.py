"""Script-, case-, accent- and transliteration-insensitive search keys.

Organisation names in Central Asia are written in Cyrillic (Russian, Kazakh,
Kyrgyz, Tajik, Uzbek, Turkmen), in the Latin alphabets of Uzbek, Turkmen and
Kazakh, and in several competing romanisations of all of these.  This module
folds every spelling of a name to one plain ASCII *search key* so that

    build_search_key("Бир Дуйно")  ==  build_search_key("Bir Duino")

and so that each normalised query word can be looked up in the stored key with a
plain substring test (``search_key LIKE '%word%'`` in the database, ``matches()``
in Python).  Query and stored names go through exactly the same function.

Pipeline of ``normalise()``:

1. drop apostrophe-like characters (ʻ ʼ ’ ‘ ' ` ´ ...), so ``Oʻzbekiston`` ==
   ``Ozbekiston`` and ``Sem'ya`` == ``Semya``;
2. Unicode NFKC (fullwidth forms, ligatures, decomposed input) and casefold;
3. map letters that accent stripping would get wrong: Turkic Latin (ş→sh,
   ç→ch, ž→zh, ğ→gh, ı→i, ...) and all Cyrillic letters, including the Kazakh,
   Kyrgyz, Tajik, Uzbek and Turkmen ones, to a Latin transliteration;
4. NFKD, drop combining marks, lowercase; everything that is not ``a-z0-9`` is
   a word separator (punctuation, emoji, NUL, other scripts);
5. per word, fold the usual transliteration variants (see ``_canon_word``):
   dzh/dj/zh→j, shch→sh, gh→g, kh/x/q/h→k, ph→f, yo/ye→e, y→i, w→v, ts→c,
   a/o/u→u, then collapse repeated letters.

The vowels a, o and u fall into one class because Uzbek Latin writes ``o`` where
Russian writes ``a`` (Toshkent/Ташкент) and ``oʻ``/``ў`` where Russian writes
``у`` (Xoʻjand/Хужанд), while the apostrophe is often omitted (Ozbekiston).

Standard library only; no Django import.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from functools import lru_cache

__all__ = ["normalise", "search_words", "build_search_key", "matches"]

# Characters used as apostrophes (Uzbek oʻ/gʻ, Kyrgyz/Russian soft-sign
# transliterations, typewriter substitutes).  They are removed, not turned into
# separators.  Removed *before* NFKC, because NFKC turns ´ into " \u0301".
_APOSTROPHES = (
    "'"  # ASCII apostrophe
    "`"  # grave accent
    "\u00b4"  # ´ acute accent
    "\u02b9"  # ʹ modifier letter prime (scholarly ь)
    "\u02ba"  # ʺ modifier letter double prime (scholarly ъ)
    "\u02bb"  # ʻ modifier letter turned comma (Uzbek oʻ, gʻ)
    "\u02bc"  # ʼ modifier letter apostrophe
    "\u02bd"  # ʽ modifier letter reversed comma
    "\u02c8"  # ˈ modifier letter vertical line
    "\u2018"  # ‘
    "\u2019"  # ’
    "\u201b"  # ‛
    "\u2032"  # ′ prime
    "\u2033"  # ″ double prime
    "\uff07"  # ＇ fullwidth apostrophe
    "\uff40"  # ｀ fullwidth grave
)
_APOSTROPHE_TABLE = {ord(ch): None for ch in _APOSTROPHES}

# Letters mapped before accents are stripped (NFKD would turn ş into plain s,
# and Cyrillic has no decomposition to Latin at all).  Lowercase only: the text
# is casefolded first.
_LETTER_MAP = {
    # Turkic / other Latin letters whose accent-stripped form would be wrong
    "ş": "sh",  # Turkmen, Kazakh Latin, Turkish
    "ș": "sh",  # comma-below variant
    "š": "sh",  # ISO 9 / scholarly
    "ç": "ch",
    "č": "ch",
    "ž": "zh",  # Turkmen ж
    "ğ": "gh",  # Kazakh Latin ғ
    "ǵ": "gh",  # Kazakh Latin 2018 ғ
    "ı": "i",  # dotless i (Kazakh Latin ы)
    "ñ": "n",  # Kazakh Latin ң
    "ň": "n",  # Turkmen ң
    "ŋ": "n",
    "ý": "y",  # Turkmen й
    "ə": "a",  # schwa (ә in some Latin orthographies)
    "ǝ": "a",
    "ł": "l",
    "đ": "d",
    "ø": "o",
    "æ": "ae",
    "œ": "oe",
    "þ": "th",
    # Russian Cyrillic
    "а": "a",
    "б": "b",
    "в": "v",
    "г": "g",
    "д": "d",  # д + ж = "dzh", folded to j later
    "е": "e",
    "ё": "yo",
    "ж": "zh",
    "з": "z",
    "и": "i",
    "й": "y",
    "к": "k",
    "л": "l",
    "м": "m",
    "н": "n",
    "о": "o",
    "п": "p",
    "р": "r",
    "с": "s",
    "т": "t",
    "у": "u",
    "ф": "f",
    "х": "kh",
    "ц": "ts",
    "ч": "ch",
    "ш": "sh",
    "щ": "shch",
    "ъ": "",
    "ы": "y",
    "ь": "",
    "э": "e",
    "ю": "yu",
    "я": "ya",
    # Kazakh, Kyrgyz, Tajik, Uzbek, Turkmen Cyrillic
    "ә": "a",  # Kazakh, Turkmen
    "ғ": "gh",  # Kazakh, Tajik, Uzbek
    "қ": "q",  # Kazakh, Tajik, Uzbek
    "ң": "n",  # Kazakh, Kyrgyz, Turkmen
    "ө": "o",  # Kazakh, Kyrgyz, Turkmen
    "ұ": "u",  # Kazakh
    "ү": "u",  # Kazakh, Kyrgyz, Turkmen
    "һ": "h",  # Kazakh
    "і": "i",  # Kazakh (and Ukrainian/Belarusian)
    "ҳ": "h",  # Tajik, Uzbek (Latin h; keeps Uzbek Is'hoq == Исҳоқ)
    "ҷ": "j",  # Tajik
    "җ": "j",  # Turkmen
    "ӣ": "i",  # Tajik
    "ӯ": "u",  # Tajik
    "ў": "o",  # Uzbek (oʻ); Belarusian short u
    # Ukrainian / Belarusian extras that show up in names
    "є": "ye",
    "ї": "yi",
    "ґ": "g",
}
_LETTER_TABLE = {ord(k): v for k, v in _LETTER_MAP.items()}

_NON_ALNUM = re.compile(r"[^a-z0-9]+")
# Placeholders protecting "sh" and "ch" from the h→k rule.  They cannot occur in
# a word, which consists of a-z0-9 only when _canon_word() sees it.
_SH = "\x01"
_CH = "\x02"
_REPEATS = re.compile(r"([a-z\x01\x02])\1+")

# Ordered rewrite rules applied to one ASCII word.  Order matters.
_RULES: tuple[tuple[str, str], ...] = (
    # affricates and sibilants
    ("shch", "sh"),  # щ: Obshchestvenny == Obshestvenny
    ("dzh", "j"),  # Dzhalal == Jalal
    ("zh", "j"),  # Zhalal == Jalal, Ak Zhol == Aq Jol
    ("dj", "j"),  # Djalal == Jalal
    ("sh", _SH),  # protect sh / ch from the h rule
    ("ch", _CH),
    # velars / h
    ("gh", "g"),  # Ghalym == Galym
    ("kh", "k"),  # Kazakhstan == Qazaqstan
    ("ph", "f"),
    ("x", "k"),  # Uzbek Latin x == kh (Xorog == Khorog)
    ("q", "k"),
    ("h", "k"),  # Hujand == Khujand, Huquq == Ҳуқуқ
    # iotated vowels
    ("yo", "e"),  # Yolka == Ёлка == Елка
    ("ye", "e"),  # Yevgeniy == Евгений
    ("y", "i"),  # Mariya == Maria, Yunost == Iunost, Kylym == Кылым
    ("w", "v"),
    ("ts", "c"),  # Tsentr == Центр == Centr
    # Uzbek o/oʻ against Russian a/u
    ("o", "u"),
    ("a", "u"),
)


def _canon_word(word: str) -> str:
    """Fold one word of ``[a-z0-9]`` to its canonical spelling."""
    word = _REPEATS.sub(r"\1", word)  # "ddzh" must become "dzh" before the rules
    for old, new in _RULES:
        if old in word:
            word = word.replace(old, new)
    word = word.replace(_SH, "sh").replace(_CH, "ch")
    return _REPEATS.sub(r"\1", word)


@lru_cache(maxsize=65536)  # names share most words: bulk imports fold each distinct word once
def _canon(word: str) -> str:
    # A second pass only changes anything in pathological inputs; iterating to a
    # fixed point guarantees normalise(normalise(x)) == normalise(x).
    for _ in range(10):
        folded = _canon_word(word)
        if folded == word:
            break
        word = folded
    return word


def _to_ascii_words(text: str) -> list[str]:
    """Steps 1-4 of the pipeline: raw ASCII words, not yet canonicalised."""
    if text.isascii():  # the same result without the Unicode steps (NFKC keeps ASCII as is)
        return [w for w in _NON_ALNUM.split(text.translate(_APOSTROPHE_TABLE).lower()) if w]
    text = text.translate(_APOSTROPHE_TABLE)
    text = unicodedata.normalize("NFKC", text).casefold()
    text = text.translate(_LETTER_TABLE)
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).lower()
    return [w for w in _NON_ALNUM.split(text) if w]


def normalise(text: str) -> str:
    """Script-, case-, accent- and transliteration-insensitive search key of a text.

    Returns lowercase ASCII words separated by single spaces (no leading/trailing
    space).  ``None`` and the empty string give ``""``.
    """
    if not text:
        return ""
    if not isinstance(text, str):
        text = str(text)
    words = (_canon(w) for w in _to_ascii_words(text))
    return " ".join(w for w in words if w)


def search_words(query: str) -> list[str]:
    """The normalised words of a user query (deduplicated, order kept, empty words dropped)."""
    return list(dict.fromkeys(normalise(query).split()))


def _flatten(texts: Iterable) -> Iterable:
    for text in texts:
        if isinstance(text, (list, tuple)):
            yield from _flatten(text)
        else:
            yield text


def build_search_key(*texts) -> str:
    """One key for several names.

    Each non-empty text is normalised and the results are joined with a single
    space.  ``None`` and ``""`` are skipped; a text may also be a list or tuple
    of strings (flattened, nested lists too).
    """
    parts = []
    for text in _flatten(texts):
        if text is None or text == "":
            continue
        key = normalise(text)
        if key:
            parts.append(key)
    return " ".join(parts)


def matches(query: str, key: str) -> bool:
    """True when every word of ``search_words(query)`` is a substring of ``key``.

    This is the rule the database applies with ``search_key LIKE '%word%'`` for
    each word.  An empty query matches everything.
    """
    key = key or ""
    return all(word in key for word in search_words(query))
