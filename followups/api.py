"""GET /api/v1/tasks/ and /api/v1/tasks/<id>/: follow-up tasks for CRMs, scoped like the web UI."""

from django_filters.rest_framework import DjangoFilterBackend
from rest_framework import generics, serializers

from accounts.permissions import ALL_STAFF, StaffApiMixin

from .filters import TaskFilter
from .models import Task, TaskEvent


class TaskEventOut(serializers.ModelSerializer):
    actor = serializers.StringRelatedField()

    class Meta:
        model = TaskEvent
        fields = ["kind", "at", "actor", "text", "data"]


class TaskOut(serializers.ModelSerializer):
    category = serializers.CharField(source="response.category")
    score = serializers.IntegerField(source="response.score")
    reason = serializers.CharField(source="response.reason")
    stream = serializers.CharField(source="response.stream")
    is_test = serializers.BooleanField(
        source="response.is_test", help_text="From a test send (Send a test to me): counts in no figure."
    )
    account = serializers.CharField(source="account.external_id")
    account_name = serializers.CharField(source="account.name")
    contact = serializers.EmailField(source="contact.email")
    assignee = serializers.SerializerMethodField()
    overdue = serializers.SerializerMethodField()

    class Meta:
        model = Task
        fields = [
            "id", "queue", "category", "status", "urgent", "assignee", "due_at", "first_contact_at", "escalated_at",
            "outcome", "outcome_detail", "closed_at", "score", "reason", "stream", "account", "account_name",
            "contact", "segment", "created_at", "overdue", "is_test",
        ]  # fmt: skip

    def get_assignee(self, task: Task) -> str | None:
        return task.assignee.email if task.assignee else None

    def get_overdue(self, task: Task) -> bool:
        return task.sla_met is False and task.first_contact_at is None


class TaskDetailOut(TaskOut):
    timeline = TaskEventOut(source="events", many=True)

    class Meta(TaskOut.Meta):
        fields = [*TaskOut.Meta.fields, "timeline"]


class TaskList(StaffApiMixin, generics.ListAPIView):
    """Tasks the token's user may see, soonest due first; filters as on the task pages (any status unless asked)."""

    allowed_roles = ALL_STAFF
    serializer_class = TaskOut
    filter_backends = [DjangoFilterBackend]
    filterset_class = TaskFilter

    def get_queryset(self):
        return (
            Task.objects.visible_to(self.request.user)
            .select_related("account", "contact", "assignee", "response", "team")
            .order_by("due_at", "pk")
        )


class TaskDetail(StaffApiMixin, generics.RetrieveAPIView):
    allowed_roles = ALL_STAFF
    serializer_class = TaskDetailOut

    def get_queryset(self):
        return Task.objects.visible_to(self.request.user).select_related("response", "account", "contact", "assignee")
