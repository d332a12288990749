"""POST /api/v1/events/: transactional surveys triggered by other systems; and reads of programs,
waves, invitations and responses."""

from datetime import timedelta

import django_filters
from django.utils import timezone
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_field
from rest_framework import generics, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import scoping
from accounts.permissions import ADMIN_ONLY, ALL_STAFF, StaffApiMixin
from config.inputs import UtcDateTimeFilter

from .models import Category, Invitation, Program, Question, Sentiment, SkipReason, Stream, Wave
from .models import Response as Answer
from .services import event_record


class ContactIn(serializers.Serializer):
    email = serializers.EmailField(max_length=254)
    name = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


class AccountIn(serializers.Serializer):
    external_id = serializers.CharField(max_length=100)
    name = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


class EventIn(serializers.Serializer):
    type = serializers.RegexField(r"^[A-Za-z0-9_.\-]{1,64}$", error_messages={"invalid": "Use letters, digits, _ . -"})
    contact = ContactIn()
    account = AccountIn()
    occurred_at = serializers.DateTimeField()
    properties = serializers.DictField(required=False, default=dict)
    idempotency_key = serializers.CharField(max_length=200, required=False, allow_null=True, allow_blank=True)
    delay_minutes = serializers.IntegerField(required=False, min_value=0, max_value=60 * 24 * 30)

    def validate_occurred_at(self, value):
        if value > timezone.now() + timedelta(hours=1):
            raise serializers.ValidationError("occurred_at is in the future.")
        return value

    def validate_properties(self, value):
        if len(str(value)) > 10_000:
            raise serializers.ValidationError("properties is larger than 10,000 characters.")
        _check_json(value, depth=0)
        return value


MAX_DEPTH = 10


def _check_json(value, depth: int) -> None:
    """Properties are stored as JSON in the database: no NUL characters, at most 10 levels deep."""
    if depth > MAX_DEPTH:
        raise serializers.ValidationError(f"properties is nested more than {MAX_DEPTH} levels deep.")
    if isinstance(value, str) and "\x00" in value:
        raise serializers.ValidationError("properties contains a NUL character.")
    if isinstance(value, dict):
        for key, item in value.items():
            _check_json(str(key), depth)
            _check_json(item, depth + 1)
    elif isinstance(value, list):
        for item in value:
            _check_json(item, depth + 1)


class EventScheduled(serializers.Serializer):
    status = serializers.ChoiceField(choices=["scheduled"])
    invitation = serializers.IntegerField()
    send_at = serializers.DateTimeField()


class EventSkipped(serializers.Serializer):
    status = serializers.ChoiceField(choices=["skipped"])
    reason = serializers.ChoiceField(choices=SkipReason.choices)
    detail = serializers.CharField()


class EventView(StaffApiMixin, APIView):
    """Something happened to a customer (a ticket resolved, onboarding done): survey them after the
    program's delay, unless a rule says not to (quiet period, cap, unsubscribed …). Admin tokens."""

    allowed_roles = ADMIN_ONLY

    @extend_schema(
        request=EventIn,
        responses={202: EventScheduled, 200: EventSkipped},
        examples=[
            OpenApiExample(
                "Ticket resolved",
                request_only=True,
                value={
                    "type": "ticket_resolved",
                    "contact": {"email": "pat@customer.example", "name": "Pat"},
                    "account": {"external_id": "CRM-42", "name": "Customer Inc"},
                    "occurred_at": "2026-11-23T09:00:00Z",
                    "idempotency_key": "zendesk-18231",
                },  # fmt: skip
            )
        ],
    )
    def post(self, request):
        payload = EventIn(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        outcome = event_record(
            type=data["type"],
            contact_email=data["contact"]["email"],
            contact_name=data["contact"]["name"],
            account_external_id=data["account"]["external_id"],
            account_name=data["account"]["name"],
            occurred_at=data["occurred_at"],
            properties=data["properties"],
            idempotency_key=data.get("idempotency_key") or None,
            delay_minutes=data.get("delay_minutes"),
        )
        if outcome.status == "skipped":
            return Response(
                {"status": "skipped", "reason": outcome.reason, "detail": SkipReason(outcome.reason).label},
                status=status.HTTP_200_OK,
            )
        invitation = outcome.invitation
        return Response(
            {"status": "scheduled", "invitation": invitation.pk, "send_at": invitation.send_at.isoformat()},
            status=status.HTTP_202_ACCEPTED,
        )


# Reads: programs and waves, invitations, responses (cursor pages; what the token's user may see).


class ProgramOut(serializers.ModelSerializer):
    class Meta:
        model = Program
        fields = [
            "id", "name", "stream", "is_active", "product_name", "question", "cadence_months", "event_types",
            "quiet_period_days", "link_expiry_days", "created_at",
        ]  # fmt: skip


class WaveOut(serializers.ModelSerializer):
    class Meta:
        model = Wave
        fields = ["id", "program", "period", "scheduled_at", "eligible_count", "skipped", "created_at"]


class InvitationOut(serializers.ModelSerializer):
    contact = serializers.EmailField(source="contact.email")
    account = serializers.CharField(source="account.external_id")
    email_status = serializers.CharField(source="email.status", default=None, allow_null=True)

    class Meta:
        model = Invitation
        fields = [
            "id", "program", "stream", "wave", "contact", "account", "send_at", "expires_at", "skipped_reason",
            "email_status", "responded_at", "created_at",
        ]  # fmt: skip


class FollowUpAnswer(serializers.Serializer):
    question_id = serializers.IntegerField()
    question = serializers.CharField()
    answer = serializers.JSONField(help_text="An option (text), a list of options, a rating 1–5, or a short text.")


class ThemeTagOut(serializers.Serializer):
    theme = serializers.CharField()
    how = serializers.ChoiceField(choices=["keyword", "similar", "manual"])
    why = serializers.CharField(help_text="The reason in words: the keyword matched, or the nearest example.")
    detail = serializers.DictField(help_text="keyword and words; or examples with their similarity; or corrected.")


class ResponseOut(serializers.ModelSerializer):
    follow_up = serializers.SerializerMethodField(help_text="Answers to the program's follow-up questions.")
    contact = serializers.EmailField(source="contact.email")
    account = serializers.CharField(source="account.external_id")
    wave = serializers.CharField(source="wave.period", default=None, allow_null=True)
    themes = serializers.SlugRelatedField(many=True, read_only=True, slug_field="name")
    tags = serializers.SerializerMethodField(help_text="Each theme with why it was found (insights tagging).")
    team = serializers.CharField(source="team.name", default=None, allow_null=True)

    class Meta:
        model = Answer
        fields = [
            "id", "stream", "program", "wave", "score", "category", "reason", "improvement", "themes", "contact",
            "account", "submitted_at", "updated_at", "segment", "plan_tier", "industry", "company_size", "region",
            "arr_tier", "product_line", "team", "cohort", "tenure_months", "touchpoint", "channel", "language",
            "follow_up", "tags", "sentiment", "sentiment_score",
        ]  # fmt: skip

    @extend_schema_field(ThemeTagOut(many=True))
    def get_tags(self, response) -> list[dict]:
        # The tags' table belongs to insights, read here by its relation name (surveys imports no insights).
        return [
            {
                "theme": tag.theme.name,
                "how": tag.how,
                "why": tag.why.get("text") or tag.get_how_display(),
                "detail": tag.why,
            }
            for tag in response.tags.all()
        ]

    @extend_schema_field(FollowUpAnswer(many=True))
    def get_follow_up(self, response) -> list[dict]:
        if not response.follow_up:
            return []
        if "questions" not in self.context:  # once per page: the questions are few
            self.context["questions"] = dict(Question.objects.values_list("pk", "text"))
        texts = self.context["questions"]
        return [
            {"question_id": int(key), "question": texts.get(int(key), ""), "answer": value}
            for key, value in response.follow_up.items()
            if str(key).isdigit()
        ]


class ResponseFilter(django_filters.FilterSet):
    stream = django_filters.ChoiceFilter(choices=Stream.choices)
    program = django_filters.NumberFilter(field_name="program_id")
    wave = django_filters.NumberFilter(field_name="wave_id")
    category = django_filters.ChoiceFilter(choices=Category.choices)
    sentiment = django_filters.ChoiceFilter(choices=Sentiment.choices)
    score_min = django_filters.NumberFilter(field_name="score", lookup_expr="gte")
    score_max = django_filters.NumberFilter(field_name="score", lookup_expr="lte")
    submitted_after = UtcDateTimeFilter(field_name="submitted_at", lookup_expr="gte")
    submitted_before = UtcDateTimeFilter(field_name="submitted_at", lookup_expr="lt")
    updated_since = UtcDateTimeFilter(field_name="updated_at", lookup_expr="gte")
    account = django_filters.CharFilter(field_name="account__external_id", max_length=100)
    segment = django_filters.CharFilter(max_length=16)
    plan_tier = django_filters.CharFilter(max_length=50)
    region = django_filters.CharFilter(max_length=50)
    industry = django_filters.CharFilter(max_length=100)
    product_line = django_filters.CharFilter(max_length=100)

    class Meta:
        model = Answer
        fields: list[str] = []


class _Read(StaffApiMixin):
    allowed_roles = ALL_STAFF


class ProgramList(StaffApiMixin, generics.ListAPIView):
    allowed_roles = ADMIN_ONLY  # as the program pages
    serializer_class = ProgramOut
    queryset = Program.objects.all()
    cursor_ordering = ("pk",)


class ProgramDetail(StaffApiMixin, generics.RetrieveAPIView):
    allowed_roles = ADMIN_ONLY
    serializer_class = ProgramOut
    queryset = Program.objects.all()


class WaveList(StaffApiMixin, generics.ListAPIView):
    allowed_roles = ADMIN_ONLY
    serializer_class = WaveOut
    queryset = Wave.objects.all()
    filter_backends = [DjangoFilterBackend]
    filterset_fields = ["program"]
    cursor_ordering = ("-scheduled_at", "-pk")


class InvitationList(_Read, generics.ListAPIView):
    serializer_class = InvitationOut
    filter_backends = [DjangoFilterBackend]
    filterset_fields = ["program", "wave", "stream"]
    cursor_ordering = ("-created_at", "-pk")

    def get_queryset(self):
        return (
            scoping.invitations(self.request.user).filter(is_test=False).select_related("contact", "account", "email")
        )


class _Answers(_Read):
    serializer_class = ResponseOut

    def get_queryset(self):
        return (
            scoping.responses(self.request.user)
            .filter(is_test=False)
            .select_related("contact", "account", "wave", "team")
            .prefetch_related("themes", "tags__theme")
        )


class ResponseList(_Answers, generics.ListAPIView):
    """Answers with their verbatims, themes and segment snapshot; test sends never appear."""

    filter_backends = [DjangoFilterBackend]
    filterset_class = ResponseFilter
    cursor_ordering = ("updated_at", "pk")


class ResponseDetail(_Answers, generics.RetrieveAPIView):
    pass
