"""The access log (SECURITY.md): exports of people or contact history, reads of restricted
records and denied attempts to reach one."""

from ..models import AccessLog


def log_access(*, request=None, user=None, action: str, obj=None, object_type: str = "",
               object_id: str = "", rows: int | None = None, via: str = "") -> AccessLog:
    user = user if user is not None else getattr(request, "user", None)
    authenticated = bool(user is not None and getattr(user, "is_authenticated", False))
    if obj is not None:
        object_type = object_type or obj._meta.model_name
        object_id = object_id or str(obj.pk)
    if not via and request is not None:
        via = "api" if request.path.startswith("/api/") else "web"
    return AccessLog.objects.create(
        user=user if authenticated else None,
        username=user.get_username() if authenticated else "",
        action=action,
        object_type=object_type,
        object_id=str(object_id)[:64],
        rows=rows,
        request_id=getattr(request, "request_id", "") if request is not None else "",
        via=via or "command",
    )


def log_denied_if_restricted(request, model, pk) -> None:
    """A request for a restricted record the user may not see: log it (the answer stays 404)."""
    from ..choices import Sensitivity, Visibility
    from ..models import AccessAction, Organisation

    field, value = ("visibility", Visibility.RESTRICTED) if model is Organisation else ("sensitivity", Sensitivity.RESTRICTED)
    if model.objects.filter(pk=pk, **{field: value}).exists():
        log_access(request=request, action=AccessAction.DENIED, object_type=model._meta.model_name, object_id=str(pk))
