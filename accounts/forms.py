import uuid
import zoneinfo

from django import forms
from django.conf import settings
from django.contrib.auth.forms import PasswordResetForm
from django.contrib.auth.password_validation import validate_password
from django.template.loader import render_to_string

from .models import AuditEntry, Role, SecuritySettings, Team, TokenScope, User


class UserForm(forms.ModelForm):
    password = forms.CharField(
        widget=forms.PasswordInput,
        required=False,
        help_text="Leave blank to keep the current password. New users without one can use “Forgot password”.",
    )

    class Meta:
        model = User
        fields = ["email", "name", "role", "team", "timezone", "is_active"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["timezone"].widget = forms.Select(choices=zone_choices("As their team"))

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


WEEKDAY_CHOICES = [(0, "Monday"), (1, "Tuesday"), (2, "Wednesday"), (3, "Thursday"), (4, "Friday"),
                   (5, "Saturday"), (6, "Sunday")]  # fmt: skip


class TeamForm(forms.ModelForm):
    work_days = forms.TypedMultipleChoiceField(
        choices=WEEKDAY_CHOICES,
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Working days",
        help_text="SLA clocks count only these days and hours. None ticked: SLAs run around the clock.",
    )

    class Meta:
        model = Team
        fields = ["name", "timezone", "work_days", "work_start", "work_end"]
        labels = {"work_start": "Working hours start (hour)", "work_end": "Working hours end (hour)"}

    def clean(self):
        data = super().clean()
        start, end = data.get("work_start"), data.get("work_end")
        if data.get("work_days") and start is not None and end is not None and end <= start:
            self.add_error("work_end", "The working day must end after it starts.")
        return data


def zone_choices(blank_label: str) -> list[tuple[str, str]]:
    return [("", blank_label), *((name, name.replace("_", " ")) for name in sorted(zoneinfo.available_timezones()))]


class ProfileForm(forms.ModelForm):
    """What every staff member sets for themselves: their name, time zone and digest."""

    class Meta:
        model = User
        fields = ["name", "timezone", "daily_digest"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        team = self.instance.team
        fallback = team.timezone if team else settings.TIME_ZONE
        self.fields["timezone"].widget = forms.Select(choices=zone_choices(f"As my team: {fallback}"))


class ApiTokenForm(forms.Form):
    name = forms.CharField(max_length=100, help_text="What uses it, e.g. “Zendesk webhook”.")
    user = forms.ModelChoiceField(
        queryset=User.objects.filter(is_active=True),
        help_text="The token acts as this user, with their role. The events API needs an Admin.",
    )
    scope = forms.ChoiceField(
        choices=TokenScope.choices,
        initial=TokenScope.READ,
        widget=forms.RadioSelect,
        help_text="Read only is enough for reporting and CRM sync; posting events or changing data needs write.",
    )


class OutboxPasswordResetForm(PasswordResetForm):
    """Django's password reset email, queued in the outbox; run by the background job that works
    the stored requests (accounts.services.password_resets_send), never in a request."""

    def send_mail(
        self, subject_template_name, email_template_name, context, from_email, to_email, html_email_template_name=None
    ) -> None:
        from outbox.models import OutgoingEmail
        from outbox.services import emails_queue_and_send

        subject = " ".join(render_to_string(subject_template_name, context).split())
        emails_queue_and_send([
            OutgoingEmail(
                key=f"password_reset:{uuid.uuid4().hex}",
                kind="password_reset",
                to=to_email,
                from_email=from_email or settings.DEFAULT_FROM_EMAIL,
                subject=subject[:998],
                body_text=render_to_string(email_template_name, context),
                body_html=render_to_string(html_email_template_name, context) if html_email_template_name else "",
            )
        ])  # fmt: skip


class PasswordResetRequestForm(forms.Form):
    """What the "forgot password" page asks. Saving stores the request and nothing else: the
    lookup and the email happen in the background (accounts.services.password_resets_send), so
    the page answers the same, in the same time, for an address with an account and without."""

    email = forms.EmailField(label="Email", max_length=254, widget=forms.EmailInput(attrs={"autocomplete": "email"}))

    def save(self, *, request, **_ignored) -> None:
        from .services import password_reset_request

        password_reset_request(
            email=self.cleaned_data["email"], domain=request.get_host(), use_https=request.is_secure()
        )


class TwoFactorCodeForm(forms.Form):
    code = forms.CharField(
        label="Code from your authenticator app",
        max_length=12,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "pattern": "[0-9 ]*", "autofocus": True}
        ),
    )


class SecuritySettingsForm(forms.ModelForm):
    class Meta:
        model = SecuritySettings
        fields = ["require_two_factor"]
        labels = {"require_two_factor": "Require two-factor sign-in for all staff"}


def _action_choices() -> list[tuple[str, str]]:
    prefixes = sorted({a.split(".")[0] for a in AuditEntry.objects.values_list("action", flat=True).distinct()})
    return [("", "Any action"), *[(p, p.replace("_", " ").capitalize()) for p in prefixes]]


class AuditFilterForm(forms.Form):
    actor = forms.ModelChoiceField(queryset=User.objects.order_by("email"), required=False, empty_label="Anyone")
    action = forms.ChoiceField(required=False)
    target = forms.CharField(required=False, max_length=100, label="Object contains")
    since = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["action"].choices = _action_choices()
        for name, field in self.fields.items():
            field.widget.attrs["class"] = (
                "form-select form-select-sm" if name in ("actor", "action") else ("form-control form-control-sm")
            )
