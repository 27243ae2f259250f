from .roles import get_roles


def roles(request):
    return {"roles": get_roles(getattr(request, "user", None))}
