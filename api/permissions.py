from rest_framework import permissions

from directory.roles import get_roles

WRITE_PERMS = {
    "POST": "add",
    "PUT": "change",
    "PATCH": "change",
    "DELETE": "delete",
}


class ReadAnyoneWriteStaffWithPerm(permissions.BasePermission):
    """Reads for everyone (the queryset decides what is visible); writes for superusers and
    staff (team members) holding the model's add/change/delete permission."""

    def has_permission(self, request, view):
        if request.method in permissions.SAFE_METHODS:
            return True
        user = request.user
        if not (user and user.is_authenticated):
            return False  # -> 401
        roles = get_roles(user)
        if roles.admin:
            return True
        action = WRITE_PERMS.get(request.method)
        if not (roles.staff and action):
            return False
        model = view.get_queryset().model
        return user.has_perm(f"{model._meta.app_label}.{action}_{model._meta.model_name}")


class StaffOnly(permissions.BasePermission):
    """Contact history: EU staff only. Anonymous → 401; other signed-in users → 403 on lists
    and creation, 404 on a single record (there is nothing for them to see)."""

    def has_permission(self, request, view):
        user = request.user
        if not (user and user.is_authenticated):
            return False  # -> 401
        if get_roles(user).staff:
            return True
        if getattr(view, "detail", False):
            from rest_framework.exceptions import NotFound

            raise NotFound()
        return False
