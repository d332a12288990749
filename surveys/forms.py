from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from customers.models import Account, Segment

from .branding import LOGO_MAX_BYTES, logo_type
from .models import (
    DEFAULT_QUIET_DAYS,
    MAX_QUESTIONS,
    REASON_MAX_LENGTH,
    Branding,
    Program,
    Question,
    QuestionKind,
    Stream,
)

COMMON_FIELDS = [
    "name", "product_name", "question", "reason_prompt", "sender_name", "sender_email", "subject", "intro",
    "quiet_period_days", "reminder_enabled", "reminder_after_days", "link_expiry_days",
    "audience_segments", "audience_plan_tiers", "audience_regions", "audience_product_lines",
    "audience_include_churned", "decision_makers_only", "is_active",
    "edit_window_hours", "review_url", "review_offer", "referral_enabled",
    "send_days", "window_start_hour", "window_end_hour", "daily_cap", "domain_hourly_cap", "warmup_first_day",
]  # fmt: skip
SENDING_FIELDS = ["send_days", "window_start_hour", "window_end_hour", "spread_days", "daily_cap", "domain_hourly_cap",
                  "warmup_first_day"]  # fmt: skip
RELATIONSHIP_FIELDS = ["cadence_months", "send_day", "send_hour", "timezone", "start_date", "spread_days"]
TRANSACTIONAL_FIELDS = ["event_types", "delay_minutes", "cap_per_contact", "cap_window_days"]


# The editor's sections, in the order an Admin thinks them through (fields a stream lacks are skipped).
SECTIONS = [
    ("The question", ["name", "product_name", "question", "reason_prompt"]),
    ("The email", ["sender_name", "sender_email", "subject", "intro"]),
    ("Who is asked", ["audience_segments", "audience_plan_tiers", "audience_regions", "audience_product_lines",
                      "audience_include_churned", "decision_makers_only"]),
    ("When", [*(f for f in RELATIONSHIP_FIELDS if f not in SENDING_FIELDS), *TRANSACTIONAL_FIELDS,
              "quiet_period_days", "reminder_enabled",
              "reminder_after_days", "link_expiry_days"]),
    ("Sending, in each recipient's time zone", SENDING_FIELDS),
    ("After the answer", ["edit_window_hours", "review_url", "review_offer", "referral_enabled"]),
    ("Status", ["is_active"]),
]  # fmt: skip


def _distinct(field: str) -> list[tuple[str, str]]:
    values = Account.objects.exclude(**{field: ""}).order_by(field).values_list(field, flat=True).distinct()
    return [(v, v) for v in values]


WEEKDAYS = [(0, "Mon"), (1, "Tue"), (2, "Wed"), (3, "Thu"), (4, "Fri"), (5, "Sat"), (6, "Sun")]
HOURS = [(h, f"{h:02d}:00") for h in range(25)]
# What a new program starts from: B2B inboxes are read on working days, mornings best.
RECOMMENDED_WINDOW = {
    Stream.RELATIONSHIP: {"send_days": [1, 2, 3], "window_start_hour": 9, "window_end_hour": 11},
    Stream.TRANSACTIONAL: {"send_days": [0, 1, 2, 3, 4], "window_start_hour": 8, "window_end_hour": 18},
}


class ProgramForm(forms.ModelForm):
    send_days = forms.TypedMultipleChoiceField(
        label="Send on",
        choices=WEEKDAYS,
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Weekdays in the recipient's time zone (theirs, else their account region's, else the program's). "
        "None ticked: any day.",
    )
    window_start_hour = forms.TypedChoiceField(label="From", choices=HOURS[:24], coerce=int, required=False)
    window_end_hour = forms.TypedChoiceField(label="Until", choices=HOURS[1:], coerce=int, required=False)
    audience_segments = forms.MultipleChoiceField(
        choices=Segment.choices, required=False, widget=forms.CheckboxSelectMultiple, help_text="None ticked: all."
    )
    audience_plan_tiers = forms.MultipleChoiceField(required=False, widget=forms.CheckboxSelectMultiple)
    audience_regions = forms.MultipleChoiceField(required=False, widget=forms.CheckboxSelectMultiple)
    audience_product_lines = forms.MultipleChoiceField(required=False, widget=forms.CheckboxSelectMultiple)
    event_types = forms.CharField(
        required=False,
        help_text="Comma-separated, e.g. ticket_resolved, onboarding_completed, milestone_reached.",
    )
    review_url = forms.URLField(
        label=Program._meta.get_field("review_url").verbose_name.capitalize(),
        required=False,
        assume_scheme="https",
        help_text=Program._meta.get_field("review_url").help_text,
    )

    class Meta:
        model = Program
        fields = COMMON_FIELDS + RELATIONSHIP_FIELDS + TRANSACTIONAL_FIELDS
        widgets = {
            "intro": forms.Textarea(attrs={"rows": 3}),
            "start_date": forms.DateInput(attrs={"type": "date"}),
        }

    def __init__(self, *args, stream: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.stream = stream
        for name, field in (("audience_plan_tiers", "plan_tier"), ("audience_regions", "region"),
                            ("audience_product_lines", "product_line")):  # fmt: skip
            current = [(v, v) for v in (self.initial.get(name) or [])]
            self.fields[name].choices = sorted(set(_distinct(field)) | set(current))
            self.fields[name].help_text = "None ticked: all."
        drop = TRANSACTIONAL_FIELDS if stream == Stream.RELATIONSHIP else RELATIONSHIP_FIELDS
        for name in drop:
            del self.fields[name]
        if not self.instance.pk:
            self.initial.setdefault("quiet_period_days", DEFAULT_QUIET_DAYS[stream])
            for name, value in RECOMMENDED_WINDOW[stream].items():
                self.initial.setdefault(name, value)
        if "spread_days" in self.fields:
            self.fields["spread_days"].required = False
        if stream == Stream.TRANSACTIONAL:
            self.initial["event_types"] = ", ".join(self.instance.event_types or [])
            self.fields["event_types"].required = True
        self.sections = [(title, [self[name] for name in names if name in self.fields]) for title, names in SECTIONS]

    def clean_event_types(self) -> list[str]:
        raw = self.cleaned_data.get("event_types") or ""
        types = [t.strip() for t in raw.split(",") if t.strip()]
        bad = [t for t in types if not t.replace("_", "").replace(".", "").replace("-", "").isalnum() or len(t) > 64]
        if bad:
            raise forms.ValidationError(f"Use letters, digits, _ . - only: {', '.join(bad)}")
        if self.stream == Stream.TRANSACTIONAL and not types:
            raise forms.ValidationError("Name at least one event type.")
        taken = set()
        others = Program.objects.filter(stream=Stream.TRANSACTIONAL).exclude(pk=self.instance.pk)
        for program in others:
            taken |= set(program.event_types) & set(types)
        if taken:
            raise forms.ValidationError(f"Already handled by another program: {', '.join(sorted(taken))}")
        return types

    def clean(self):
        data = super().clean()
        # Left out of a post (an older client): the program's current window, else any time.
        for name in ("window_start_hour", "window_end_hour", "spread_days"):
            if name in self.fields and data.get(name) in (None, ""):
                data[name] = getattr(self.instance, name)
        if data["window_start_hour"] >= data["window_end_hour"]:
            self.add_error("window_end_hour", "The window must end after it opens (24:00 is midnight).")
        return data

    def clean_question(self) -> str:
        question = self.cleaned_data["question"]
        if "{product}" not in question and self.cleaned_data.get("product_name", "") not in question:
            raise forms.ValidationError("Keep {product} in the question, so customers know what they rate.")
        return question

    def save(self, commit: bool = True) -> Program:
        program = super().save(commit=False)
        program.stream = self.stream
        if commit:
            program.save()
        return program


# Customer forms: plain fields, so any HTTP client can post them.


SCORE_TEXTS = frozenset(str(n) for n in range(11))


class ScoreField(forms.IntegerField):
    """A score as the page posts it, "0" to "10" exactly: no spaces, decimals or other digits ("٣").
    Not a choice field of eleven: the page draws its own scale, and a choice field deep-copies its
    choices on every answer posted."""

    def to_python(self, value):
        if value in self.empty_values:
            return None
        if str(value) not in SCORE_TEXTS:
            raise ValidationError(self.error_messages["invalid"], code="invalid")
        return int(value)


class AnswerForm(forms.Form):
    score = ScoreField(
        error_messages={
            "required": _("Please choose a score from 0 to 10."),
            "invalid": _("The score must be a whole number from 0 to 10."),
        },
    )
    reason = forms.CharField(
        required=False,
        strip=False,  # stored as given
        max_length=REASON_MAX_LENGTH,
        widget=forms.Textarea,
        error_messages={"max_length": _("Please keep your answer under %(limit_value)d characters.")},
    )

    def clean_reason(self) -> str:
        return _comment(self.cleaned_data["reason"])

    @classmethod
    def values(cls, data) -> dict | None:
        """The cleaned answer when `data` is valid, else None (a form instance then says why): the
        class's own fields and cleaning, without the copy of its fields that each instance makes
        for rendering (2.4 µs against 24 µs for a form instance, on the answer's hot path)."""
        cleaned = {}
        try:
            for name, field in cls.base_fields.items():
                cleaned[name] = field.clean(field.widget.value_from_datadict(data, {}, name))
        except ValidationError:
            return None
        cleaned["reason"] = _comment(cleaned["reason"])
        return cleaned


def _comment(text: str) -> str:
    return text if text.strip() else ""  # blank lines are no comment; real text is kept as given


class ImprovementForm(forms.Form):
    improvement = forms.CharField(
        strip=False,
        max_length=REASON_MAX_LENGTH,
        widget=forms.Textarea,
        error_messages={
            "required": _("Please write a few words, or skip this."),
            "max_length": _("Please keep your answer under %(limit_value)d characters."),
        },
    )


class ReferralForm(forms.Form):
    name = forms.CharField(label=_("Their name"), max_length=200)
    email = forms.EmailField(label=_("Their email"))
    company = forms.CharField(label=_("Their company"), max_length=200, required=False)
    note = forms.CharField(label=_("A note for us (optional)"), max_length=2000, required=False, widget=forms.Textarea)


class BrandingForm(forms.ModelForm):
    logo_file = forms.FileField(
        label="Logo",
        required=False,
        help_text="PNG or JPEG, up to 200 kB; shown about 40 px high above the question.",
        widget=forms.ClearableFileInput(attrs={"accept": "image/png,image/jpeg"}),
    )
    remove_logo = forms.BooleanField(label="Remove the logo", required=False)

    class Meta:
        model = Branding
        fields = ["company_name", "accent"]
        widgets = {"accent": forms.TextInput(attrs={"type": "color"})}

    def clean_logo_file(self):
        upload = self.cleaned_data.get("logo_file")
        if not upload:
            return None
        if upload.size > LOGO_MAX_BYTES:
            raise forms.ValidationError(f"The logo is {upload.size // 1024} kB; it can be 200 kB at most.")
        data = upload.read()
        content_type = logo_type(data)
        if content_type is None:
            raise forms.ValidationError("A logo must be a PNG or JPEG image.")
        return data, content_type

    def save(self, commit: bool = True) -> Branding:
        brand = super().save(commit=False)
        if self.cleaned_data.get("remove_logo"):
            brand.logo, brand.logo_type = None, ""
        elif self.cleaned_data.get("logo_file"):
            brand.logo, brand.logo_type = self.cleaned_data["logo_file"]
        if commit:
            brand.save()
        return brand


# Follow-up questions ------------------------------------------------------------------------------

FOLLOW_UP_TEXT_MAX = 500


class QuestionForm(forms.ModelForm):
    class Meta:
        model = Question
        fields = ["text", "text_de", "kind", "ask", "options", "options_de"]
        widgets = {"options": forms.Textarea(attrs={"rows": 3}), "options_de": forms.Textarea(attrs={"rows": 3})}

    def clean(self):
        data = super().clean()
        kind, english = data.get("kind"), [o for o in (data.get("options") or "").splitlines() if o.strip()]
        german = [o for o in (data.get("options_de") or "").splitlines() if o.strip()]
        if kind in (QuestionKind.CHOICE, QuestionKind.MULTIPLE):
            if len(english) < 2:
                self.add_error("options", "A choice question needs at least two options, one per line.")
            elif len(set(english)) != len(english):
                self.add_error("options", "Each option once.")
            if german and len(german) != len(english):
                self.add_error("options_de", f"Give all {len(english)} options in German, in the same order, or none.")
        elif english or german:
            self.add_error("options", "Only choice questions have options.")
        return data


class BaseQuestionFormSet(forms.BaseInlineFormSet):
    default_error_messages = {
        "too_many_forms": f"At most {MAX_QUESTIONS} follow-up questions: the thank-you page must stay short.",
    }

    def clean(self):
        super().clean()
        kept = [f for f in self.forms if f.cleaned_data and not f.cleaned_data.get("DELETE")]
        if len(kept) > MAX_QUESTIONS:
            raise forms.ValidationError(f"At most {MAX_QUESTIONS} follow-up questions: the page must stay short.")


QuestionFormSet = forms.inlineformset_factory(
    Program, Question, form=QuestionForm, formset=BaseQuestionFormSet, extra=1, max_num=MAX_QUESTIONS,
    validate_max=True, can_delete=True,
)  # fmt: skip


class FollowUpForm(forms.Form):
    """The follow-up questions a customer sees on the thank-you page: those of the program asked of
    their category, in their language; all optional. ``answers()`` keys them by question id."""

    def __init__(self, *args, questions: list[Question], language: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.questions = questions
        for question in questions:
            label = question.text_in(language)
            name = f"q{question.pk}"
            if question.kind == QuestionKind.CHOICE:
                field = forms.ChoiceField(choices=question.options_in(language), widget=forms.RadioSelect)
            elif question.kind == QuestionKind.MULTIPLE:
                field = forms.MultipleChoiceField(
                    choices=question.options_in(language), widget=forms.CheckboxSelectMultiple
                )
            elif question.kind == QuestionKind.RATING:
                field = forms.TypedChoiceField(
                    choices=[(n, n) for n in range(1, 6)], coerce=int, widget=forms.RadioSelect
                )
            else:
                field = forms.CharField(
                    max_length=FOLLOW_UP_TEXT_MAX,
                    error_messages={"max_length": _("Please keep your answer under %(limit_value)d characters.")},
                )
            field.label, field.required = label, False
            field.error_messages["invalid_choice"] = _("Please pick one of the options.")
            self.fields[name] = field

    def answers(self) -> dict[str, object]:
        return {name[1:]: value for name, value in self.cleaned_data.items() if value not in (None, "", [])}
