from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.utils.translation import gettext as _


def apply_fields(instance, data: dict, allowed: frozenset[str]) -> list[str]:
    """Set the allowed fields from data; an unknown field is an error, never silently dropped."""
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise ValidationError({name: [_("This field cannot be written.")] for name in unknown})
    changed = []
    for name, value in data.items():
        try:
            current = getattr(instance, name)
        except ObjectDoesNotExist:  # an unset foreign key on a new object
            current = None
        if current != value:
            setattr(instance, name, value)
            changed.append(name)
    return changed


def set_history_user(instance, actor) -> None:
    """simple-history reads this attribute; without a request (commands, shell) it is the actor."""
    if actor is not None and getattr(actor, "is_authenticated", False):
        instance._history_user = actor


def lock_for_write(model, pk) -> None:
    """Take the row lock (SELECT ... FOR UPDATE) of the object a write is about to read and
    change; call it inside the write's transaction, before the read. Concurrent writers queue
    here and each then reads what the previous one committed, so an If-Match comparison or a
    read-modify-write cannot lose an update. A missing pk locks nothing. On SQLite the
    IMMEDIATE transaction mode already serialises writers."""
    from django.db import transaction

    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("lock_for_write() outside a transaction would release the lock at once")
    list(model.objects.select_for_update().filter(pk=pk).values_list("pk", flat=True))
