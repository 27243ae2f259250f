"""Deterministic, fast seeding of benchmark data (and the bulk loaders the import timing uses).

Everything comes from `random.Random(SEED)`: the same scale gives the same rows, ids included.
Rows are generated as plain dicts (like a parsed import file), turned into unsaved model
instances whose keys are computed by the models' own code (`Organisation.refresh_keys`, the
same `build_search_key` as `Person.save`), and written in batches of 2,000 inside one
transaction: with `bulk_create` (SQLite) or, on PostgreSQL, with COPY of the very same column
values (`pre_save` + `get_db_prep_save`), several times faster; the benchmark's import timing
uses the same loaders (`fast=True`: COPY on PostgreSQL, with the indexes in place). No query per
row, no simple-history rows (neither path sends signals).
"""

from __future__ import annotations

import random
import re
import sys
import time
import uuid
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from operator import itemgetter

from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.utils import timezone

from ..choices import InteractionKind, InteractionSensitivity
from ..demo_data import COUNTRIES, FIRST_NAMES, LAST_NAMES, PATTERNS, ROLES
from ..models import (
    Affiliation,
    FocusArea,
    Interaction,
    Organisation,
    OrganisationIdentifier,
    Person,
    Team,
    TeamMembership,
)
from ..search import build_search_key
from ..services import bulk
from . import PEOPLE_PER_ORGANISATION

SEED = 20260901
BATCH = 2_000
MARKER_DOMAIN = "bench.example"  # every seeded organisation's website ends with it
STAFF_USERS = ("bench.staff.kz", "bench.staff.kg")
TODAY = date(2026, 9, 1)  # fixed, so the data (and the deep pages) do not move with the clock
BASE_TIME = datetime(2026, 9, 1, 9, 0, tzinfo=UTC)

# Skewed: Kazakhstan and Kyrgyzstan hold most organisations; a few partners abroad.
COUNTRY_WEIGHTS = [("KZ", 34), ("KG", 30), ("UZ", 15), ("TJ", 12), ("TM", 6), ("DE", 1), ("BE", 1), ("RU", 1)]
IDENTIFIER_SCHEMES = {"KZ": ("KZ-BIN", 12), "KG": ("KG-OKPO", 8), "TJ": ("TJ-TIN", 9),
                      "TM": ("TM-TIN", 10), "UZ": ("UZ-TIN", 9)}
# Coined name parts with their Cyrillic spelling: they make names diverse (and searches selective).
SYLLABLES = [("Ak", "Ак"), ("Bay", "Бай"), ("Nur", "Нұр"), ("Kara", "Қара"), ("Zhan", "Жан"),
             ("Tash", "Таш"), ("Su", "Су"), ("Kol", "Көл"), ("Dar", "Дар"), ("Mir", "Мир"),
             ("Gul", "Гүл"), ("Bek", "Бек"), ("Ol", "Ол"), ("Tur", "Тур"), ("Sar", "Сар"), ("Yer", "Ер"),
             ("Khan", "Хан"), ("Jol", "Жол"), ("Ay", "Ай"), ("Tan", "Тан")]
# Known spellings of one name: the searches in the benchmark use these.
SPECIAL_NAMES = [
    ("Bir Duino", "Бир Дуйно", ["Bir Duyno", "Бир Дүйнө"]),
    ("Kylym Shamy", "Кылым Шамы", ["Qylym Shamy"]),
    ("Qazaqstan Zhastary", "Қазақстан Жастары", ["Kazakhstan Jastary"]),
    ("Oʻzbekiston Yoshlari", "Ўзбекистон Ёшлари", ["Uzbekistan Yoshlari"]),
    ("Khujand Huquq", "Хуҷанд Ҳуқуқ", ["Xo'jand Huquq"]),
]
FILLER = [
    "It runs training, legal consultations and small grants for local initiatives.",
    "Volunteers in three districts support the programme.",
    "The organisation publishes annual reports and monitoring briefs in Russian and English.",
    "It cooperates with local authorities, universities and international partners.",
    "Since its founding it has worked with rural communities and young people.",
]
SUBJECTS = [
    "Annual partnership meeting", "Call about the shelter network", "Follow-up on the grant application",
    "Consultation on the draft NGO law", "Site visit to the project office", "Regional water forum",
    "Youth programme planning", "Monitoring visit", "Email exchange on the report", "Round table",
]


class Progress:
    """A plain text progress bar on stderr (silent when `stream` is None)."""

    def __init__(self, label: str, total: int, stream=sys.stderr, width: int = 30):
        self.label, self.total, self.stream, self.width = label, max(total, 1), stream, width
        self.done = 0
        self.started = time.perf_counter()

    def advance(self, n: int):
        self.done += n
        if self.stream is None:
            return
        share = min(self.done / self.total, 1.0)
        bar = "#" * int(share * self.width)
        self.stream.write(f"\r  {self.label:<22} [{bar:<{self.width}}] {share:6.1%} {self.done:>9,}/{self.total:,}")
        if self.done >= self.total:
            self.stream.write(f"  {time.perf_counter() - self.started:5.1f} s\n")
        self.stream.flush()


def _uuid(rng: random.Random) -> uuid.UUID:
    return uuid.UUID(int=rng.getrandbits(128), version=4)


def _zipf_weights(n: int, s: float = 1.1) -> list[float]:
    return [1 / (rank + 1) ** s for rank in range(n)]


def _variant(latin: str) -> str:
    """Another romanisation of a Latin name (what people type)."""
    out = latin.replace("Zh", "J").replace("zh", "j").replace("Kh", "H").replace("kh", "h")
    return out.replace("y", "i").replace("Q", "K").replace("q", "k")


# --- writing: COPY on PostgreSQL for the seeder, bulk_create for imports and SQLite ----------

def write(model, objects, fast: bool):
    """Insert unsaved instances: bulk_create in batches of 2,000 or, with `fast` on PostgreSQL,
    COPY of the same values (directory.services.bulk.insert, as imports write)."""
    if not (fast and connection.vendor == "postgresql"):
        model.objects.bulk_create(objects, batch_size=BATCH)
        return
    bulk.insert(model, objects)


def write_links(model, first: str, second: str, pairs, fast: bool):
    """Insert (first_id, second_id) rows of an M2M through table."""
    if fast and connection.vendor == "postgresql":
        bulk.copy_rows(model, [first, second], pairs)
    else:
        model.objects.bulk_create([model(**{f"{first}_id": a, f"{second}_id": b}) for a, b in pairs],
                                  batch_size=BATCH)


# --- organisations -------------------------------------------------------------------------

def organisation_rows(count: int, focus_area_ids: list[int], seed: int = SEED, start: int = 0) -> list[dict]:
    """`count` organisation dicts; `start` offsets the identifiers (imports add new ones)."""
    rng = random.Random(seed)
    countries = [c for c, _w in COUNTRY_WEIGHTS]
    country_weights = [w for _c, w in COUNTRY_WEIGHTS]
    area_weights = _zipf_weights(len(focus_area_ids))
    rows = []
    for i in range(count):
        index = start + i
        country = rng.choices(countries, country_weights)[0]
        cities, words, langs, _scheme, phone = COUNTRIES.get(country, COUNTRIES["KZ"])
        pattern_en, pattern_ru, org_type, _areas = rng.choice(PATTERNS)
        if index % 400 == 0 or (i == 0 and start == 0):  # ~0.25 %: the well-known spellings
            latin, cyrillic, others = SPECIAL_NAMES[(index // 400) % len(SPECIAL_NAMES)]
            others = list(others)
        else:
            latin, cyrillic = rng.choice(words)
            others = []
            if rng.random() < 0.6:
                (s1, c1), (s2, c2) = rng.choice(SYLLABLES), rng.choice(SYLLABLES)
                latin, cyrillic = f"{latin} {s1}{s2.lower()}", f"{cyrillic} {c1}{c2.lower()}"
            if rng.random() < 0.3:
                others.append(_variant(latin))
        name = pattern_en.format(x=latin)
        city_latin, city_local = rng.choice(cities)
        areas = sorted({focus_area_ids[k] for k in rng.choices(range(len(focus_area_ids)), area_weights,
                                                                 k=rng.randint(1, 4))})
        roll = rng.random()
        scheme = IDENTIFIER_SCHEMES.get(country)
        slug = f"org{index}"
        rows.append(dict(
            id=_uuid(rng),
            name=name,
            name_local=pattern_ru.format(x=cyrillic),
            other_names=others,
            acronym="".join(w[0] for w in name.split() if w[0].isalpha()).upper()[:6],
            type=org_type,
            country=country,
            city=city_local if rng.random() < 0.2 else city_latin,
            website=f"https://{slug}.{MARKER_DOMAIN}",
            email=f"info@{slug}.{MARKER_DOMAIN}" if rng.random() < 0.8 else "",
            phone=f"{phone} {rng.randrange(100000, 999999)}",
            description=f"{name} works in {city_latin}. " + " ".join(rng.sample(FILLER, k=rng.randint(1, 4))),
            founded_year=rng.randint(1991, 2024) if rng.random() < 0.9 else None,
            languages=list(langs) + (["en"] if rng.random() < 0.3 else []),
            status="active" if roll < 0.9 else "inactive" if roll < 0.97 else "closed",
            visibility=rng.choices(["public", "staff", "restricted"], [70, 20, 10])[0],
            verified=rng.random() < 0.5,
            internal_notes="Met at the regional forum; follow up on reporting." if rng.random() < 0.2 else "",
            focus_area_ids=areas,
            identifiers=[(scheme[0], str(10 ** (scheme[1] - 1) + index))] if scheme and rng.random() < 0.75 else [],
            created_at=BASE_TIME - timedelta(days=rng.randrange(0, 3000), minutes=rng.randrange(0, 1440)),
        ))
    # Ensure the first organisation is public and active: the detail and timeline scenarios use it.
    if start == 0 and rows:
        rows[0].update(visibility="public", status="active", country="KG")
    return rows


def load_organisations(rows: list[dict], progress: Progress | None = None, fast: bool = False) -> int:
    """Bulk-load organisation dicts with their focus areas and identifiers."""
    through = Organisation.focus_areas.through
    for offset in range(0, len(rows), BATCH):
        chunk = rows[offset: offset + BATCH]
        objects, links, identifiers = [], [], []
        for row in chunk:
            org = Organisation(**{k: v for k, v in row.items() if k not in ("focus_area_ids", "identifiers")})
            org.refresh_keys()  # the same code as Organisation.save
            objects.append(org)
            links.extend((row["id"], fa) for fa in row["focus_area_ids"])
            identifiers.extend(
                OrganisationIdentifier(organisation_id=row["id"], scheme=s, value=v, verified=True)
                for s, v in row["identifiers"]
            )
        write(Organisation, objects, fast)
        write_links(through, "organisation", "focusarea", links, fast)
        write(OrganisationIdentifier, identifiers, fast)
        if progress:
            progress.advance(len(chunk))
    return len(rows)


# --- people -------------------------------------------------------------------------------

def load_people(orgs: list[dict], seed: int = SEED, progress: Progress | None = None, fast: bool = False) -> dict:
    """Three people per organisation, each affiliated with it (the first is the primary
    contact); one in ten also has a second, current affiliation elsewhere, one in twenty an
    ended one. Returns {organisation id: [person ids]}."""
    rng = random.Random(seed + 1)
    people_of: dict = {}
    genders = list(FIRST_NAMES)
    for offset in range(0, len(orgs), BATCH // PEOPLE_PER_ORGANISATION):
        chunk = orgs[offset: offset + BATCH // PEOPLE_PER_ORGANISATION]
        people, affiliations = [], []
        for org_index, org in enumerate(chunk, start=offset):
            ids = []
            for slot in range(PEOPLE_PER_ORGANISATION):
                gender = rng.choice(genders)
                first, first_local = rng.choice(FIRST_NAMES[gender])
                last, last_local = rng.choice(LAST_NAMES)
                if gender == "male":
                    last, last_local = last[:-1], last_local[:-1]
                consent = rng.random() < 0.8
                given = BASE_TIME - timedelta(days=rng.randrange(30, 1500))
                person = Person(
                    id=_uuid(rng), name=f"{first} {last}", name_local=f"{first_local} {last_local}",
                    position=rng.choice(ROLES), email=f"{first.lower()}.{last.lower()}.{org_index}{slot}@{MARKER_DOMAIN}",
                    phone=f"+7 70{rng.randrange(10000000, 99999999)}", languages=org["languages"][:2],
                    gender=gender, sensitivity="restricted" if rng.random() < 0.05 else "normal",
                    consent_given_at=given if consent else None, consent_method="email" if consent else "",
                    consent_purposes=["directory", "contact", "invitations"] if consent else [],
                    consent_withdrawn_at=given + timedelta(days=20) if consent and rng.random() < 0.03 else None,
                    do_not_contact=rng.random() < 0.03, created_at=given if consent else BASE_TIME,
                )
                person.search_key = build_search_key(person.name, person.name_local)  # as Person.save
                people.append(person)
                ids.append(person.id)
                affiliations.append(Affiliation(
                    id=_uuid(rng), person_id=person.id, organisation_id=org["id"], role=person.position,
                    is_primary=slot == 0, start_date=date(2010 + rng.randrange(15), 1, 1),
                ))
                roll = rng.random()
                if roll < 0.15 and len(orgs) > 1:
                    other = orgs[rng.randrange(len(orgs))]["id"]
                    if other != org["id"]:
                        ended = roll < 0.05
                        affiliations.append(Affiliation(
                            id=_uuid(rng), person_id=person.id, organisation_id=other, role="Board member",
                            is_primary=False, start_date=date(2012, 1, 1),
                            end_date=date(2020, 12, 31) if ended else None,
                        ))
            people_of[org["id"]] = ids
        write(Person, people, fast)
        write(Affiliation, affiliations, fast)
        if progress:
            progress.advance(len(chunk) * PEOPLE_PER_ORGANISATION)
    return people_of


# --- staff and interactions --------------------------------------------------------------

def ensure_staff():
    """Two EU staff users in two teams (KZ; KG and TJ). Returns (users, teams)."""
    from ..services.accounts import ensure_role_groups

    groups = ensure_role_groups()
    User = get_user_model()
    teams, users = [], []
    for username, (team_name, countries) in zip(
        STAFF_USERS,
        [("Bench team Kazakhstan", ["KZ"]), ("Bench team Kyrgyz Republic", ["KG", "TJ"])],
        strict=True,
    ):
        team, _ = Team.objects.get_or_create(name=team_name, defaults={"countries": countries})
        user, created = User.objects.get_or_create(username=username, defaults={"email": f"{username}@{MARKER_DOMAIN}"})
        if created:
            user.set_unusable_password()
            user.save(update_fields=["password"])
            if "EU staff" in groups:
                user.groups.add(groups["EU staff"])
        TeamMembership.objects.get_or_create(team=team, user=user)
        teams.append(team)
        users.append(user)
    return users, teams


def interaction_rows(count: int, orgs: list[dict], people_of: dict, users, teams, focus_area_ids,
                     seed: int = SEED):
    """Yield interaction dicts. Organisations are picked with a strong skew (a few are contacted
    very often, the first one most: the timeline scenario uses it)."""
    rng = random.Random(seed + 2)
    n = len(orgs)
    kinds = list(InteractionKind.values)
    sens = [InteractionSensitivity.STAFF, InteractionSensitivity.TEAM, InteractionSensitivity.PARTICIPANTS]
    area_weights = _zipf_weights(len(focus_area_ids))
    for i in range(count):
        who = i % 2
        picked = [orgs[0 if rng.random() < 0.005 else int(n * rng.random() ** 2)]]
        if rng.random() < 0.3:
            picked.append(orgs[rng.randrange(n)])
        picked = list({o["id"]: o for o in picked}.values())
        people = [p for o in picked for p in people_of.get(o["id"], [])[: rng.randint(0, 2)]]
        occurred = TODAY - timedelta(days=int(1100 * rng.random() ** 1.5))
        sensitivity = rng.choices(sens, [40, 45, 15])[0]
        follow = rng.random() < 0.1
        yield dict(
            id=_uuid(rng), occurred_on=occurred, kind=rng.choice(kinds),
            subject=f"{rng.choice(SUBJECTS)} — {picked[0]['name']}"[:200],
            notes=rng.choice(["", "Discussed priorities for next year and the reporting deadlines.",
                              "They asked for introductions to other donors; agreed to share the draft report."]),
            team_id=teams[who].pk, author_id=users[who].pk, sensitivity=sensitivity,
            follow_up_due=occurred + timedelta(days=14) if follow else None,
            follow_up_assignee_id=users[who].pk if follow else None,
            follow_up_done=follow and rng.random() < 0.5,
            created_at=datetime(occurred.year, occurred.month, occurred.day, 8, tzinfo=UTC)
            + timedelta(minutes=rng.randrange(600)),
            organisation_ids=[o["id"] for o in picked], person_ids=people,
            participant_ids=[users[1 - who].pk] if sensitivity == InteractionSensitivity.PARTICIPANTS or rng.random() < 0.05 else [],
            focus_area_ids=sorted({focus_area_ids[k] for k in rng.choices(range(len(focus_area_ids)), area_weights,
                                                                         k=rng.randint(0, 2))}),
        )


COPY_BATCH = 100_000  # interactions per round of COPY statements (one per table)
COPY_PIECE = 1_000  # rows per write into a COPY: the server ingests one while the next is built
_RELATIONS = {"organisation_ids": "organisations", "person_ids": "people", "participant_ids": "staff_participants",
              "focus_area_ids": "focus_areas"}


def load_interactions(rows, total: int, progress: Progress | None = None, fast: bool = False,
                      in_index_order: bool = True) -> int:
    """Bulk-load interaction dicts (an iterable; keys: the model's attnames and the four id
    lists of _RELATIONS) with their to-many links, then move the organisations' maintained
    last all-staff contact date forward (the bulk writes bypass the services that keep it).
    With COPY, each batch goes in index order (see _copy_interactions) unless `in_index_order`
    is False (the seeder, whose indexes are built after the load, keeps the generated order)."""
    from ..services.interactions import advance_staff_contacted_on, contact_history_changed

    copy = fast and connection.vendor == "postgresql"
    size = COPY_BATCH if copy else BATCH
    staff = InteractionSensitivity.STAFF.value
    default_sensitivity = Interaction._meta.get_field("sensitivity").default
    day_of = Interaction._meta.get_field("occurred_on").to_python  # rows from a file may hold strings
    organisation_of = Organisation._meta.pk.to_python
    latest: dict = {}  # organisation id -> latest new all-staff interaction
    done = 0
    batch: list[dict] = []

    def flush():
        if copy:
            _copy_interactions(batch, in_index_order)
        else:
            _create_interactions(batch)
        for row in batch:
            if row.get("sensitivity", default_sensitivity) == staff:
                day = day_of(row["occurred_on"])
                for pk in row.get("organisation_ids", ()):
                    pk = organisation_of(pk)
                    if pk not in latest or latest[pk] < day:
                        latest[pk] = day
        if progress:
            progress.advance(len(batch))

    for row in rows:
        batch.append(row)
        done += 1
        if len(batch) == size:
            flush()
            batch = []
    if batch:
        flush()
    advance_staff_contacted_on(latest)
    if done:
        contact_history_changed()  # the staff home's cached figures count them
    return done


def _create_interactions(batch: list[dict]):
    """bulk_create (SQLite, or without `fast`): model instances and through-model rows."""
    Interaction.objects.bulk_create(
        [Interaction(**{k: v for k, v in row.items() if k not in _RELATIONS}) for row in batch], batch_size=BATCH)
    for key, name in _RELATIONS.items():
        field = Interaction._meta.get_field(name)
        through, target = field.remote_field.through, field.m2m_reverse_field_name()
        write_links(through, field.m2m_field_name(), target, [(r["id"], x) for r in batch for x in r.get(key, ())],
                    fast=False)


_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
_NEEDS_ESCAPE = re.compile(r"[\\\t\n\r]").search


def _copy_text(value) -> str:
    """A database value as a field of COPY's text format (None is \\N, booleans t/f)."""
    if value is None:
        return "\\N"
    if value is True:
        return "t"
    if value is False:
        return "f"
    if isinstance(value, str):
        return value.translate(_ESCAPES) if _NEEDS_ESCAPE(value) else value
    if isinstance(value, int | uuid.UUID | date):  # date: datetime too (str gives ISO 8601 with its offset)
        return str(value)
    raise TypeError(f"no COPY text form for {type(value).__name__}")


def _text_of(field):
    """A function giving a value's COPY text as the field would store it. Values of the type
    the field holds are formatted directly (what get_db_prep_save returns them as on
    PostgreSQL); anything else (a string for a date or UUID, a naive datetime...) goes through
    get_db_prep_save first, as bulk_create would."""
    kind = bulk.field_kind(field)

    def other(value):
        return "\\N" if value is None else _copy_text(field.get_db_prep_save(value, connection))

    if kind == "uuid":  # 32 hex digits (a form PostgreSQL reads): cheaper than str()
        return lambda v: f"{v.int:032x}" if type(v) is uuid.UUID else other(v)
    if kind == "str":
        return lambda v: (v.translate(_ESCAPES) if _NEEDS_ESCAPE(v) else v) if type(v) is str else other(v)
    if kind == "bool":
        return lambda v: "t" if v is True else "f" if v is False else other(v)
    if kind == "int":
        return lambda v: str(v) if type(v) is int else other(v)
    if kind == "date":
        return lambda v: v.isoformat() if type(v) is date else other(v)
    if kind == "datetime":  # str(): ISO 8601 with the offset
        return lambda v: str(v) if type(v) is datetime and v.tzinfo is not None else other(v)
    return other


def _copy_interactions(batch: list[dict], in_index_order: bool):
    """COPY the batch into the interaction table and its four through tables: text format
    built as strings (no model instance, no adapter call per field), with the defaults and
    auto_now values Interaction(**row) and pre_save would give.

    `in_index_order`: interactions newest first (the order of the date index and of the team
    and author ones) and links by interaction id (their unique index): into indexes of a
    million rows, most of a load's time is fetching the leaf page each key goes to, and keys
    in index order reuse each page for all its new keys instead of fetching it again later."""
    fields = [f for f in Interaction._meta.concrete_fields if f.get_internal_type() not in bulk.AUTO_FIELDS]
    known = {f.attname for f in fields} | set(_RELATIONS)
    now = timezone.now()
    columns, missing = [], {}
    for field in fields:
        text = _text_of(field)
        if getattr(field, "auto_now", False):  # set on every save, whatever the row says
            key = object()  # in no row
            missing[key] = (lambda fixed: lambda: fixed)(text(now))
        else:
            key = field.attname
            if field.has_default() and callable(field.default):
                missing[key] = (lambda f, t: lambda: t(f.get_default()))(field, text)
            else:
                missing[key] = (lambda fixed: lambda: fixed)(text(field.get_default()))
        columns.append((key, text))
    id_text = _text_of(Interaction._meta.pk)
    for row in batch:
        unknown = row.keys() - known
        if unknown:
            raise TypeError(f"Interaction has no field {sorted(unknown)[0]!r}")
    # (id text, row): the links need it (rows must carry their id: no generated default here).
    linked = [(id_text(row["id"]), row) for row in batch]
    if in_index_order:
        linked.sort(key=itemgetter(0))
        try:
            # By date only: comparing dates is cheap, and a date's rows are few leaf pages.
            batch = sorted(batch, key=itemgetter("occurred_on"), reverse=True)
        except (KeyError, TypeError):  # a value of another type or left to its default: any order is right
            pass

    def lines():
        for start in range(0, len(batch), COPY_PIECE):
            yield "".join(["\t".join([text(row[key]) if key in row else missing[key]() for key, text in columns])
                           + "\n" for row in batch[start: start + COPY_PIECE]])

    _copy_lines(Interaction, [f.column for f in fields], lines())
    for key, name in _RELATIONS.items():
        field = Interaction._meta.get_field(name)
        through = field.remote_field.through
        source = through._meta.get_field(field.m2m_field_name())
        target = through._meta.get_field(field.m2m_reverse_field_name())
        target_text = _text_of(target)

        def links(key=key, text=target_text):
            for start in range(0, len(linked), COPY_PIECE):
                yield "".join([f"{pk}\t{text(x)}\n" for pk, row in linked[start: start + COPY_PIECE]
                               for x in row.get(key, ())])

        _copy_lines(through, [source.column, target.column], links())


def _copy_lines(model, columns, pieces):
    """COPY text-format pieces (whole lines) into the model's table, piece by piece."""
    table = connection.ops.quote_name(model._meta.db_table)
    names = ", ".join(connection.ops.quote_name(c) for c in columns)
    with connection.cursor() as cursor, cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
        for piece in pieces:
            if piece:
                copy.write(piece)


# --- the whole data set -------------------------------------------------------------------

def focus_area_ids() -> list[int]:
    ids = list(FocusArea.objects.order_by("position", "id").values_list("id", flat=True))
    if not ids:
        raise RuntimeError("No focus areas: run the migrations first (they seed the taxonomy).")
    return ids


BULK_TABLES = (Organisation, OrganisationIdentifier, Organisation.focus_areas.through, Person, Affiliation,
               Interaction, Interaction.organisations.through, Interaction.people.through,
               Interaction.staff_participants.through, Interaction.focus_areas.through)


@contextmanager
def without_indexes_and_foreign_keys(models):
    """PostgreSQL bulk load as pg_restore does it: drop the secondary indexes and foreign keys
    of the tables being filled, load, then build each index once and validate each foreign key
    with one query (instead of maintaining trigram indexes row by row and queueing a deferred
    check per row until COMMIT). Inside the caller's transaction: a failure restores them."""
    if connection.vendor != "postgresql":
        yield
        return
    tables = [m._meta.db_table for m in models]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE contype = 'f' AND conrelid::regclass::text = ANY(%s)", [tables])
        foreign_keys = cursor.fetchall()
        cursor.execute(
            "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i "
            "WHERE i.indrelid::regclass::text = ANY(%s) AND NOT EXISTS "
            "(SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)", [tables])
        indexes = cursor.fetchall()
        for table, name, _definition in foreign_keys:
            cursor.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
        for name, _definition in indexes:
            cursor.execute(f"DROP INDEX {name}")
    yield
    with connection.cursor() as cursor:
        # The counts version's deferred trigger (migration 0013) has events queued by the load:
        # fire them now, as an index cannot be built on a table with pending trigger events.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")
        cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
        for _name, definition in indexes:
            cursor.execute(definition)
        for table, name, definition in foreign_keys:
            cursor.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')


def seed(organisations: int, interactions: int, stream=sys.stderr) -> dict:
    """Seed the benchmark data set; returns counts and the seconds it took."""
    started = time.perf_counter()
    areas = focus_area_ids()
    with transaction.atomic(), without_indexes_and_foreign_keys(BULK_TABLES):
        users, teams = ensure_staff()
        orgs = organisation_rows(organisations, areas)
        load_organisations(orgs, Progress("organisations", len(orgs), stream), fast=True)
        people_of = load_people(orgs, progress=Progress("people", len(orgs) * PEOPLE_PER_ORGANISATION, stream),
                                fast=True)
        load_interactions(
            interaction_rows(interactions, orgs, people_of, users, teams, areas), interactions,
            Progress("interactions", interactions, stream), fast=True, in_index_order=False,
        )
    analyse()
    return {
        "organisations": organisations,
        "people": organisations * PEOPLE_PER_ORGANISATION,
        "affiliations": Affiliation.objects.count(),
        "interactions": interactions,
        "interaction_organisation_links": Interaction.organisations.through.objects.count(),
        "seconds": round(time.perf_counter() - started, 1),
    }


def analyse():
    """Fresh planner statistics after a bulk load, and on PostgreSQL a VACUUM as autovacuum
    would soon run on a live server: it sets the visibility map, without which no index-only
    scan (counts, page ids) avoids the heap. VACUUM cannot run inside a transaction (the
    tests' --in-place runs): there, ANALYZE only."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql" and not connection.in_atomic_block:
            cursor.execute("VACUUM ANALYZE")
        else:
            cursor.execute("ANALYZE")


def is_seeded() -> bool:
    return get_user_model().objects.filter(username=STAFF_USERS[0]).exists() and Organisation.objects.exists()


def foreign_organisations() -> int:
    """Organisations that the benchmark did not create (refuse to run next to real data)."""
    return Organisation.objects.exclude(website__endswith=f".{MARKER_DOMAIN}").count()
