from django import forms
from django.contrib.auth.password_validation import validate_password

from .models import Role, Team, User


class UserForm(forms.ModelForm):
    password = forms.CharField(
        widget=forms.PasswordInput,
        required=False,
        help_text="Leave blank to keep the current password. New users without one can use “Forgot password”.",
    )

    class Meta:
        model = User
        fields = ["email", "name", "role", "team", "is_active"]

    def clean_email(self):
        return self.cleaned_data["email"].strip().lower()

    def clean(self):
        data = super().clean()
        if data.get("role") in (Role.MANAGER, Role.CSM) and not data.get("team"):
            self.add_error("team", "Managers and CSMs belong to a team.")
        password = data.get("password")
        if password:
            validate_password(password, self.instance)
        return data

    def save(self, commit: bool = True) -> User:
        user = super().save(commit=False)
        if self.cleaned_data.get("password"):
            user.set_password(self.cleaned_data["password"])
        elif not user.pk:
            user.set_unusable_password()
        if commit:
            user.save()
        return user


class TeamForm(forms.ModelForm):
    class Meta:
        model = Team
        fields = ["name", "timezone"]


class ApiTokenForm(forms.Form):
    name = forms.CharField(max_length=100, help_text="What uses it, e.g. “Zendesk webhook”.")
    user = forms.ModelChoiceField(
        queryset=User.objects.filter(is_active=True),
        help_text="The token acts as this user, with their role. The events API needs an Admin.",
    )
