"""Choices shared by models, forms, filters and the API."""

from django.conf.locale import LANG_INFO
from django.db import models
from django.utils.translation import gettext_lazy as _


class OrganisationType(models.TextChoices):
    NGO = "ngo", _("NGO")
    FOUNDATION = "foundation", _("Foundation")
    NETWORK = "network", _("Network or coalition")
    MEDIA = "media", _("Media")
    THINK_TANK = "think-tank", _("Think tank")
    ACADEMIC = "academic", _("Academic institution")
    COMMUNITY_GROUP = "community-group", _("Community group")
    BUSINESS_ASSOCIATION = "business-association", _("Business association")
    GOVERNMENT = "government", _("Government body")
    INTERNATIONAL = "international", _("International organisation")
    EU = "eu", _("EU institution")
    OTHER = "other", _("Other")


class Visibility(models.TextChoices):
    PUBLIC = "public", _("Public")
    STAFF = "staff", _("EU staff only")
    RESTRICTED = "restricted", _("Restricted")


class OrganisationStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    INACTIVE = "inactive", _("Inactive")
    CLOSED = "closed", _("Closed")


class Sensitivity(models.TextChoices):
    NORMAL = "normal", _("Normal")
    RESTRICTED = "restricted", _("Restricted")


class Gender(models.TextChoices):
    FEMALE = "female", _("Female")
    MALE = "male", _("Male")
    OTHER = "other", _("Other / self-described")
    UNDISCLOSED = "undisclosed", _("Prefers not to say")


class ConsentMethod(models.TextChoices):
    WRITTEN = "written", _("Written form")
    EMAIL = "email", _("Email")
    VERBAL = "verbal", _("Verbal, noted by staff")
    WEB = "web", _("Web form")


class ConsentPurpose(models.TextChoices):
    DIRECTORY = "directory", _("Listing in the directory")
    CONTACT = "contact", _("Being contacted by EU staff")
    INVITATIONS = "invitations", _("Invitations to events")


REGION_COUNTRIES = ["KZ", "KG", "TJ", "TM", "UZ"]

# ISO 639-1 codes known to Django's locale data, plus the languages of the region.
_EXTRA_LANGUAGES = {"tk": "Turkmen", "kk": "Kazakh", "ky": "Kyrgyz", "tg": "Tajik", "uz": "Uzbek"}
# Names are translated lazily by Django's own catalogue (it has every one of them).
LANGUAGE_CHOICES = [
    (code, _(name))
    for code, name in sorted(
        {
            **{code: info["name"] for code, info in LANG_INFO.items() if len(code) == 2 and "name" in info},
            **_EXTRA_LANGUAGES,
        }.items(),
        key=lambda item: item[1],
    )
]
LANGUAGE_CODES = frozenset(code for code, _name in LANGUAGE_CHOICES)


class InteractionKind(models.TextChoices):
    MEETING = "meeting", _("Meeting")
    CALL = "call", _("Call")
    EMAIL = "email", _("Email")
    EVENT = "event", _("Event")
    VISIT = "visit", _("Site visit")
    CONSULTATION = "consultation", _("Consultation")
    OTHER = "other", _("Other")


class InteractionSensitivity(models.TextChoices):
    STAFF = "staff", _("All EU staff")
    TEAM = "team", _("Owning team only")
    PARTICIPANTS = "participants", _("Named participants only")


class ConsentAction(models.TextChoices):
    GIVEN = "given", _("Given")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class SuppressionKind(models.TextChoices):
    EMAIL = "email", _("Email")
    PHONE = "phone", _("Phone")


class InvitationStatus(models.TextChoices):
    PROPOSED = "proposed", _("Proposed")
    INVITED = "invited", _("Invited")
    ACCEPTED = "accepted", _("Accepted")
    DECLINED = "declined", _("Declined")
    WAITLISTED = "waitlisted", _("Waitlisted")
    ATTENDED = "attended", _("Attended")
    NO_SHOW = "no_show", _("No-show")


# Which status changes make sense; anything else (declined → attended) is refused.
INVITATION_TRANSITIONS = {
    "proposed": {"invited", "declined"},
    "invited": {"accepted", "declined", "attended", "no_show"},
    "accepted": {"declined", "attended", "no_show"},
    "waitlisted": {"accepted", "declined"},
    "declined": {"invited", "accepted"},
    "attended": {"no_show"},
    "no_show": {"attended"},
}


class SkipReason(models.TextChoices):
    DO_NOT_CONTACT = "do_not_contact", _("Do not contact")
    NO_CONSENT = "no_consent", _("No consent to invitations")
    RESTRICTED = "restricted", _("Restricted person")
    ALREADY_INVITED = "already_invited", _("Already on the list")
    ORGANISATION_CLOSED = "organisation_closed", _("Organisation closed")
    NO_CONTACT = "no_contact", _("Organisation has no current contact")


class ProfileChangeStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    APPROVED = "approved", _("Approved")
    PARTLY_APPROVED = "partly_approved", _("Partly approved")
    REJECTED = "rejected", _("Rejected")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class FieldDecision(models.TextChoices):
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
