import base64

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.signals import user_logged_in
from django.db import transaction
from django.dispatch import receiver
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST
from django.views.i18n import set_language as django_set_language
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from ..forms import LoginForm, TotpConfirmForm
from ..services.preferences import SESSION_KEY, language_preference, set_language_preference


class LoginView(auth_views.LoginView):
    form_class = LoginForm
    redirect_authenticated_user = True

    def form_valid(self, form):
        response = super().form_valid(form)
        if form.otp_device is not None:
            otp_login(self.request, form.otp_device)
        return response


@login_required
@require_http_methods(["GET", "POST"])
def two_factor(request):
    """Set up, confirm or remove a TOTP second factor for the signed-in user."""
    confirmed = TOTPDevice.objects.filter(user=request.user, confirmed=True).first()
    form = TotpConfirmForm(request.POST or None)
    if confirmed:
        if request.method == "POST" and form.is_valid():
            if confirmed.verify_token(form.cleaned_data["token"].strip()):
                confirmed.delete()
                messages.success(request, _("Second factor removed."))
                return redirect("two_factor")
            form.add_error("token", _("That code is not valid."))
        return render(request, "registration/two_factor.html", {"device": confirmed, "form": form},
                      status=400 if form.errors else 200)
    with transaction.atomic():
        pending = TOTPDevice.objects.filter(user=request.user, confirmed=False).first()
        if pending is None:
            pending = TOTPDevice.objects.create(user=request.user, name="Authenticator app", confirmed=False)
    if request.method == "POST" and form.is_valid():
        if pending.verify_token(form.cleaned_data["token"].strip()):
            pending.confirmed = True
            pending.save(update_fields=["confirmed"])
            otp_login(request, pending)
            messages.success(request, _("Second factor enabled. You will be asked for a code at sign-in."))
            return redirect("two_factor")
        form.add_error("token", _("That code is not valid; check the time on your phone and try again."))
    secret = base64.b32encode(pending.bin_key).decode().rstrip("=")
    return render(
        request, "registration/two_factor.html",
        {"pending": pending, "secret": secret, "config_url": pending.config_url, "form": form},
        status=400 if form.errors else 200,
    )


@require_POST
def set_language(request):
    """The header's language form (no JavaScript needed). Django sets the cookie and redirects
    to `next`; a signed-in user's choice is also saved, to follow them to other devices."""
    response = django_set_language(request)
    code = request.POST.get("language", "")
    if code in dict(settings.LANGUAGES) and request.user.is_authenticated:
        set_language_preference(user=request.user, language=code)
        request.session[SESSION_KEY] = code
    return response


@receiver(user_logged_in, dispatch_uid="directory.remember_language")
def apply_language_preference(sender, request, user, **kwargs):
    """At sign-in the saved language takes over from the browser's (middleware reads it)."""
    if request is None or not hasattr(request, "session"):
        return
    code = language_preference(user)
    if code:
        request.session[SESSION_KEY] = code
    else:
        request.session.pop(SESSION_KEY, None)
