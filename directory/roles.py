"""Who a user is in the directory: resolved once per request and cached on the user object.

Roles (SECURITY.md): public (anonymous), CSO editor (linked to organisations), staff (member
of an EU team), organiser (permission to manage events), administrator (superuser).
A user may hold several roles; what they may see is the union.
"""

from dataclasses import dataclass, field

PERM_VIEW_RESTRICTED = "directory.view_restricted"
PERM_VIEW_INTERNAL = "directory.view_internal"
PERM_EXPORT_PEOPLE = "directory.export_people"
PERM_IMPORT = "directory.import_organisations"
PERM_MODERATE = "directory.moderate_profile_changes"
PERM_MANAGE_EVENTS = "directory.manage_events"


@dataclass(frozen=True)
class Roles:
    authenticated: bool = False
    admin: bool = False
    staff: bool = False
    organiser: bool = False
    team_ids: frozenset = field(default_factory=frozenset)
    editor_org_ids: frozenset = field(default_factory=frozenset)
    can_view_restricted: bool = False

    @property
    def editor(self) -> bool:
        return bool(self.editor_org_ids)

    @property
    def internal(self) -> bool:
        """May read internal fields of organisations (notes, visibility, status, verification)."""
        return self.admin or self.staff or self.organiser

    @property
    def names(self) -> list[str]:
        names = []
        if self.admin:
            names.append("admin")
        if self.staff:
            names.append("staff")
        if self.organiser:
            names.append("organiser")
        if self.editor:
            names.append("editor")
        return names or ["public"]


ANONYMOUS = Roles()


def get_roles(user) -> Roles:
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return ANONYMOUS
    cached = getattr(user, "_directory_roles", None)
    if cached is not None:
        return cached
    from .models import OrganisationEditor, TeamMembership

    team_ids = frozenset(TeamMembership.objects.filter(user=user).values_list("team_id", flat=True))
    editor_ids = frozenset(
        OrganisationEditor.objects.filter(user=user).values_list("organisation_id", flat=True)
    )
    admin = bool(user.is_superuser)
    roles = Roles(
        authenticated=True,
        admin=admin,
        staff=admin or bool(team_ids),
        organiser=admin or user.has_perm(PERM_MANAGE_EVENTS),
        team_ids=team_ids,
        editor_org_ids=editor_ids,
        can_view_restricted=admin or (bool(team_ids) and user.has_perm(PERM_VIEW_RESTRICTED)),
    )
    user._directory_roles = roles
    return roles
