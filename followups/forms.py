from django import forms

from accounts.models import User

from . import loop
from .models import LoopTemplate, Outcome, OutreachChannel, SlaPolicy


def assignee_queryset(user, team_id):
    """Whom a task can be given to: active staff of the task's team (any team for Admins)."""
    staff = User.objects.filter(is_active=True)
    if user.is_admin and team_id is None:
        return staff
    return staff.filter(team_id=team_id)


class AssignForm(forms.Form):
    assignee = forms.ModelChoiceField(
        queryset=User.objects.none(),
        required=False,
        empty_label="Unassigned (team queue)",
        widget=forms.Select(attrs={"class": "form-select form-select-sm"}),
    )

    def __init__(self, *args, queryset=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = queryset if queryset is not None else User.objects.none()


class BulkAssignForm(AssignForm):
    tasks = forms.CharField(widget=forms.HiddenInput, required=False)


class OutreachForm(forms.Form):
    channel = forms.ChoiceField(choices=OutreachChannel.choices, widget=forms.RadioSelect)
    note = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2, "class": "form-control"}), required=False, max_length=5000
    )


class NoteForm(forms.Form):
    text = forms.CharField(
        label="Note", widget=forms.Textarea(attrs={"rows": 2, "class": "form-control"}), max_length=5000
    )


class CloseForm(forms.Form):
    outcome = forms.ChoiceField(
        choices=[("", "Choose an outcome"), *Outcome.choices],
        widget=forms.Select(attrs={"class": "form-select form-select-sm"}),
    )
    detail = forms.CharField(
        required=False, max_length=300, help_text="Who was referred, where the review is, what was agreed …"
    )

    def __init__(self, *args, task=None, **kwargs):
        super().__init__(*args, **kwargs)
        if task is not None:
            self.fields["outcome"].choices = [
                ("", "Choose an outcome"),
                *[(o.value, o.label) for o in task.outcome_choices],
            ]


class LoopEmailForm(forms.Form):
    subject = forms.CharField(max_length=200)
    body = forms.CharField(label="Message", widget=forms.Textarea(attrs={"rows": 10}), max_length=10_000)

    def _filled(self, name: str) -> str:
        value = self.cleaned_data[name]
        if unfilled := loop.blanks(value):
            raise forms.ValidationError(f"Replace {', '.join(unfilled)} with your own words before sending.")
        return value

    def clean_subject(self) -> str:
        return self._filled("subject")

    def clean_body(self) -> str:
        return self._filled("body")


class LoopTemplateForm(forms.ModelForm):
    class Meta:
        model = LoopTemplate
        fields = ["subject", "body"]
        widgets = {"body": forms.Textarea(attrs={"rows": 9})}

    def clean(self):
        data = super().clean()
        for name in ("subject", "body"):
            if unknown := loop.unknown_fields(data.get(name) or ""):
                braced = ", ".join(f"{{{f}}}" for f in unknown)
                known = ", ".join(f"{{{f}}}" for f in loop.MERGE_FIELDS)
                self.add_error(name, f"Unknown merge field {braced}; use {known}.")
        return data


LoopTemplateFormSet = forms.modelformset_factory(LoopTemplate, form=LoopTemplateForm, extra=0)


class SlaPolicyForm(forms.ModelForm):
    class Meta:
        model = SlaPolicy
        fields = ["segment", "detractor_hours", "passive_business_days", "promoter_days"]
        widgets = {"segment": forms.HiddenInput}


SlaPolicyFormSet = forms.modelformset_factory(SlaPolicy, form=SlaPolicyForm, extra=0)
