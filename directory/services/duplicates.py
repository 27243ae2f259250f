"""Likely duplicates: existing organisations that are probably the same as a candidate.

Reasons and scores (highest wins when several apply to one organisation):

- ``identifier``: an identifier (scheme + value) is the same            → 1.0
- ``website``: the website domain is the same (``www.`` ignored; shared
  hosts such as facebook.com or t.me never count)                         → 0.9
- ``name``: a normalised name (name, local name or other name, see
  ``directory.search.normalise``) is the same, in the same country       → 0.85
- ``similar_name``: the search keys are similar (pg_trgm ``similarity``
  ≥ 0.5), in the same country                                              → the similarity

The similarity is pg_trgm's (``similarity()``: shared trigrams / all trigrams of the two
keys). For one candidate on PostgreSQL it is computed in the database (``TrigramSimilarity``);
for a batch (imports) and on SQLite the same formula runs in Python over the preloaded
organisations (``OrganisationIndex.similar``, exact, with prefix filtering on rare trigrams), so
both databases give the same result. (A single ``unnest`` + ``%`` query for a 10,000-row batch
took minutes on PostgreSQL: the trigram index is probed per row with common trigrams.)

``OrganisationIndex.load`` preloads what matching needs in a constant number of queries
(identifiers, organisations of the candidates' countries and with websites), so an import of
any size costs the same few queries. The import service uses the same index to match rows.
"""

from __future__ import annotations

import math
import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from urllib.parse import urlsplit

from django.db import connection
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from ..identifiers import normalise_scheme, normalise_value
from ..models import Organisation, OrganisationIdentifier
from ..search import normalise

SCORE_IDENTIFIER = 1.0
SCORE_WEBSITE = 0.9
SCORE_NAME = 0.85
SIMILARITY_THRESHOLD = 0.5
# When only the best few duplicates of a row are listed and many reach the threshold, those at
# this similarity are scored first (if there are enough of them). One level: each costs a pass
# over the country's bitsets, which costs more than scoring a few dozen organisations.
LEVELS = (0.7,)
# An import lists at most this many likely duplicates per row (the best; the total is given).
MAX_DUPLICATES_PER_ROW = 10
REASONS = {
    "identifier": _("Same identifier"),
    "website": _("Same website domain"),
    "name": _("Same name in the same country"),
    "similar_name": _("Similar name in the same country"),
}
# Hosts shared by many organisations: the same domain there says nothing.
SHARED_HOSTS = frozenset(
    {
        "facebook.com", "m.facebook.com", "fb.com", "instagram.com", "t.me", "telegram.me",
        "vk.com", "ok.ru", "linkedin.com", "twitter.com", "x.com", "youtube.com",
        "sites.google.com", "google.com", "wordpress.com", "blogspot.com", "wix.com",
        "wixsite.com", "tilda.ws", "ucoz.ru", "narod.ru", "github.io", "tiktok.com",
    }
)


@lru_cache(maxsize=200_000)
def name_key(text: str) -> str:
    """The normalised key of one name (cached: imports compare the same names many times)."""
    return normalise(text)


def website_domain(url: str) -> str:
    """`https://www.Example.org/about` → `example.org`; '' for no URL or a shared host."""
    url = (url or "").strip()
    if not url:
        return ""
    return _domain(url)


@lru_cache(maxsize=65_536)
def _domain(url: str) -> str:
    if "://" not in url:
        url = "https://" + url
    try:
        host = (urlsplit(url).hostname or "").lower().rstrip(".")
    except ValueError:
        return ""
    host = host.removeprefix("www.")
    if not host:
        return ""
    rest = host
    while True:  # the host and every parent domain (a.b.wixsite.com: b.wixsite.com, wixsite.com, com)
        if rest in SHARED_HOSTS:
            return ""
        dot = rest.find(".")
        if dot < 0:
            return host
        rest = rest[dot + 1 :]


def trigrams(key: str) -> frozenset[str]:
    """pg_trgm's trigrams of an (already normalised, lowercase ASCII) key."""
    words = key.split()
    if len(words) == 1:
        return _word_trigrams(words[0])
    return frozenset().union(*map(_word_trigrams, words))


@lru_cache(maxsize=100_000)
def _word_trigrams(word: str) -> frozenset[str]:
    # Cached: names share most of their words, so an index of 50,000 names splits few new ones.
    padded = f"  {word} "
    return frozenset(padded[i : i + 3] for i in range(len(padded) - 2))


def trigram_similarity(a: str, b: str) -> float:
    """pg_trgm's `similarity(a, b)` for normalised keys: shared trigrams / all trigrams."""
    ta, tb = trigrams(a), trigrams(b)
    union = len(ta | tb)
    return len(ta & tb) / union if union else 0.0


@dataclass(frozen=True)
class Candidate:
    """A would-be organisation: a form being filled in, or an import row."""

    name: str
    country: str
    name_local: str = ""
    other_names: tuple[str, ...] = ()
    acronym: str = ""
    city: str = ""
    website: str = ""
    identifiers: tuple[tuple[str, str], ...] = ()

    @property
    def names(self) -> list[str]:
        return [n for n in (self.name, self.name_local, *self.other_names) if n and n.strip()]

    @cached_property
    def name_keys(self) -> frozenset[str]:
        return frozenset(k for k in (name_key(n) for n in self.names) if k)

    @cached_property
    def search_key(self) -> str:
        # Equal to build_search_key(name, name_local, acronym, other_names, city), as
        # Organisation.refresh_keys stores it, with the per-name cache.
        texts = (self.name, self.name_local, self.acronym, *self.other_names, self.city)
        return " ".join(k for k in (name_key(t) for t in texts if t) if k)

    @cached_property  # an import asks several times per row
    def domain(self) -> str:
        return website_domain(self.website)

    @cached_property
    def identifier_keys(self) -> frozenset[tuple[str, str]]:
        return frozenset((normalise_scheme(s), normalise_value(v)) for s, v in self.identifiers)


@dataclass(slots=True)  # slots: an import builds hundreds of thousands of these
class Duplicate:
    organisation_id: uuid.UUID
    name: str
    country: str
    reason: str
    score: float

    @property
    def reason_text(self) -> str:
        return REASONS[self.reason]

    def as_dict(self) -> dict:
        return {
            "id": str(self.organisation_id), "name": self.name, "country": self.country,
            "reason": self.reason, "score": round(self.score, 2),
        }


@dataclass
class _Org:
    id: uuid.UUID
    name: str
    name_local: str
    other_names: list
    country: str
    website: str
    search_key: str
    _keys: set | None = field(default=None, repr=False)
    _trigrams: frozenset | None = field(default=None, repr=False)
    rank: int = field(default=0, repr=False)  # position in (name, str(id)) order, see OrganisationIndex.ranked
    slot: int = field(default=-1, repr=False)  # position in its country's _CountryTrigrams

    @property
    def trigrams(self) -> frozenset:
        if self._trigrams is None:
            self._trigrams = trigrams(self.search_key)
        return self._trigrams

    @property
    def name_keys(self) -> set[str]:
        if self._keys is None:
            self._keys = {
                k for k in (name_key(n) for n in (self.name, self.name_local, *(self.other_names or [])) if n) if k
            }
        return self._keys

    @property
    def main_keys(self) -> set[str]:
        """Keys of the name and local name only (used to match import rows)."""
        return {k for k in (name_key(self.name), name_key(self.name_local)) if k}


class _CountryTrigrams:
    """The similar-name filter of one country (pairs are only ever compared within a country).

    Counting, not probing: each trigram of the country has a bitset of the organisations holding
    it (a Python int, one bit per organisation). For a candidate, the bitsets of its trigrams are
    added into bit-sliced counters (planes[i] holds bit i of every organisation's count of shared
    trigrams), so the shared-trigram count of every organisation of the country is known after
    a few big-integer operations per trigram, all running in C. Jaccard ≥ t needs
    shared ≥ t·(|A| + |B|) / (1 + t): per size |B| of the organisations, the bitset of counts
    reaching that bound is read off the planes, and only those organisations are scored, with
    the same formula as pg_trgm. Exact. (Prefix filtering let hundreds to thousands of
    organisations per row through: the region's transliterated names share most trigrams.)
    """

    def __init__(self, orgs: list):
        self.orgs = orgs
        self.grams = [o.trigrams for o in orgs]
        self.counts = [len(grams) for grams in self.grams]
        for slot, org in enumerate(orgs):
            org.slot = slot
        positions: dict[str, list[int]] = defaultdict(list)
        by_size: dict[int, list[int]] = defaultdict(list)
        for number, grams in enumerate(self.grams):
            by_size[len(grams)].append(number)
            for gram in grams:
                positions[gram].append(number)
        self.bitsets = {gram: _bitset(numbers) for gram, numbers in positions.items()}
        self.sizes = {size: _bitset(numbers) for size, numbers in by_size.items()}
        # Each organisation's trigrams as bits of the country's trigrams: |A ∩ B| is then one
        # AND and a popcount.
        self.bit_of = {gram: bit for bit, gram in enumerate(positions)}
        self.masks = [_bitset([self.bit_of[g] for g in grams]) if grams else 0 for grams in self.grams]
        self._plans: dict[tuple[int, float], list[tuple[int, int]]] = {}

    def similar(self, mine: frozenset, barred: int = 0, limit: int | None = None) -> tuple[dict[float, list[_Org]], int]:
        """({similarity: organisations}, how many reach the threshold) for the organisations of
        the country reaching SIMILARITY_THRESHOLD, each list in the country's order
        (OrganisationIndex.ranked: name, then id). `barred`: bits (positions in this country,
        _Org.slot) of organisations not to consider. `limit`: only the best `limit` (and any
        tied with the last of them) need be scored; the count is still exact."""
        size = len(mine)
        planes = [0] * (size.bit_length() + 1)
        bitsets = self.bitsets
        for gram in mine:
            carry = bitsets.get(gram, 0)
            i = 0
            while carry:  # add one bit to every organisation holding the trigram
                plane = planes[i]
                planes[i] = plane ^ carry
                carry &= plane
                i += 1
        keep = ~barred
        at_least: dict[int, int] = {}  # k -> organisations sharing at least k trigrams, for every level
        pool = self._reaching(planes, size, SIMILARITY_THRESHOLD, at_least) & keep
        total = pool.bit_count()
        if limit is not None and total > 4 * limit:
            # The best `limit` reach some higher level: score only the organisations there.
            for level in LEVELS:
                higher = self._reaching(planes, size, level, at_least) & keep
                if higher.bit_count() >= limit:
                    pool = higher
                    break
        result: dict[float, list[_Org]] = {}
        if not pool:
            return result, total
        orgs, masks, counts, bit_of = self.orgs, self.masks, self.counts, self.bit_of
        known = [bit_of[g] for g in mine if g in bit_of]
        mask = _bitset(known) if known else 0
        # The pool's members in ascending order from its binary digits (least significant
        # first): a string search per member, where peeling the lowest bit off a big integer
        # would copy the whole integer each time.
        digits = bin(pool)[:1:-1]
        number = digits.find("1")
        while number >= 0:
            shared = (mask & masks[number]).bit_count()
            score = shared / (size + counts[number] - shared)
            group = result.get(score)
            if group is None:
                result[score] = [orgs[number]]
            else:
                group.append(orgs[number])
            number = digits.find("1", number + 1)
        return result, total

    def _reaching(self, planes: list[int], size: int, level: float, at_least: dict[int, int]) -> int:
        """Bits of the organisations whose similarity to a `size`-trigram key is ≥ `level`:
        those sharing at least the fewest trigrams that reach it, given their own size. Exact
        (the same float comparison as the score), so no pair is scored only to be dropped."""
        found = 0
        for k, members in self._plan(size, level):
            reaching = at_least.get(k)
            if reaching is None:
                reaching = at_least[k] = _at_least(planes, k)
            found |= reaching & members
        return found

    def _plan(self, size: int, level: float) -> list[tuple[int, int]]:
        """[(k, organisations that need k shared trigrams)] for a `size`-trigram key: the sizes
        of the country's organisations grouped by k (cached: keys have few distinct sizes)."""
        plan = self._plans.get((size, level))
        if plan is None:
            by_k: dict[int, int] = {}
            for theirs, members in self.sizes.items():
                if not level * size <= theirs <= size / level:  # |A ∩ B| ≤ min(|A|, |B|) bounds it
                    continue
                k = _fewest_shared(size, theirs, level)
                if k is not None:
                    by_k[k] = by_k.get(k, 0) | members
            plan = self._plans[(size, level)] = sorted(by_k.items())
        return plan


def _fewest_shared(mine: int, theirs: int, level: float) -> int | None:
    """The fewest shared trigrams s with s / (mine + theirs - s) ≥ level (None: no s can)."""
    s = max(0, math.floor(level * (mine + theirs) / (1 + level)) - 1)
    top = min(mine, theirs)
    while s <= top:
        union = mine + theirs - s
        if union and s / union >= level:
            return s
        s += 1
    return None


def _bitset(numbers: list[int]) -> int:
    bits = bytearray(max(numbers) // 8 + 1)
    for number in numbers:
        bits[number >> 3] |= 1 << (number & 7)
    return int.from_bytes(bits, "little")


def _at_least(planes: list[int], k: int) -> int:
    """Organisations whose bit-sliced count (planes, least significant first) is ≥ k."""
    if k <= 0:
        return -1  # every organisation (masked by the caller)
    if k >= 1 << len(planes):
        return 0
    greater, equal = 0, -1
    for i in range(len(planes) - 1, -1, -1):
        if k >> i & 1:
            equal &= planes[i]
        else:
            greater |= equal & planes[i]
            equal &= ~planes[i]
    return greater | equal


class OrganisationIndex:
    """Existing organisations preloaded for matching and duplicate detection.

    Two queries whatever the number of candidates: identifiers with the candidates' values,
    and organisations in the candidates' countries or with a website. Lookups are dictionaries
    (identifier, website domain, (country, normalised name)); similar names go through a
    per-country trigram filter built on first use.
    """

    def __init__(self, orgs: Iterable[_Org], identifiers: dict[tuple[str, str], uuid.UUID]):
        self.orgs: dict[uuid.UUID, _Org] = {o.id: o for o in orgs}
        self.schemes: dict[uuid.UUID, dict[str, set]] = defaultdict(lambda: defaultdict(set))
        self.identifiers = identifiers
        self.by_domain: dict[str, list[uuid.UUID]] = defaultdict(list)
        # (country, normalised name) -> organisations: every name, and name / local name only.
        self.by_name_key: dict[tuple[str, str], list[uuid.UUID]] = defaultdict(list)
        self.by_main_key: dict[tuple[str, str], list[uuid.UUID]] = defaultdict(list)
        for org in self.orgs.values():
            domain = website_domain(org.website)
            if domain:
                self.by_domain[domain].append(org.id)
            country = org.country
            for key in org.name_keys:
                self.by_name_key[(country, key)].append(org.id)
            for key in org.main_keys:
                self.by_main_key[(country, key)].append(org.id)
        self._trigrams: dict[str, _CountryTrigrams] = {}
        self._ranked = False

    def ranked(self) -> None:
        """Number the organisations in (name, str(id)) order, the order of equal-score duplicates,
        once: sorting each candidate's duplicates by (-score, rank) then compares a float and an
        int instead of calling a key function on every pair."""
        if not self._ranked:
            # id.int orders as str(id) does (fixed-width hex), without formatting 50,000 strings.
            for rank, org in enumerate(sorted(self.orgs.values(), key=lambda o: (o.name, o.id.int))):
                org.rank = rank
            self._ranked = True

    def _country(self, country: str) -> _CountryTrigrams:
        found = self._trigrams.get(country)
        if found is None:
            self.ranked()  # the country's organisations in rank order: results come out sorted
            found = self._trigrams[country] = _CountryTrigrams(
                sorted((o for o in self.orgs.values() if o.country == country), key=lambda o: o.rank)
            )
        return found

    @classmethod
    def load(cls, candidates: Sequence[Candidate]) -> OrganisationIndex:
        values = {v for c in candidates for _s, v in c.identifier_keys}
        identifiers = {}
        if values:
            for scheme, value, org_id in OrganisationIdentifier.objects.filter(value__in=values).values_list(
                "scheme", "value", "organisation_id"
            ):
                identifiers[(scheme, value)] = org_id
        countries = {c.country for c in candidates if c.country}
        rule = ~Q(website="")
        if countries:
            rule |= Q(country__in=countries)
        if identifiers:
            rule |= Q(pk__in=set(identifiers.values()))
        rows = Organisation.objects.filter(rule).order_by().values_list(
            "id", "name", "name_local", "other_names", "country", "website", "search_key"
        )
        index = cls((_Org(*row) for row in rows), identifiers)
        # The identifiers the loaded organisations hold, by scheme: a row with KZ-BIN X is not
        # the organisation with KZ-BIN Y, whatever their names or websites.
        for scheme, value, org_id in OrganisationIdentifier.objects.filter(
            organisation__in=Organisation.objects.filter(rule).values("pk")
        ).values_list("scheme", "value", "organisation_id"):
            index.schemes[org_id][scheme].add(value)
        return index

    def conflicts(self, candidate: Candidate, org_id) -> bool:
        """True when the organisation holds another value in a scheme the candidate names."""
        held = self.schemes.get(org_id)
        if not held:
            return False
        return any(held.get(scheme) and value not in held[scheme] for scheme, value in candidate.identifier_keys)

    @classmethod
    def load_for(cls, candidate: Candidate) -> OrganisationIndex:
        """A small index for one candidate (the staff duplicates page): only organisations that
        can match. PostgreSQL preselects similar names with pg_trgm (TrigramSimilarity, served by
        the trigram index); SQLite scores the candidate's country in Python."""
        keys = candidate.identifier_keys
        identifiers = {}
        if keys:
            for scheme, value, org_id in OrganisationIdentifier.objects.filter(
                value__in={v for _s, v in keys}
            ).values_list("scheme", "value", "organisation_id"):
                identifiers[(scheme, value)] = org_id
        rule = Q(pk__in=set(identifiers.values()))
        if candidate.domain:
            rule |= Q(website__icontains=candidate.domain)
        if candidate.country:
            for key in candidate.name_keys:
                rule |= Q(country=candidate.country, search_key__contains=key)
            search_key = candidate.search_key
            if connection.vendor == "postgresql" and search_key:
                from django.contrib.postgres.search import TrigramSimilarity

                similar = (
                    Organisation.objects.filter(country=candidate.country)
                    .annotate(similarity=TrigramSimilarity("search_key", search_key))
                    .filter(similarity__gte=SIMILARITY_THRESHOLD)
                    .values("pk")
                )
                rule |= Q(pk__in=similar)
            elif search_key:
                rule |= Q(country=candidate.country)
        rows = Organisation.objects.filter(rule).order_by().values_list(
            "id", "name", "name_local", "other_names", "country", "website", "search_key"
        )
        return cls((_Org(*row) for row in rows), identifiers)

    # -- lookups used by both matching and duplicate detection -----------------------------
    def by_identifiers(self, candidate: Candidate) -> list[uuid.UUID]:
        found = []
        for key in sorted(candidate.identifier_keys):
            org_id = self.identifiers.get(key)
            if org_id is not None and org_id not in found:
                found.append(org_id)
        return found

    def by_website(self, candidate: Candidate) -> list[uuid.UUID]:
        domain = candidate.domain
        return list(self.by_domain.get(domain, ())) if domain else []

    def by_name(self, candidate: Candidate, *, main_only: bool = False) -> list[uuid.UUID]:
        """Organisations of the same country with the same normalised name."""
        keys = {name_key(candidate.name), name_key(candidate.name_local)} if main_only else set(candidate.name_keys)
        keys.discard("")
        table = self.by_main_key if main_only else self.by_name_key
        found: dict[uuid.UUID, None] = {}
        for key in keys:
            found.update(dict.fromkeys(table.get((candidate.country, key), ())))
        return list(found)

    def similar(self, candidate: Candidate) -> dict[uuid.UUID, float]:
        """Same-country organisations whose search key has pg_trgm similarity ≥ the threshold
        (exact: see _CountryTrigrams)."""
        groups, _total = self._similar_groups(candidate)
        return {org.id: score for score, group in groups.items() for org in group}

    def _similar_groups(
        self, candidate: Candidate, barred: int = 0, limit: int | None = None
    ) -> tuple[dict[float, list[_Org]], int]:
        mine = trigrams(candidate.search_key)
        if not mine or not candidate.country:
            return {}, 0
        return self._country(candidate.country).similar(mine, barred, limit)


class Found(list):
    """One candidate's likely duplicates, best first; `total` counts them all, also those left
    out when only the best are listed."""

    total: int = 0


def find_duplicates_many(
    candidates: Sequence[Candidate], *, index: OrganisationIndex | None = None,
    visible_ids: set | None = None, exclude: Sequence[set] | None = None, hidden: set | None = None,
    limit: int | None = None,
) -> list[Found]:
    """Likely duplicates of each candidate, best first (score, then name, then id): all of them,
    or the best `limit` (each list's `total` still counts all).

    `visible_ids`: only these organisations may be reported (None: all); `hidden`: these may
    not (None: none); `exclude[i]`: ids not to report for candidate i (e.g. the organisation an
    import row updates).

    Imports report hundreds of thousands of pairs, so the similar names are never sorted or
    filtered pair by pair: organisations that may not be reported, and those with a stronger
    reason, are cleared from the country's bitset before scoring, and the scoring returns each
    similarity's organisations already in (name, id) order (OrganisationIndex.ranked). With a
    limit, only the similar names that can be among the best are scored (the seeded benchmark's
    names give ~440 per row).
    """
    if not candidates:
        return []
    index = index or OrganisationIndex.load(candidates)
    index.ranked()
    orgs = index.orgs
    barred_orgs: dict[int, _Org] = {}  # id(org) -> org, never reported
    if visible_ids is not None:
        barred_orgs.update((id(org), org) for org in orgs.values() if org.id not in visible_ids)
    if hidden:
        barred_orgs.update((id(orgs[org_id]), orgs[org_id]) for org_id in hidden if org_id in orgs)
    countries = {c.country for c in candidates if c.country}
    barred_bits: dict[str, int] = dict.fromkeys(countries, 0)
    for org in barred_orgs.values():
        if org.country in barred_bits:
            index._country(org.country)  # numbers the country's organisations (slot)
            barred_bits[org.country] |= 1 << org.slot
    out = []
    for i, candidate in enumerate(candidates):
        # The strongest reason (identifier > website > name > similar name) gives the score.
        fixed: dict[int, tuple[_Org, float, str]] = {}
        for reason, score, found_ids in (
            ("name", SCORE_NAME, index.by_name(candidate)),
            ("website", SCORE_WEBSITE, index.by_website(candidate)),
            ("identifier", SCORE_IDENTIFIER, index.by_identifiers(candidate)),
        ):
            for org_id in found_ids:
                org = orgs.get(org_id)
                if org is not None:
                    fixed[id(org)] = (org, score, reason)
        skip: list[_Org] = [orgs[org_id] for org_id in exclude[i] if org_id in orgs] if exclude else []
        country = candidate.country
        barred = barred_bits.get(country, 0)
        if (fixed or skip) and country:
            index._country(country)  # numbers the country's organisations (slot)
            for org in (*skip, *(entry[0] for entry in fixed.values())):
                if org.country == country:
                    barred |= 1 << org.slot  # reported with a stronger reason, or not at all
        groups, similar_total = index._similar_groups(candidate, barred, limit)
        extra: dict[float, list[tuple[int, _Org, str]]] = {}
        skipped = {id(org) for org in skip}
        for key, (org, score, reason) in fixed.items():
            if key not in skipped and key not in barred_orgs:
                extra.setdefault(score, []).append((org.rank, org, reason))
        found = Found()
        found.total = similar_total + sum(len(entries) for entries in extra.values())
        for score in sorted(groups.keys() | extra.keys(), reverse=True):
            if limit is not None and len(found) >= limit:
                break
            if score in extra:
                merged = sorted([(org.rank, org, "similar_name") for org in groups.get(score, ())] + extra[score],
                                key=lambda entry: entry[0])
                found += [Duplicate(org.id, org.name, str(org.country), reason, score) for _r, org, reason in merged]
            else:
                found += [Duplicate(org.id, org.name, str(org.country), "similar_name", score)
                          for org in groups[score]]
        if limit is not None:
            del found[limit:]
        out.append(found)
    return out


def find_duplicates(candidate: Candidate, *, user=None, exclude_id=None) -> list[Duplicate]:
    """Likely duplicates of one candidate among the organisations `user` may see."""
    visible = Organisation.objects.visible_to(user) if user is not None else Organisation.objects.all()
    found = find_duplicates_many(
        [candidate], index=OrganisationIndex.load_for(candidate), exclude=[{exclude_id} if exclude_id else set()]
    )[0]
    if user is not None and found:
        ids = set(visible.filter(pk__in=[d.organisation_id for d in found]).values_list("pk", flat=True))
        found = [d for d in found if d.organisation_id in ids]
    return found
