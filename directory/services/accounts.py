"""Role groups: Django groups bundling the permissions of each role in SECURITY.md.

Membership of a team makes a user staff; these groups give staff (and organisers,
moderators, importers) their model permissions. Administrators grant them in the admin.
"""

from django.contrib.auth.models import Group, Permission
from django.db import transaction

ROLE_GROUPS: dict[str, list[str]] = {
    "EU staff": [
        "directory.view_organisation", "directory.add_organisation", "directory.change_organisation",
        "directory.delete_organisation", "directory.view_person", "directory.add_person",
        "directory.change_person", "directory.view_affiliation", "directory.add_affiliation",
        "directory.change_affiliation", "directory.delete_affiliation",
        "directory.add_organisationidentifier", "directory.change_organisationidentifier",
        "directory.delete_organisationidentifier", "directory.view_internal",
    ],
    "Restricted records": ["directory.view_restricted"],
    "Organisers": ["directory.manage_events", "directory.view_internal"],
    "Moderators": ["directory.moderate_profile_changes"],
    "Importers": ["directory.import_organisations"],
    "People exporters": ["directory.export_people"],
}


@transaction.atomic
def ensure_role_groups() -> dict[str, Group]:
    groups = {}
    for name, perms in ROLE_GROUPS.items():
        group, _created = Group.objects.get_or_create(name=name)
        wanted = []
        for perm in perms:
            app_label, codename = perm.split(".")
            wanted.append(Permission.objects.get(content_type__app_label=app_label, codename=codename))
        group.permissions.set(wanted)
        groups[name] = group
    return groups
