"""Forms of the pages: they validate what a browser sends before a service writes it."""

from datetime import timedelta

from django import forms
from django.utils import timezone

from accounts.models import Role

EXPIRY_CHOICES = [("7", "7 days"), ("30", "30 days"), ("90", "90 days"), ("365", "1 year"), ("", "Never")]
SCOPE_CHOICES = [("write", "Read and write"), ("read", "Read only")]
ROLE_CHOICES = [(value, label) for value, label in Role.choices]


class SignInForm(forms.Form):
    username = forms.CharField(max_length=150, widget=forms.TextInput(attrs={"autocomplete": "username", "autofocus": True}))
    password = forms.CharField(max_length=4096, strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}))


class TokenForm(forms.Form):
    name = forms.CharField(max_length=200)
    scope = forms.ChoiceField(choices=SCOPE_CHOICES, initial="write")
    expires_in = forms.ChoiceField(choices=EXPIRY_CHOICES, initial="90", required=False, label="Expires in")

    def __init__(self, *args, workspaces=None, **kwargs):
        super().__init__(*args, **kwargs)
        if workspaces is not None:
            choices = [("", "All my workspaces")] + [(w.slug, f"{w.name} ({w.slug})") for w in workspaces]
            self.fields["workspace"] = forms.ChoiceField(choices=choices, required=False)
            self.order_fields(["name", "workspace", "scope", "expires_in"])

    def expires_at(self):
        days = self.cleaned_data.get("expires_in")
        return timezone.now() + timedelta(days=int(days)) if days else None


class ServiceAccountForm(forms.Form):
    username = forms.CharField(max_length=150)
    role = forms.ChoiceField(choices=ROLE_CHOICES, initial=Role.MEMBER)


class GroupMappingForm(forms.Form):
    group = forms.CharField(max_length=255, label="IdP group")
    role = forms.ChoiceField(choices=[("", "No role")] + ROLE_CHOICES, required=False)
    team = forms.TypedChoiceField(coerce=int, empty_value=None, required=False)

    def __init__(self, *args, teams=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["team"].choices = [("", "No team")] + [(t.pk, t.name) for t in teams]
