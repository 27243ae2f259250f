"""Synthetic demo data: about 150 organisations across the five countries, their people,
two EU delegations and the demo users. Deterministic (fixed seed, fixed ids), so running it
twice leaves the same data. No real people: names are random combinations.
"""

import random
import secrets
import uuid
from datetime import UTC, date, datetime, timedelta

from django.contrib.auth import get_user_model
from django.db import transaction

from .choices import ConsentMethod, Gender, OrganisationStatus, Visibility
from .models import (
    Affiliation,
    FocusArea,
    Organisation,
    OrganisationEditor,
    Person,
    ProfileChange,
    Team,
    TeamMembership,
)
from .services.accounts import ensure_role_groups
from .services.organisations import organisation_create, organisation_update
from .services.people import affiliation_create, person_create, person_update

NAMESPACE = uuid.UUID("6b1f3c2e-4a57-4c1e-9d1e-2f6a0c9b7e01")
DEMO_USERS = ["admin", "staff.kz", "staff.kg", "organiser", "editor"]

# country -> (cities, [(latin, cyrillic)], languages, identifier scheme and digits, phone prefix)
COUNTRIES = {
    "KZ": (
        [("Almaty", "Алматы"), ("Astana", "Астана"), ("Shymkent", "Шымкент"), ("Oskemen", "Өскемен"), ("Aktobe", "Ақтөбе")],
        [("Adilet", "Әділет"), ("Dala", "Дала"), ("Arman", "Арман"), ("Koktem", "Көктем"), ("Shanyrak", "Шаңырақ"),
         ("Bereke", "Береке"), ("Zhuldyz", "Жұлдыз"), ("Qazaq Jeri", "Қазақ Жері"), ("Umit", "Үміт"), ("Nur Zhol", "Нұр Жол")],
        ["kk", "ru"], ("KZ-BIN", 12), "+7 701",
    ),
    "KG": (
        [("Bishkek", "Бишкек"), ("Osh", "Ош"), ("Jalal-Abad", "Джалал-Абад"), ("Karakol", "Каракол"), ("Naryn", "Нарын")],
        [("Kylym Shamy", "Кылым Шамы"), ("Ak Zhol", "Ак Жол"), ("Umut", "Үмүт"), ("Aigerim", "Айгерим"), ("Tabigat", "Табигат"),
         ("Jashtyk", "Жаштык"), ("Ordo", "Ордо"), ("Ala-Too", "Ала-Тоо"), ("Meerim", "Мээрим"), ("Yntymak", "Ынтымак")],
        ["ky", "ru"], ("KG-OKPO", 8), "+996 555",
    ),
    "TJ": (
        [("Dushanbe", "Душанбе"), ("Khujand", "Хуҷанд"), ("Khorog", "Хоруғ"), ("Kulob", "Кӯлоб"), ("Bokhtar", "Бохтар")],
        [("Nuri Hayot", "Нури Ҳаёт"), ("Obi Toza", "Оби Тоза"), ("Dasti Yori", "Дасти Ёрӣ"), ("Kuhiston", "Кӯҳистон"),
         ("Zanon va Jomea", "Занон ва Ҷомеа"), ("Umed", "Умед"), ("Sitora", "Ситора"), ("Ravshan", "Равшан")],
        ["tg", "ru"], ("TJ-TIN", 9), "+992 93",
    ),
    "TM": (
        [("Ashgabat", "Ашхабад"), ("Mary", "Мары"), ("Turkmenabat", "Туркменабат"), ("Dashoguz", "Дашогуз")],
        [("Ýaşlyk", "Яшлык"), ("Tebigat", "Тебигат"), ("Nesil", "Несил"), ("Bagtyýar", "Багтыяр"), ("Gündogar", "Гундогар"),
         ("Ak Ýol", "Ак Йол")],
        ["tk", "ru"], ("TM-TIN", 10), "+993 65",
    ),
    "UZ": (
        [("Tashkent", "Ташкент"), ("Samarkand", "Самарқанд"), ("Fergana", "Фарғона"), ("Nukus", "Нукус"), ("Namangan", "Наманган")],
        [("Oʻzbekiston Yoshlari", "Ўзбекистон Ёшлари"), ("Ezgu Niyat", "Эзгу Ният"), ("Mehr", "Меҳр"), ("Sabr", "Сабр"),
         ("Orol Tabiati", "Орол Табиати"), ("Nuroniy", "Нуроний"), ("Yangi Avlod", "Янги Авлод"), ("Xayrixoh", "Хайрихоҳ")],
        ["uz", "ru"], ("UZ-TIN", 9), "+998 90",
    ),
}

# (English pattern, Russian pattern, type, focus areas it suggests)
PATTERNS = [
    ("Public Foundation {x}", "Общественный фонд «{x}»", "foundation", ["social-services", "youth"]),
    ("{x} Human Rights Centre", "Правозащитный центр «{x}»", "ngo", ["human-rights", "rule-of-law"]),
    ("{x} Crisis Centre for Women", "Кризисный центр для женщин «{x}»", "ngo", ["domestic-violence", "gender-equality"]),
    ("{x} Eco Movement", "Экологическое движение «{x}»", "community-group", ["environment", "climate", "water"]),
    ("{x} Media Lab", "Медиалаборатория «{x}»", "media", ["media-freedom", "civic-space"]),
    ("{x} Policy Institute", "Институт политики «{x}»", "think-tank", ["anti-corruption", "regional-cooperation"]),
    ("{x} Youth Network", "Молодёжная сеть «{x}»", "network", ["youth", "education"]),
    ("{x} Disability Alliance", "Альянс людей с инвалидностью «{x}»", "network", ["disability", "social-services"]),
    ("{x} Migrants Support Centre", "Центр поддержки мигрантов «{x}»", "ngo", ["migration", "human-rights"]),
    ("{x} Green Economy Association", "Ассоциация зелёной экономики «{x}»", "business-association", ["green-economy", "environment"]),
    ("{x} Health Initiative", "Инициатива здоровья «{x}»", "ngo", ["health"]),
    ("{x} University Centre", "Университетский центр «{x}»", "academic", ["education", "regional-cooperation"]),
]

FIRST_NAMES = {
    "female": [("Aigul", "Айгүл"), ("Gulnara", "Гульнара"), ("Dilnoza", "Дилноза"), ("Madina", "Мадина"), ("Nargiza", "Наргиза"),
               ("Zarina", "Зарина"), ("Asel", "Асель"), ("Mehrangez", "Меҳрангез"), ("Jamila", "Жамила"), ("Ogulgerek", "Огулгерек")],
    "male": [("Azamat", "Азамат"), ("Bakhtiyor", "Бахтиёр"), ("Daniyar", "Данияр"), ("Farrukh", "Фаррух"), ("Nurlan", "Нурлан"),
             ("Rustam", "Рустам"), ("Timur", "Тимур"), ("Umid", "Умид"), ("Yerlan", "Ерлан"), ("Serdar", "Сердар")],
}
LAST_NAMES = [("Abdullaeva", "Абдуллаева"), ("Bekova", "Бекова"), ("Ismailova", "Исмаилова"), ("Karimova", "Каримова"),
              ("Nurlanova", "Нурланова"), ("Saidova", "Саидова"), ("Tokhtarova", "Тохтарова"), ("Yusupova", "Юсупова"),
              ("Omarova", "Омарова"), ("Rakhimova", "Рахимова")]
ROLES = ["Director", "Programme coordinator", "Chair of the board", "Lawyer", "Communications officer", "Project manager"]

SPECIAL = [
    # Well-known names the README, tests and browser journeys refer to.
    dict(name="Bir Duino Kyrgyzstan", name_local="Бир Дуйно Кыргызстан", acronym="BDK", country="KG",
         city="Bishkek", type="ngo", areas=["human-rights", "rule-of-law", "migration"],
         other_names=["Bir Duino", "Бир Дуйно"], visibility=Visibility.PUBLIC),
    dict(name="Kylym Shamy Human Rights Centre", name_local="Правозащитный центр «Кылым Шамы»", acronym="KSh",
         country="KG", city="Bishkek", type="ngo", areas=["human-rights", "disability"],
         other_names=["Kylym Shamy"], visibility=Visibility.PUBLIC),
    dict(name="Qazaqstan Water Partnership", name_local="Қазақстан су серіктестігі", acronym="QWP", country="KZ",
         city="Almaty", type="network", areas=["water", "environment", "climate"],
         other_names=["Kazakhstan Water Partnership"], visibility=Visibility.PUBLIC),
    dict(name="Khujand Legal Aid Bureau", name_local="Бюрои ёрии ҳуқуқии Хуҷанд", acronym="KLAB", country="TJ",
         city="Khujand", type="ngo", areas=["rule-of-law", "domestic-violence"],
         other_names=["Xo'jand Legal Aid"], visibility=Visibility.RESTRICTED),
]

EDITOR_ORGANISATION = "Kylym Shamy Human Rights Centre"
# The editor's demo proposals (self-service): one approved, one pending. After the first run
# the approved fields belong to the proposal, so re-seeding does not overwrite them.
DEMO_APPROVED_CHANGES = {"phone": "+996 312 900100", "founded_year": 2002}
DEMO_PENDING_CHANGES = {"website": "https://kylymshamy.example.kg", "languages": ["ky", "ru", "en"]}


def _uuid(kind: str, key) -> uuid.UUID:
    return uuid.uuid5(NAMESPACE, f"{kind}:{key}")


def _organisation_specs():
    rng = random.Random(20240501)
    specs = list(SPECIAL)
    for country, (cities, words, _langs, _scheme, _phone) in COUNTRIES.items():
        combos = [(w, p) for p in PATTERNS for w in words]
        rng.shuffle(combos)
        count = 29 if country != "TM" else 30
        for (latin, cyr), (pattern_en, pattern_ru, org_type, areas) in combos[:count]:
            city, _city_local = rng.choice(cities)
            roll = rng.random()
            visibility = Visibility.PUBLIC if roll < 0.7 else Visibility.STAFF if roll < 0.9 else Visibility.RESTRICTED
            specs.append(
                dict(
                    name=pattern_en.format(x=latin),
                    name_local=pattern_ru.format(x=cyr),
                    acronym="".join(
                        w[0] for w in pattern_en.format(x=latin).replace("ʻ", "").split() if w[0].isalpha()
                    ).upper()[:5],
                    country=country,
                    city=city,
                    type=org_type,
                    areas=rng.sample(areas, k=rng.randint(1, len(areas))),
                    other_names=[],
                    visibility=visibility,
                )
            )
    for index, spec in enumerate(specs):
        cities, _words, langs, (scheme, digits), _phone = COUNTRIES[spec["country"]]
        spec.setdefault("key", spec["name"])
        spec["languages"] = langs + (["en"] if index % 3 == 0 else [])
        spec["founded_year"] = 1991 + (index * 7) % 32
        roll = rng.random()
        spec["status"] = (
            OrganisationStatus.ACTIVE if roll < 0.9 or index < len(SPECIAL)
            else OrganisationStatus.INACTIVE if roll < 0.97 else OrganisationStatus.CLOSED
        )
        spec["verified"] = index % 2 == 0
        slug = "".join(ch for ch in spec["name"].lower() if ch.isascii() and ch.isalnum())[:24]
        spec["website"] = f"https://{slug}.example.org"
        spec["email"] = f"info@{slug}.example.org"
        spec["phone"] = f"{_phone} {100000 + index * 37 % 900000}"
        spec["description"] = (
            f"{spec['name']} works in {spec['city']} on "
            + ", ".join(a.replace("-", " ") for a in spec["areas"])
            + ". Synthetic demo profile: not a real organisation."
        )
        spec["identifiers"] = (
            [(scheme, str(10 ** (digits - 1) + index * 7919).zfill(digits)[:digits])] if index % 4 != 3 else []
        )
    return specs


def _ensure_users(password: str):
    User = get_user_model()
    groups = ensure_role_groups()
    teams = {
        "KZ": Team.objects.update_or_create(
            name="EU Delegation to Kazakhstan", defaults={"countries": ["KZ"]}
        )[0],
        "KG": Team.objects.update_or_create(
            name="EU Delegation to the Kyrgyz Republic", defaults={"countries": ["KG", "TJ"]}
        )[0],
    }
    users = {}
    for username in DEMO_USERS:
        user, _ = User.objects.get_or_create(username=username, defaults={"email": f"{username}@example.org"})
        user.set_password(password)
        user.is_active = True
        user.is_superuser = user.is_staff = username == "admin"
        user.first_name = {"staff.kz": "Staff", "staff.kg": "Staff"}.get(username, username.title())
        user.save()
        users[username] = user
    users["staff.kz"].groups.set([groups["EU staff"], groups["Restricted records"], groups["Moderators"],
                                  groups["Importers"], groups["People exporters"]])
    users["staff.kg"].groups.set([groups["EU staff"]])
    users["organiser"].groups.set([groups["Organisers"]])
    users["editor"].groups.set([])
    TeamMembership.objects.get_or_create(team=teams["KZ"], user=users["staff.kz"])
    TeamMembership.objects.get_or_create(team=teams["KG"], user=users["staff.kg"])
    # The organiser owns the forum's list through the Kazakhstan delegation.
    TeamMembership.objects.get_or_create(team=teams["KZ"], user=users["organiser"])
    return users, teams


@transaction.atomic
def seed_demo(password: str | None = None, stdout=None) -> dict:
    """Create or update the demo data; returns the logins and counts."""
    generated = password is None
    password = password or secrets.token_urlsafe(9)
    users, teams = _ensure_users(password)
    admin = users["admin"]
    rng = random.Random(7)
    area_slugs = set(FocusArea.objects.values_list("slug", flat=True))
    specs = _organisation_specs()
    organisations = {}
    base_time = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
    for index, spec in enumerate(specs):
        pk = _uuid("org", spec["key"])
        data = {
            k: spec[k]
            for k in ("name", "name_local", "other_names", "acronym", "type", "country", "city", "website",
                      "email", "phone", "description", "founded_year", "languages", "status", "visibility")
        }
        data["confirmed_at"] = base_time - timedelta(days=index * 5) if index % 3 else None
        areas = [a for a in spec["areas"] if a in area_slugs]
        existing = Organisation.objects.filter(pk=pk).first()
        if existing and spec["name"] == EDITOR_ORGANISATION and ProfileChange.objects.filter(
            pk=_uuid("change", "approved")
        ).exists():
            for field in DEMO_APPROVED_CHANGES:
                data.pop(field, None)
        if existing:
            org = organisation_update(actor=admin, organisation=existing, data=data, focus_areas=areas,
                                      identifiers=spec["identifiers"], verified=spec["verified"])
        else:
            org = organisation_create(actor=admin, data=data, focus_areas=areas, identifiers=spec["identifiers"],
                                      verified=spec["verified"], pk=pk)
        organisations[spec["name"]] = org
        for slot in range(1 + index % 3):
            gender = "female" if (index + slot) % 2 == 0 else "male"
            first, first_local = FIRST_NAMES[gender][(index * 3 + slot) % 10]
            last, last_local = LAST_NAMES[(index + slot * 3) % 10]
            if gender == "male":
                last, last_local = last[:-1], last_local[:-1]
            roll = rng.random()
            consent = roll > 0.2
            person_data = {
                "name": f"{first} {last}",
                "name_local": f"{first_local} {last_local}",
                "position": ROLES[(index + slot) % len(ROLES)],
                "email": f"{first.lower()}.{last.lower()}.{index}{slot}@example.org",
                "phone": f"{COUNTRIES[spec['country']][4]} {200000 + index * 10 + slot}",
                "languages": spec["languages"][:2],
                "gender": Gender.FEMALE if gender == "female" else Gender.MALE,
                "sensitivity": "restricted" if (index + slot) % 11 == 5 else "normal",
                "consent_given_at": base_time - timedelta(days=30 + index) if consent else None,
                "consent_method": ConsentMethod.EMAIL if consent else "",
                "consent_purposes": ["directory", "contact", "invitations"] if consent else [],
                "do_not_contact": (index + slot) % 17 == 3,
            }
            ppk = _uuid("person", f"{spec['key']}:{slot}")
            person = Person.objects.filter(pk=ppk).first()
            if person:
                person_update(actor=admin, person=person, data=person_data)
            else:
                person = person_create(actor=admin, data=person_data, pk=ppk)
            if not Affiliation.objects.filter(person=person, organisation=org).exists():
                affiliation_create(
                    actor=admin,
                    data={"person": person, "organisation": org, "role": person_data["position"],
                          "is_primary": slot == 0, "start_date": date(2015 + index % 9, 1, 1)},
                )
    OrganisationEditor.objects.get_or_create(
        user=users["editor"], organisation=organisations[EDITOR_ORGANISATION], defaults={"created_by": admin}
    )
    seed_profile_changes(users, organisations[EDITOR_ORGANISATION])
    interactions = seed_interactions(users, specs)
    invitations = seed_event(users, teams)
    return {
        "password": password,
        "generated": generated,
        "users": DEMO_USERS,
        "organisations": Organisation.objects.count(),
        "people": Person.objects.count(),
        "teams": [t.name for t in teams.values()],
        "interactions": interactions,
        "invitations": invitations,
    }


def seed_profile_changes(users, organisation) -> None:
    """`editor` has one approved proposal (reviewed by staff.kz) and one pending one, which
    proposes a new title for the primary contact as well. Created once; reruns change nothing."""
    from .services.self_service import (
        editable_people,
        profile_change_propose,
        profile_change_review,
    )

    editor = users["editor"]
    editor.__dict__.pop("_directory_roles", None)  # it just became an editor
    approved_pk, pending_pk = _uuid("change", "approved"), _uuid("change", "pending")
    if not ProfileChange.objects.filter(pk=approved_pk).exists():
        change = profile_change_propose(actor=editor, organisation=organisation,
                                        changes=DEMO_APPROVED_CHANGES, pk=approved_pk)
        profile_change_review(actor=users["staff.kz"], change=change, approve=list(change.diff), notify=False)
    if not ProfileChange.objects.filter(pk=pending_pk).exists():
        changes = dict(DEMO_PENDING_CHANGES)
        contact = editable_people(organisation, editor).filter(affiliations__is_primary=True).first()
        if contact is not None:
            changes["people"] = {str(contact.pk): {"position": "Executive director"}}
        profile_change_propose(actor=editor, organisation=organisation, changes=changes, pk=pending_pk)


INTERACTION_COUNT = 60
INTERACTION_SUBJECTS = [
    "Annual partnership meeting", "Call about the shelter network", "Follow-up on the grant application",
    "Consultation on the draft NGO law", "Site visit to the project office", "Regional water forum",
    "Youth programme planning", "Monitoring visit", "Email exchange on the report", "Media freedom round table",
    "Briefing on detention monitoring", "Climate adaptation workshop",
]
INTERACTION_NOTES = [
    "Synthetic demo notes: discussed priorities for next year and reporting deadlines.",
    "Synthetic demo notes: the organisation asked for introductions to other donors.",
    "Synthetic demo notes: agreed to share the draft report before the end of the month.",
    "",
]


def seed_interactions(users, specs) -> int:
    """About 60 interactions by staff.kz and staff.kg, each in their own team, of every kind and
    sensitivity, with KZ / KG / TJ organisations they can see and those organisations' people.
    Dates are relative to today (over the last 14 months), so the follow-ups due tomorrow and
    the overdue ones stay so. Fixed ids; a rerun on the same day changes nothing."""
    from django.utils import timezone

    from .choices import InteractionKind, InteractionSensitivity, Sensitivity
    from .models import Interaction
    from .services.interactions import interaction_create, interaction_update

    today = timezone.localdate()
    rng = random.Random(60)
    kz, kg = users["staff.kz"], users["staff.kg"]
    team_of = {
        kz.pk: Team.objects.get(name="EU Delegation to Kazakhstan"),
        kg.pk: Team.objects.get(name="EU Delegation to the Kyrgyz Republic"),
    }
    shared = [Visibility.PUBLIC, Visibility.STAFF]
    orgs = {
        country: list(
            Organisation.objects.filter(country=country, visibility__in=shared, status=OrganisationStatus.ACTIVE)
            .order_by("name", "id")
        )
        for country in ("KZ", "KG", "TJ")
    }
    people_of = {}
    for aff in Affiliation.objects.filter(
        organisation__country__in=["KZ", "KG", "TJ"], person__sensitivity=Sensitivity.NORMAL
    ).order_by("person__name", "person_id"):
        people_of.setdefault(aff.organisation_id, []).append(aff.person_id)
    areas_of = {}
    through = Organisation.focus_areas.through
    for org_id, slug in through.objects.filter(organisation__country__in=["KZ", "KG", "TJ"]).values_list(
        "organisation_id", "focusarea__slug"
    ).order_by("organisation_id", "focusarea__slug"):
        areas_of.setdefault(org_id, []).append(slug)

    kinds = list(InteractionKind.values)
    sensitivities = list(InteractionSensitivity.values)
    for index in range(INTERACTION_COUNT):
        author, other = (kz, kg) if index % 2 == 0 else (kg, kz)
        country = "KZ" if author is kz and index % 4 != 2 else "TJ" if index % 6 == 1 else "KG"
        candidates = orgs[country] or orgs["KZ"]
        organisation = candidates[(index * 7) % len(candidates)]
        chosen_orgs = [organisation]
        if index % 5 == 0 and len(candidates) > 1:
            chosen_orgs.append(candidates[(index * 7 + 3) % len(candidates)])
        people = [p for o in chosen_orgs for p in people_of.get(o.pk, [])[:2]]
        areas = sorted({a for o in chosen_orgs for a in areas_of.get(o.pk, [])})[:3]
        sensitivity = sensitivities[index % len(sensitivities)]
        participants = [other.username] if sensitivity == InteractionSensitivity.PARTICIPANTS or index % 7 == 0 else []
        occurred_on = today - timedelta(days=3 + (index * 421) % 420)  # spread over ~14 months
        data = {
            "occurred_on": occurred_on,
            "kind": kinds[index % len(kinds)],
            "subject": f"{INTERACTION_SUBJECTS[index % len(INTERACTION_SUBJECTS)]} — {organisation.name}"[:200],
            "notes": INTERACTION_NOTES[rng.randrange(len(INTERACTION_NOTES))],
            "team": team_of[author.pk],
            "sensitivity": sensitivity,
            "follow_up_due": None,
            "follow_up_assignee": None,
            "follow_up_done": False,
        }
        slot = index % 10
        if slot in (0, 3):  # overdue
            data.update(follow_up_due=today - timedelta(days=2 + index % 9), follow_up_assignee=author)
        elif slot == 5:  # due tomorrow
            data.update(follow_up_due=today + timedelta(days=1), follow_up_assignee=author)
        elif slot == 7:  # later
            data.update(follow_up_due=today + timedelta(days=10 + index % 20), follow_up_assignee=author)
        elif slot == 8:  # done
            data.update(follow_up_due=occurred_on + timedelta(days=7), follow_up_assignee=author, follow_up_done=True)
        relations = {
            "organisations": [o.pk for o in chosen_orgs],
            "people": people,
            "staff_participants": participants,
            "focus_areas": areas,
        }
        pk = _uuid("interaction", index)
        existing = Interaction.objects.filter(pk=pk).first()
        if existing is None:
            interaction_create(actor=author, data=data, pk=pk, **relations)
        elif any(getattr(existing, k) != v for k, v in data.items()) or (
            sorted(str(i) for i in existing.organisations.values_list("pk", flat=True))
            != sorted(str(i) for i in relations["organisations"])
        ):
            interaction_update(actor=author, interaction=existing, data=data, **relations)
    return Interaction.objects.filter(pk__in=[_uuid("interaction", i) for i in range(INTERACTION_COUNT)]).count()


FORUM = {
    "name": "EU–Central Asia Civil Society Forum",
    "starts_on": date(2026, 10, 6),
    "ends_on": date(2026, 10, 7),
    "city": "Almaty",
    "country": "KZ",
    "venue": "Rixos Almaty",
    "description": "Sessions on resilience, prosperity, regional cooperation and the environment. "
    "Synthetic demo event.",
    "capacity": 45,
    "targets": [
        {"dimension": "gender", "value": "female", "op": "at_least", "unit": "percent", "target": 40},
        {"dimension": "country", "value": "*", "op": "at_least", "unit": "percent", "target": 15},
        {"dimension": "organisation", "value": "*", "op": "at_most", "unit": "count", "target": 1},
    ],
}
# Status walk per invitation (by name order, index % 10): every status appears; attendance
# comes first so later acceptances meet a full event and go to the waitlist.
STATUS_PLAN = {
    0: [], 1: ["invited"], 2: ["invited"], 3: ["invited", "accepted"], 4: ["invited", "accepted"],
    5: ["invited", "accepted"], 6: ["invited", "declined"], 7: ["invited", "attended"],
    8: ["invited", "attended"], 9: ["invited", "no_show"],
}


def seed_event(users, teams) -> int:
    """The forum, its sessions and about 120 invitations in every status, built from the
    directory by the organiser through the services. Fixed ids; once the list exists, a
    rerun leaves it as it is (organisers may have changed it)."""
    from .models import Event, EventSession, Invitation
    from .services import events as event_services

    organiser = users["organiser"]
    pk = _uuid("event", "forum")
    data = {**FORUM, "team": teams["KZ"]}
    event = Event.objects.filter(pk=pk).first()
    if event is None:
        event = event_services.event_create(actor=organiser, data=data, pk=pk)
    elif any(getattr(event, k) != v for k, v in data.items() if k != "country") or event.country != data["country"]:
        event = event_services.event_update(actor=organiser, event=event, data=data)
    for index, (title, area) in enumerate([
        ("Resilience", "civic-space"), ("Prosperity", "green-economy"),
        ("Regional cooperation", "regional-cooperation"), ("Environment", "environment"),
    ]):
        EventSession.objects.get_or_create(
            pk=_uuid("session", index), defaults={
                "event": event, "title": title, "focus_area": FocusArea.objects.filter(slug=area).first(),
                "starts_at": datetime(2026, 10, 6 + index // 2, 10 + 4 * (index % 2), 0, tzinfo=UTC),
            },
        )
    if not Invitation.objects.filter(event=event).exists():
        event_services.add_from_directory(
            actor=organiser, event=event, filters={"country": ["KZ", "KG", "TJ", "UZ"]}, per_organisation=2
        )
        invitations = list(Invitation.objects.filter(event=event).order_by("person__name", "id"))
        # The demo editor's organisation keeps its invitations open, to accept or decline them.
        editor_org = Organisation.objects.get(name=EDITOR_ORGANISATION)
        order = sorted(range(len(invitations)), key=lambda i: (0 if i % 10 in (7, 8, 9) else 1, i))
        for index in order:
            invitation = invitations[index]
            plan = ["invited"] if invitation.organisation_id == editor_org.pk else STATUS_PLAN[index % 10]
            for status in plan:
                event_services.invitation_set_status(actor=organiser, invitation=invitation, status=status)
    return Invitation.objects.filter(event=event).count()
