"""Who a user is in the directory: resolved once per request (one query) and kept on the
request's user object.

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
    """The user's roles, read afresh on every request (never cached across requests: a team
    removal, a withdrawn permission or a deactivation applies on the next request) and memoised
    on the request's user object."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return ANONYMOUS
    cached = getattr(user, "_directory_roles", None)
    if cached is not None:
        return cached
    team_ids, editor_ids, user_perms, group_perms = _memberships_and_permissions(user)
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


def _memberships_and_permissions(user):
    """Teams, edited organisations and permissions in ONE query (a UNION ALL) instead of four.

    Django's ModelBackend would read the user's and their groups' permissions in two more
    queries on the first `has_perm`; the same sets are stored where it keeps them
    (`_user_perm_cache`, `_group_perm_cache`, `_perm_cache`: the request's user object only),
    so every later `has_perm` of this request costs nothing.
    """
    from django.contrib.auth.models import Permission
    from django.db.models import CharField, F, Value
    from django.db.models.functions import Cast

    from .models import OrganisationEditor, TeamMembership

    text = CharField()

    def rows(queryset, kind, ref, app_label, codename):
        return queryset.annotate(
            k=Value(kind, output_field=text), r=Cast(ref, text), a=app_label, c=codename
        ).values_list("k", "r", "a", "c")

    empty = Value("", output_field=text)
    app_label, codename = F("content_type__app_label"), F("codename")
    teams = rows(TeamMembership.objects.filter(user=user).order_by(), "team", "team_id", empty, empty)
    editors = rows(
        OrganisationEditor.objects.filter(user=user).order_by(), "editor", "organisation_id", empty, empty
    )
    own = rows(Permission.objects.filter(user=user).order_by(), "user_perm", Value(""), app_label, codename)
    grouped = rows(
        Permission.objects.filter(group__user=user).order_by(), "group_perm", Value(""), app_label, codename
    )
    team_field = TeamMembership._meta.get_field("team").target_field
    org_field = OrganisationEditor._meta.get_field("organisation").target_field
    team_ids, editor_ids, user_perms, group_perms = set(), set(), set(), set()
    for kind, ref, label, name in teams.union(editors, own, grouped, all=True):
        if kind == "team":
            team_ids.add(team_field.to_python(ref))
        elif kind == "editor":
            editor_ids.add(org_field.to_python(ref))
        elif kind == "user_perm":
            user_perms.add(f"{label}.{name}")
        else:
            group_perms.add(f"{label}.{name}")
    if not user.is_superuser:  # superusers never consult the caches
        user._user_perm_cache = user_perms
        user._group_perm_cache = group_perms
        user._perm_cache = user_perms | group_perms
    return frozenset(team_ids), frozenset(editor_ids), user_perms, group_perms
