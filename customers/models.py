"""Customer accounts (companies) and their contacts."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower

from config.jobs import Job


class Segment(models.TextChoices):
    SMB = "smb", "SMB"
    MID_MARKET = "mid_market", "Mid-Market"
    ENTERPRISE = "enterprise", "Enterprise"


class AccountStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    CHURNED = "churned", "Churned"


class Account(models.Model):
    name = models.CharField(max_length=200)
    # The one account holding staff members as contacts for "Send a test to me" (surveys.services):
    # never listed, never in a wave, its answers in no figure or export.
    is_test = models.BooleanField(default=False, editable=False)
    external_id = models.CharField("external id", max_length=100, unique=True, help_text="The CRM's id.")
    segment = models.CharField(max_length=16, choices=Segment.choices, blank=True)
    plan_tier = models.CharField(max_length=50, blank=True)
    industry = models.CharField(max_length=100, blank=True)
    employee_count = models.PositiveIntegerField(null=True, blank=True)
    arr = models.DecimalField("ARR", max_digits=14, decimal_places=2, null=True, blank=True)
    region = models.CharField(max_length=50, blank=True)
    product_line = models.CharField(max_length=100, blank=True)
    csm = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="owner CSM",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="owned_accounts",
    )
    team = models.ForeignKey("accounts.Team", null=True, blank=True, on_delete=models.SET_NULL, related_name="accounts")
    customer_since = models.DateField(null=True, blank=True)
    renewal_date = models.DateField(null=True, blank=True)
    status = models.CharField(max_length=16, choices=AccountStatus.choices, default=AccountStatus.ACTIVE)
    properties = models.JSONField("custom properties", default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        indexes = [
            models.Index(fields=["team", "name"]),
            models.Index(fields=["segment"]),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def arr_tier(self) -> str:
        return arr_tier(self.arr)

    @property
    def company_size(self) -> str:
        return company_size(self.employee_count)


# Segment bands: (upper limit, label) in ascending order, then the label above the last limit.
ARR_TIERS = (((10_000, "<10k"), (50_000, "10k–50k"), (250_000, "50k–250k"), (1_000_000, "250k–1M")), "1M+")
COMPANY_SIZES = (((50, "1–49"), (250, "50–249"), (1000, "250–999"), (5000, "1000–4999")), "5000+")


def _band(value, bands) -> str:
    """The label of the first band whose upper limit the value is under; "" for no value."""
    if value is None:
        return ""
    limits, top = bands
    for limit, label in limits:
        if value < limit:
            return label
    return top


def band_sql(column: str, bands) -> str:
    """The same band as a SQL expression over `column` (a quoted column name), for statements that
    snapshot an account's segment values in the database (surveys.answers)."""
    limits, top = bands

    def literal(label: str) -> str:
        assert "%" not in label, label  # noqa: S101 - the statement's parameters are %s
        return "'" + label.replace("'", "''") + "'"

    cases = " ".join(f"WHEN {column} < {int(limit)} THEN {literal(label)}" for limit, label in limits)
    return f"CASE WHEN {column} IS NULL THEN '' {cases} ELSE {literal(top)} END"


def arr_tier(arr) -> str:
    """ARR bands used for segmenting scores."""
    return _band(arr, ARR_TIERS)


def company_size(employees: int | None) -> str:
    """Company-size bands (employees) used for segmenting scores."""
    return _band(employees, COMPANY_SIZES)


class ContactQuerySet(models.QuerySet):
    def reachable(self) -> ContactQuerySet:
        """Contacts that may receive a survey at all: neither unsubscribed nor bounced."""
        return self.filter(unsubscribed_at__isnull=True, bounced_at__isnull=True, erased_at__isnull=True)


class Contact(models.Model):
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="contacts")
    email = models.EmailField()
    name = models.CharField(max_length=200, blank=True)
    title = models.CharField(max_length=200, blank=True)
    locale = models.CharField(max_length=16, blank=True, default="en")
    timezone = models.CharField(max_length=64, blank=True, default="")
    decision_maker = models.BooleanField(default=False)
    unsubscribed_at = models.DateTimeField(null=True, blank=True)
    bounced_at = models.DateTimeField(null=True, blank=True)
    bounce_reason = models.TextField(blank=True, help_text="What the mail server or the ESP said.")
    complained_at = models.DateTimeField(null=True, blank=True, help_text="Marked a survey email as spam.")
    erased_at = models.DateTimeField(
        null=True, blank=True, help_text="Personal data removed on request or by retention; scores kept, anonymised."
    )
    external_id = models.CharField("external id", max_length=100, blank=True)
    properties = models.JSONField("custom properties", default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ContactQuerySet.as_manager()

    class Meta:
        ordering = ["name", "email"]
        constraints = [
            # One person, one contact: email is the upsert key of imports and the event API.
            models.UniqueConstraint(Lower("email"), name="contact_email_unique_ci"),
        ]
        indexes = [models.Index(fields=["account", "name"])]

    def __str__(self) -> str:
        return f"{self.name} <{self.email}>" if self.name else self.email

    def save(self, *args, **kwargs) -> None:
        self.email = self.email.strip().lower()
        super().save(*args, **kwargs)

    @property
    def first_name(self) -> str:
        return self.name.split()[0] if self.name.strip() else ""


class ImportKind(models.TextChoices):
    ACCOUNTS = "accounts", "Accounts"
    CONTACTS = "contacts", "Contacts"
    DELIGHTED = "delighted", "Survey history from Delighted (JSON or CSV export)"
    RESPONSES = "responses", "Survey history from any tool (CSV)"


class ImportStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


class ImportJob(Job):
    """One CSV import: its progress while it runs, and the report of every bad row after."""

    kind = models.CharField(max_length=16, choices=ImportKind.choices)
    options = models.JSONField(default=dict, blank=True, help_text="Per kind, e.g. the stream of a history import.")
    file = models.FileField(upload_to="imports/%Y/%m/")
    filename = models.CharField(max_length=255)
    status = models.CharField(max_length=16, choices=ImportStatus.choices, default=ImportStatus.QUEUED)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)
    total_rows = models.PositiveIntegerField(default=0)
    processed_rows = models.PositiveIntegerField(default=0)
    created_count = models.PositiveIntegerField(default=0)
    updated_count = models.PositiveIntegerField(default=0)
    unchanged_count = models.PositiveIntegerField(default=0)
    error_count = models.PositiveIntegerField(default=0)
    errors = models.JSONField(default=list, blank=True, help_text="[{line, reason}], first 1,000")
    message = models.TextField(blank=True, help_text="Why the whole file was refused, or the job stopped.")

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} import {self.filename}"

    @property
    def percent(self) -> int:
        if self.status == ImportStatus.DONE:
            return 100
        return int(100 * self.processed_rows / self.total_rows) if self.total_rows else 0

    @property
    def is_finished(self) -> bool:
        return self.status in (ImportStatus.DONE, ImportStatus.FAILED)
