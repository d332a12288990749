"""Programs, waves, invitations and events: who is asked, when, and through which stream."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import zoneinfo
from datetime import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.utils import timezone as dj_timezone
from django.utils.translation import gettext, gettext_noop

from accounts.models import validate_timezone

DEFAULT_QUESTION = gettext_noop("How likely are you to recommend {product} to a friend or colleague?")
DEFAULT_REASON_PROMPT = gettext_noop("What is the main reason for your score?")
DEFAULT_SUBJECT = gettext_noop("How likely are you to recommend {product}?")
DEFAULT_INTRO = gettext_noop(
    "We'd love to know how we are doing. Click a score below, then tell us why on the page that opens."
)


def translated_default(value: str, default: str) -> str:
    """A program text left at its default is shown in the customer's language; an edited one as written."""
    return gettext(default) if value == default else value


class Stream(models.TextChoices):
    RELATIONSHIP = "relationship", "Relationship"
    TRANSACTIONAL = "transactional", "Transactional"


class Via(models.TextChoices):
    """How the survey reached the customer: a dimension of every figure (streams stay separate)."""

    EMAIL = "email", "Email"
    LINK = "link", "Shared link"
    IN_APP = "in_app", "In-app"


class Cadence(models.IntegerChoices):
    QUARTERLY = 3, "Quarterly"
    EVERY_4_MONTHS = 4, "Every 4 months"
    TWICE_A_YEAR = 6, "Twice a year"


DEFAULT_QUIET_DAYS = {Stream.RELATIONSHIP: 30, Stream.TRANSACTIONAL: 14}


class ReviewOffer(models.TextChoices):
    PROMOTERS = "promoters", "Promoters only"
    EVERYONE = "everyone", "Everyone who answers"


class Program(models.Model):
    stream = models.CharField(max_length=16, choices=Stream.choices)
    name = models.CharField(max_length=120)
    product_name = models.CharField(max_length=120, help_text="Used in the question: “recommend {product}”.")
    question = models.CharField(max_length=300, default=DEFAULT_QUESTION)
    reason_prompt = models.CharField(max_length=300, default=DEFAULT_REASON_PROMPT)
    sender_name = models.CharField(max_length=120)
    sender_email = models.EmailField()
    subject = models.CharField(
        max_length=200,
        default=DEFAULT_SUBJECT,
        help_text="{product} and {first_name} are filled in.",
    )
    intro = models.TextField(
        blank=True,
        default=DEFAULT_INTRO,
        help_text="A short paragraph above the scale. {product} and {first_name} are filled in.",
    )
    quiet_period_days = models.PositiveSmallIntegerField(
        default=30,
        validators=[MaxValueValidator(365)],
        help_text="After a survey from this program, the contact gets no survey of either stream for this long.",
    )
    reminder_enabled = models.BooleanField("send one reminder", default=True)
    reminder_after_days = models.PositiveSmallIntegerField(default=3, validators=[MinValueValidator(1)])
    link_expiry_days = models.PositiveSmallIntegerField(default=30, validators=[MinValueValidator(1)])
    # Audience: empty lists mean "any".
    audience_segments = models.JSONField(default=list, blank=True)
    audience_plan_tiers = models.JSONField(default=list, blank=True)
    audience_regions = models.JSONField(default=list, blank=True)
    audience_product_lines = models.JSONField(default=list, blank=True)
    audience_include_churned = models.BooleanField(
        "include churned accounts", default=False, help_text="Off: only active accounts are surveyed."
    )
    decision_makers_only = models.BooleanField(default=False)
    is_active = models.BooleanField("active", default=True, help_text="A paused program sends nothing.")
    # Relationship cadence
    cadence_months = models.PositiveSmallIntegerField(
        choices=Cadence.choices,
        default=Cadence.QUARTERLY,
        help_text="Quarterly is the norm. More often causes survey fatigue; yearly is too slow to act on.",
    )
    send_day = models.PositiveSmallIntegerField(
        "day of the month", default=1, validators=[MinValueValidator(1), MaxValueValidator(28)]
    )
    send_hour = models.PositiveSmallIntegerField(default=9, validators=[MaxValueValidator(23)])
    timezone = models.CharField(max_length=64, default="UTC", validators=[validate_timezone])
    start_date = models.DateField(default=dj_timezone.localdate)
    # Sending: in each recipient's own time zone (surveys.windows), spread and capped; a cap defers, never drops.
    send_days = models.JSONField(
        "send on", default=list, blank=True, help_text="Weekdays in the recipient's time zone. None ticked: any day."
    )
    window_start_hour = models.PositiveSmallIntegerField(
        "from", default=0, validators=[MaxValueValidator(23)], help_text="Hour of the day, the recipient's local time."
    )
    window_end_hour = models.PositiveSmallIntegerField(
        "until", default=24, validators=[MinValueValidator(1), MaxValueValidator(24)],
        help_text="Hour of the day, the recipient's local time (24: midnight).",
    )  # fmt: skip
    spread_days = models.PositiveSmallIntegerField(
        "spread a wave over", default=1, validators=[MinValueValidator(1), MaxValueValidator(30)],
        help_text="Send days. 1: the whole wave in its first window.",
    )  # fmt: skip
    daily_cap = models.PositiveIntegerField(
        "at most per day", null=True, blank=True, validators=[MinValueValidator(1)],
        help_text="Surveys from this program per day; the rest wait for the next day. Empty: no cap.",
    )  # fmt: skip
    domain_hourly_cap = models.PositiveIntegerField(
        "at most per recipient domain per hour", null=True, blank=True, validators=[MinValueValidator(1)],
        help_text="Protects big customers' inboxes and your deliverability; the rest wait an hour. Empty: no cap.",
    )  # fmt: skip
    warmup_first_day = models.PositiveIntegerField(
        "warm-up: first day's cap",
        null=True,
        blank=True,
        validators=[MinValueValidator(1)],
        help_text="For a new sending domain: at most this many surveys from it on its first day, doubling each day. "
        "Empty: no warm-up.",
    )
    # A public link (and its QR code) anyone may answer from: events, kiosks, support signatures.
    share_token = models.CharField(max_length=43, null=True, blank=True, unique=True, editable=False)
    # The in-app widget (surveys.widget): the host's backend signs its users with this secret.
    widget_secret = models.CharField(max_length=80, blank=True, editable=False)
    widget_origins = models.TextField(
        "widget origins", blank=True, help_text="The sites that embed the widget, one origin per line "
        "(https://app.example.com). Others may not call it from a browser.",
    )  # fmt: skip
    # Transactional trigger
    event_types = models.JSONField(default=list, blank=True)
    delay_minutes = models.PositiveIntegerField(default=60, help_text="How long after the event to send.")
    cap_per_contact = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="At most this many surveys from this program per contact in the window."
    )
    cap_window_days = models.PositiveSmallIntegerField(default=90, validators=[MinValueValidator(1)])
    # After the answer
    edit_window_hours = models.PositiveSmallIntegerField(
        default=24,
        validators=[MaxValueValidator(720)],
        help_text="For this long after answering, the customer may change score and reason from the same link.",
    )
    review_url = models.URLField(
        "review link", blank=True, help_text="Where to leave a public review (G2, Capterra, Trustpilot …). Optional."
    )
    review_offer = models.CharField(
        "offer the review link to",
        max_length=16,
        choices=ReviewOffer.choices,
        default=ReviewOffer.EVERYONE,
        help_text=(
            "Some review sites forbid asking only happy customers (“review gating”): Google and Trustpilot, "
            "for instance. Offer the link to everyone for those."
        ),
    )
    reask_after_days = models.PositiveSmallIntegerField(
        "re-ask recovered detractors after (days)",
        null=True,
        blank=True,
        validators=[MinValueValidator(7), MaxValueValidator(365)],
        help_text="When a Recovery task closes as recovered, ask the contact the same question again after this "
        "many days, to confirm the recovery. Empty: never.",
    )
    referral_enabled = models.BooleanField(
        "ask promoters for a referral", default=True, help_text="Promoters see a short form to refer a colleague."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["stream", "name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(window_start_hour__lt=models.F("window_end_hour")), name="send_window_opens_first"
            )
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def has_window(self) -> bool:
        return bool(self.send_days) or self.window_start_hour > 0 or self.window_end_hour < 24

    @property
    def sending_label(self) -> str:
        """How the program sends, in words: window, spread and caps."""
        names = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
        days = ", ".join(names[d] for d in sorted(self.send_days)) if self.send_days else "any day"
        parts = [f"{days}, {self.window_start_hour:02d}:00–{self.window_end_hour:02d}:00 in each recipient's time zone"]
        if self.is_relationship and self.spread_days > 1:
            parts.append(f"a wave spread over {self.spread_days} send days")
        if self.daily_cap:
            parts.append(f"at most {self.daily_cap} a day")
        if self.domain_hourly_cap:
            parts.append(f"at most {self.domain_hourly_cap} an hour per recipient domain")
        if self.warmup_first_day:
            parts.append(f"warming up from {self.warmup_first_day} on the first day, doubling daily")
        return "; ".join(parts)

    @property
    def is_relationship(self) -> bool:
        return self.stream == Stream.RELATIONSHIP

    @property
    def question_text(self) -> str:
        return fill(translated_default(self.question, DEFAULT_QUESTION), product=self.product_name)

    @property
    def reason_prompt_text(self) -> str:
        return translated_default(self.reason_prompt, DEFAULT_REASON_PROMPT)

    @property
    def subject_text(self) -> str:
        return translated_default(self.subject, DEFAULT_SUBJECT)

    @property
    def intro_text(self) -> str:
        return translated_default(self.intro, DEFAULT_INTRO)

    @property
    def tz(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.timezone)

    @property
    def sender(self) -> str:
        from email.utils import formataddr

        return formataddr((self.sender_name, self.sender_email))


def fill(template: str, **values: str) -> str:
    """Replace {name} placeholders, and nothing else (no attribute access, unlike str.format)."""
    for name, value in values.items():
        template = template.replace("{" + name + "}", value)
    return template


class Wave(models.Model):
    """One send of a relationship program for one period ("2026-Q4")."""

    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="waves")
    period = models.CharField(max_length=16)
    scheduled_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)
    started_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    eligible_count = models.PositiveIntegerField(default=0)
    skipped = models.JSONField(default=dict, blank=True, help_text="Contacts left out, counted by reason.")

    class Meta:
        ordering = ["-scheduled_at"]
        constraints = [models.UniqueConstraint(fields=["program", "period"], name="one_wave_per_program_period")]

    def __str__(self) -> str:
        return f"{self.program} {self.period}"


class InvitationQuerySet(models.QuerySet):
    def due(self, now: datetime) -> InvitationQuerySet:
        """Emailed invitations whose send time has come (a shared link's answers are never emailed)."""
        return self.filter(email__isnull=True, skipped_reason="", send_at__lte=now, via=Via.EMAIL)


class Invitation(models.Model):
    """A contact asked once, through one program: the link's token, its emails, its expiry."""

    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="invitations")
    stream = models.CharField(max_length=16, choices=Stream.choices)
    wave = models.ForeignKey(Wave, null=True, blank=True, on_delete=models.CASCADE, related_name="invitations")
    event = models.OneToOneField("Event", null=True, blank=True, on_delete=models.SET_NULL, related_name="invitation")
    contact = models.ForeignKey("customers.Contact", on_delete=models.CASCADE, related_name="invitations")
    account = models.ForeignKey("customers.Account", on_delete=models.CASCADE, related_name="invitations")
    properties = models.JSONField(default=dict, blank=True, help_text="The event's touchpoint, channel, agent …")
    is_test = models.BooleanField(default=False, help_text='A staff member\'s "Send a test to me".')
    via = models.CharField("survey channel", max_length=16, choices=Via.choices, default=Via.EMAIL)
    # The link token is never stored: nonce + SECRET_KEY derive it, and its hash finds the row.
    token_nonce = models.CharField(max_length=32, editable=False)
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    send_at = models.DateTimeField(db_index=True)
    expires_at = models.DateTimeField()
    quiet_until = models.DateTimeField(db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)
    skipped_reason = models.CharField(max_length=32, blank=True)
    email = models.OneToOneField(
        "outbox.OutgoingEmail", null=True, blank=True, on_delete=models.SET_NULL, related_name="invitation"
    )
    reminder_email = models.OneToOneField(
        "outbox.OutgoingEmail", null=True, blank=True, on_delete=models.SET_NULL, related_name="reminded_invitation"
    )
    responded_at = models.DateTimeField(null=True, blank=True)

    objects = InvitationQuerySet.as_manager()

    class Meta:
        ordering = ["-send_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["wave", "contact"],
                condition=models.Q(wave__isnull=False),
                name="one_invitation_per_wave_contact",
            ),
        ]
        indexes = [
            models.Index(fields=["contact", "quiet_until"]),
            # What the tick prepares next (InvitationQuerySet.due), soonest first. Partial: a prepared
            # invitation leaves it, so each chunk of a million-contact wave reads only what is left,
            # where an index on send_at walked past every invitation already prepared (quadratic).
            models.Index(
                fields=["send_at", "id"],
                condition=models.Q(email__isnull=True, skipped_reason="", via="email"),
                name="invitation_due",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.program} → {self.contact}"

    @staticmethod
    def new_token_fields() -> dict[str, str]:
        nonce = secrets.token_hex(16)  # 128 bits from secrets
        return {"token_nonce": nonce, "token_hash": token_hash(derive_token(nonce))}

    @property
    def token(self) -> str:
        return derive_token(self.token_nonce)

    @property
    def status(self) -> str:
        if self.skipped_reason:
            return "skipped"
        if self.email_id is None:
            return "scheduled"
        return self.email.status

    @property
    def is_expired(self) -> bool:
        return dj_timezone.now() >= self.expires_at


def derive_token(nonce: str) -> str:
    digest = hmac.new(settings.SECRET_KEY.encode(), f"rebound.invitation:{nonce}".encode(), hashlib.sha256)
    return digest.hexdigest()[:40]  # 160 bits


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class Event(models.Model):
    """An event from another system (ticket resolved, onboarding done …) posted to the API."""

    type = models.CharField(max_length=64)
    contact = models.ForeignKey("customers.Contact", on_delete=models.CASCADE, related_name="events")
    account = models.ForeignKey("customers.Account", on_delete=models.CASCADE, related_name="events")
    occurred_at = models.DateTimeField()
    received_at = models.DateTimeField(auto_now_add=True)
    properties = models.JSONField(default=dict, blank=True)
    idempotency_key = models.CharField(max_length=200, null=True, blank=True, unique=True)
    outcome = models.CharField(max_length=16)
    skip_reason = models.CharField(max_length=32, blank=True)

    class Meta:
        ordering = ["-received_at"]

    def __str__(self) -> str:
        return f"{self.type} for {self.contact}"


class SkipReason(models.TextChoices):
    ACCOUNT_CHURNED = "account_churned", "Account churned"
    UNSUBSCRIBED = "unsubscribed", "Unsubscribed"
    BOUNCED = "bounced", "Bounced"
    OUTSIDE_AUDIENCE = "outside_audience", "Outside the audience"
    QUIET_PERIOD = "quiet_period", "Quiet period"
    CAP_REACHED = "cap_reached", "Per-contact cap reached"
    NO_PROGRAM = "no_program", "No active program for this event type"
    DUPLICATE = "duplicate", "Duplicate idempotency key"
    PROGRAM_PAUSED = "program_paused", "Program paused"


class Category(models.TextChoices):
    PROMOTER = "promoter", "Promoter"
    PASSIVE = "passive", "Passive"
    DETRACTOR = "detractor", "Detractor"


def category_for(score: int) -> str:
    """Promoter 9–10, Passive 7–8, Detractor 0–6. No other cut-offs."""
    if not 0 <= score <= 10:
        raise ValueError(f"An NPS score is 0–10, not {score}.")
    if score >= 9:
        return Category.PROMOTER
    if score >= 7:
        return Category.PASSIVE
    return Category.DETRACTOR


class DeviceClass(models.TextChoices):
    MOBILE = "mobile", "Mobile"
    TABLET = "tablet", "Tablet"
    DESKTOP = "desktop", "Desktop"
    UNKNOWN = "unknown", "Unknown"


REASON_MAX_LENGTH = 5000


def verbatim(reason: str, improvement: str = "") -> str:
    """What the customer wrote: the reason, then "what would make it a 10" (read for tone and themes)."""
    return "\n".join(t for t in (reason, improvement) if t)


class Sentiment(models.TextChoices):
    NEGATIVE = "negative", "Negative"
    NEUTRAL = "neutral", "Neutral"
    POSITIVE = "positive", "Positive"


class Response(models.Model):
    """A customer's answer to one invitation, with the segment values as they were when given.

    The snapshot fields never follow later changes to the account, so history does not move.
    """

    invitation = models.OneToOneField(Invitation, on_delete=models.CASCADE, related_name="response")
    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="responses")
    stream = models.CharField(max_length=16, choices=Stream.choices)
    wave = models.ForeignKey(Wave, null=True, blank=True, on_delete=models.SET_NULL, related_name="responses")
    contact = models.ForeignKey("customers.Contact", on_delete=models.CASCADE, related_name="responses")
    account = models.ForeignKey("customers.Account", on_delete=models.CASCADE, related_name="responses")
    score = models.PositiveSmallIntegerField(validators=[MaxValueValidator(10)])
    category = models.CharField(max_length=16, choices=Category.choices)
    reason = models.TextField(blank=True, max_length=REASON_MAX_LENGTH)
    improvement = models.TextField(
        "what would make it a 10", blank=True, max_length=REASON_MAX_LENGTH, help_text="Asked of passives."
    )
    # Snapshot at answer time
    segment = models.CharField(max_length=16, blank=True)
    plan_tier = models.CharField(max_length=50, blank=True)
    industry = models.CharField(max_length=100, blank=True)
    company_size = models.CharField(max_length=16, blank=True)
    region = models.CharField(max_length=50, blank=True)
    arr_tier = models.CharField(max_length=16, blank=True)
    product_line = models.CharField(max_length=100, blank=True)
    csm = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    team = models.ForeignKey("accounts.Team", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    cohort = models.CharField(max_length=8, blank=True, help_text="The quarter the customer started: 2024-Q2.")
    tenure_months = models.PositiveIntegerField(null=True, blank=True)
    touchpoint = models.CharField(max_length=64, blank=True)
    channel = models.CharField(max_length=64, blank=True)
    agent = models.CharField(max_length=200, blank=True)
    language = models.CharField(max_length=8, blank=True)
    device_class = models.CharField(max_length=8, choices=DeviceClass.choices, default=DeviceClass.UNKNOWN)
    # The answer to a test invitation: routed like any other (try the loop end to end), counted nowhere.
    is_test = models.BooleanField(default=False)
    source = models.CharField(
        max_length=16, blank=True, help_text="Where an imported answer came from (delighted, csv); empty: asked here."
    )
    source_id = models.CharField(max_length=200, blank=True, help_text="Its id there: a re-import changes nothing.")
    via = models.CharField("survey channel", max_length=16, choices=Via.choices, default=Via.EMAIL)
    follow_up = models.JSONField(
        default=dict, blank=True, help_text="Answers to the program's follow-up questions: {question id: answer}."
    )
    # The written text's tone, read on this machine by insights.text after each change (empty: no text yet).
    sentiment = models.CharField(max_length=8, choices=Sentiment.choices, blank=True)
    sentiment_score = models.FloatField(null=True, blank=True, help_text="−1 (negative) … +1 (positive).")
    submitted_at = models.DateTimeField(default=dj_timezone.now)
    updated_at = models.DateTimeField(default=dj_timezone.now)
    # Set when the consumers (follow-up routing, theme tags) have seen the latest change; NULL
    # while they have not (surveys.answers routes after the commit, the tick sweeps the rest).
    routed_at = models.DateTimeField(null=True, blank=True)
    routed_category = models.CharField(
        max_length=16, blank=True, help_text="The category the follow-ups were last routed for."
    )

    class Meta:
        ordering = ["-submitted_at"]
        constraints = [
            models.CheckConstraint(condition=models.Q(score__lte=10), name="response_score_0_10"),
            models.CheckConstraint(
                condition=(
                    models.Q(category="promoter", score__gte=9)
                    | models.Q(category="passive", score__in=[7, 8])
                    | models.Q(category="detractor", score__lte=6)
                ),
                name="response_category_matches_score",
            ),
            # An imported answer once per source: importing the same history twice changes nothing.
            models.UniqueConstraint(
                fields=["source", "source_id"], condition=~models.Q(source=""), name="response_import_once"
            ),
        ]
        indexes = [
            models.Index(fields=["stream", "submitted_at"]),
            models.Index(fields=["account", "submitted_at"]),
            models.Index(fields=["updated_at"], condition=models.Q(routed_at__isnull=True), name="response_unrouted"),
            models.Index(fields=["updated_at"], name="response_updated"),  # changes the rollups re-read
            # The insights page's follow-up answers: the few responses that have them, not a scan of all.
            models.Index(
                fields=["stream", "submitted_at"], condition=~models.Q(follow_up={}), name="response_follow_up"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.score} from {self.contact} ({self.stream})"

    @property
    def verbatim(self) -> str:
        return verbatim(self.reason, self.improvement)

    def editable_until(self) -> datetime:
        from datetime import timedelta

        return self.submitted_at + timedelta(hours=self.program.edit_window_hours)


class QuestionKind(models.TextChoices):
    CHOICE = "choice", "Single choice"
    MULTIPLE = "multiple", "Multiple choice"
    RATING = "rating", "Rating 1–5"
    TEXT = "text", "Short text"


class AskWhom(models.TextChoices):
    EVERYONE = "", "Everyone"
    DETRACTOR = "detractor", "Detractors (0–6)"
    PASSIVE = "passive", "Passives (7–8)"
    PROMOTER = "promoter", "Promoters (9–10)"


MAX_QUESTIONS = 5


class Question(models.Model):
    """A follow-up question of a program, asked on the thank-you page to everyone or one category.

    Options are stored one per line, in English and optionally German (same order); an answer is kept
    as the English option, so answers in both languages count together."""

    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="questions")
    position = models.PositiveSmallIntegerField(default=0)
    kind = models.CharField(max_length=16, choices=QuestionKind.choices, default=QuestionKind.CHOICE)
    ask = models.CharField("ask", max_length=16, choices=AskWhom.choices, default=AskWhom.EVERYONE, blank=True)
    text = models.CharField("question", max_length=200)
    text_de = models.CharField("question (German)", max_length=200, blank=True)
    options = models.TextField(blank=True, help_text="Choices, one per line (choice questions).")
    options_de = models.TextField("options (German)", blank=True, help_text="The same choices in German, same order.")

    class Meta:
        ordering = ["program", "position", "pk"]

    def __str__(self) -> str:
        return self.text

    @property
    def option_list(self) -> list[str]:
        return [line.strip() for line in self.options.splitlines() if line.strip()]

    def options_in(self, language: str) -> list[tuple[str, str]]:
        """(stored value, label shown) per option, in the language."""
        german = [line.strip() for line in self.options_de.splitlines() if line.strip()]
        labels = german if language == "de" and len(german) == len(self.option_list) else self.option_list
        return list(zip(self.option_list, labels, strict=True))

    def text_in(self, language: str) -> str:
        return self.text_de if language == "de" and self.text_de else self.text

    def asks(self, category: str) -> bool:
        return not self.ask or self.ask == category


class Referral(models.Model):
    """A colleague a promoter referred from the thank-you page."""

    response = models.ForeignKey(Response, on_delete=models.CASCADE, related_name="referrals")
    name = models.CharField(max_length=200)
    email = models.EmailField()
    company = models.CharField(max_length=200, blank=True)
    note = models.TextField(blank=True, max_length=2000)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [models.UniqueConstraint(fields=["response", "email"], name="one_referral_per_email")]

    def __str__(self) -> str:
        return f"{self.name} <{self.email}>"


class LatestAnswer(models.Model):
    """Each contact's latest relationship response, kept current as answers are routed.

    Account NPS, accounts at risk and outcomes by category read this (one row per contact) instead
    of finding the latest of a contact's answers among every response, so their cost grows with
    contacts, not with the answers ever given. An edit inside the edit window changes the response
    row itself, which this points to, so the figures stay exact."""

    contact = models.OneToOneField("customers.Contact", on_delete=models.CASCADE, primary_key=True, related_name="+")
    response = models.OneToOneField(Response, on_delete=models.CASCADE, related_name="latest_for")
    account = models.ForeignKey("customers.Account", on_delete=models.CASCADE, related_name="+")
    submitted_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["account", "submitted_at"], name="latestanswer_account_time")]

    def __str__(self) -> str:
        return f"Latest answer of contact {self.contact_id}"


def _accent_colour(value: str) -> None:
    from .branding import contrast_with_white

    if contrast_with_white(value) < 4.5:
        raise ValidationError(
            "Too light: white text on this colour, and this colour on white, would be hard to read "
            "(contrast below 4.5:1). Choose a darker shade."
        )


class Branding(models.Model):
    """What customers see of the company that asks: its name, logo and accent colour (one row).

    Shown on the customer pages (answer, thank-you, unsubscribe) and in survey emails. The logo is
    kept in the database (PNG or JPEG, up to 200 kB) so that a backup holds it and nothing needs a
    media server.
    """

    company_name = models.CharField(
        max_length=120, blank=True, help_text="Shown above the question and in the email's sign-off."
    )
    accent = models.CharField(
        "accent colour",
        max_length=7,
        default="#0d6efd",
        validators=[RegexValidator(r"^#[0-9a-fA-F]{6}$", "A colour as #RRGGBB, for example #0d6efd."), _accent_colour],
        help_text="Score buttons, links and the Send button. White text must be readable on it.",
    )
    logo = models.BinaryField(null=True, blank=True, editable=False)
    logo_type = models.CharField(max_length=20, blank=True, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "branding"

    def __str__(self) -> str:
        return self.company_name or "Branding"

    @property
    def version(self) -> str:
        """Changes whenever the branding does: the stylesheet's and logo's URLs carry it (cached for a year)."""
        return str(int(self.updated_at.timestamp())) if self.updated_at else "0"

    @classmethod
    def current(cls) -> Branding:
        """The branding row (an unsaved default before an Admin sets one)."""
        return cls.objects.filter(pk=1).first() or cls(pk=1)
