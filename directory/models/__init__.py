from .audit import AccessAction, AccessLog  # noqa: F401
from .events import Event, EventSession, Invitation, InvitationStatusChange  # noqa: F401
from .interactions import Interaction  # noqa: F401
from .organisations import Organisation, OrganisationIdentifier  # noqa: F401
from .people import Affiliation, Person  # noqa: F401
from .privacy import ConsentRecord, SuppressionEntry  # noqa: F401
from .profiles import (  # noqa: F401
    ConfirmationReminder,
    EditorInvitation,
    OrganisationEditor,
    ProfileChange,
    UserPreference,
)
from .taxonomy import FocusArea  # noqa: F401
from .teams import Team, TeamMembership  # noqa: F401
