from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _
from django_otp import match_token, user_has_device


class LoginForm(AuthenticationForm):
    """Username and password, plus a one-time code for accounts with a second factor."""

    otp_token = forms.CharField(
        label=_("One-time code"), required=False, max_length=8,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
        help_text=_("Only if you set up a second factor (authenticator app)."),
    )

    def clean(self):
        cleaned = super().clean()
        user = self.get_user()
        self.otp_device = None
        if user is not None and user_has_device(user):
            token = (cleaned.get("otp_token") or "").strip()
            if not token:
                raise forms.ValidationError(
                    _("Enter the one-time code from your authenticator app."), code="otp_required"
                )
            self.otp_device = match_token(user, token)
            if self.otp_device is None:
                raise forms.ValidationError(_("That one-time code is not valid."), code="otp_invalid")
        return cleaned


class TotpConfirmForm(forms.Form):
    token = forms.CharField(
        label=_("Code from your authenticator app"), max_length=8,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )
