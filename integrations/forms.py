from django import forms

from .models import CHAT_EVENTS, SUBSCRIBABLE, Format, Subscription
from .webhooks import UnsafeURL, check_url


class SubscriptionForm(forms.ModelForm):
    url = forms.URLField(
        label="URL", max_length=500, assume_scheme="https", help_text="Where Rebound POSTs the events (HTTPS)."
    )
    events = forms.MultipleChoiceField(
        choices=SUBSCRIBABLE, widget=forms.CheckboxSelectMultiple, help_text="Tick at least one."
    )

    class Meta:
        model = Subscription
        fields = ["url", "format", "team", "description", "events", "is_active"]

    def clean_url(self) -> str:
        url = self.cleaned_data["url"]
        try:
            check_url(url)
        except UnsafeURL as exc:
            raise forms.ValidationError(str(exc)) from None
        return url

    def clean(self):
        data = super().clean()
        chat = data.get("format") in (Format.SLACK, Format.TEAMS)
        other = [e for e in data.get("events") or [] if e not in CHAT_EVENTS]
        if chat and other:
            self.add_error(
                "events",
                "Slack and Teams get new Detractors (task.created), SLA breaches and decline alerts only; "
                f"untick {', '.join(other)}.",
            )
        return data
