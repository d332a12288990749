"""GET /api/v1/tasks/ and /api/v1/tasks/<id>/: follow-up tasks for CRMs, scoped like the web UI; and the
task page's actions: assign, log outreach, add a note, close, send the close-the-loop email."""

from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import ALL_STAFF, StaffApiMixin

from . import services
from .filters import TaskFilter
from .forms import assignee_queryset
from .models import Outcome, OutreachChannel, Task, TaskEvent


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
    cursor_ordering = ("due_at", "pk")

    def get_queryset(self):
        return Task.objects.visible_to(self.request.user).select_related(
            "account", "contact", "assignee", "response", "team"
        )


class TaskDetail(StaffApiMixin, generics.RetrieveAPIView):
    allowed_roles = ALL_STAFF
    serializer_class = TaskDetailOut

    def get_queryset(self):
        return Task.objects.visible_to(self.request.user).select_related("response", "account", "contact", "assignee")


# Actions on a task, as on the task page: POST /api/v1/tasks/<id>/<action>/ (write tokens).


class AssignIn(serializers.Serializer):
    assignee = serializers.EmailField(allow_null=True, help_text="A member of the task's team; null: the team queue.")


class OutreachIn(serializers.Serializer):
    channel = serializers.ChoiceField(choices=OutreachChannel.choices)
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=5000)


class NoteIn(serializers.Serializer):
    text = serializers.CharField(max_length=5000)


class CloseIn(serializers.Serializer):
    outcome = serializers.ChoiceField(choices=Outcome.choices)
    detail = serializers.CharField(required=False, allow_blank=True, default="", max_length=300)


class LoopEmailIn(serializers.Serializer):
    subject = serializers.CharField(max_length=200)
    body = serializers.CharField(max_length=10000)


class TaskAction(StaffApiMixin, APIView):
    """One action on a task the token's user may see; a refused action answers 400 with the reason."""

    allowed_roles = ALL_STAFF
    action = ""
    serializer_class: type[serializers.Serializer] = NoteIn

    def post(self, request, pk: int):
        task = Task.objects.visible_to(request.user).filter(pk=pk).select_related("response__program").first()
        if task is None:
            raise NotFound("No such task.")
        payload = self.serializer_class(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        try:
            getattr(self, f"do_{self.action}")(task, request.user, data)
        except services.TaskError as exc:
            raise ValidationError({"detail": str(exc)}) from None
        task = Task.objects.select_related("response", "account", "contact", "assignee").get(pk=task.pk)
        return Response(TaskDetailOut(task).data)

    def do_assign(self, task, user, data):
        assignee = None
        if data["assignee"]:
            assignee = assignee_queryset(user, task.team_id).filter(email__iexact=data["assignee"]).first()
            if assignee is None:
                raise ValidationError({"assignee": ["Not an active member of the task's team."]})
        services.task_assign(task=task, assignee=assignee, actor=user)

    def do_outreach(self, task, user, data):
        services.task_log_outreach(task=task, actor=user, channel=data["channel"], note=data["note"])

    def do_note(self, task, user, data):
        services.task_add_note(task=task, actor=user, text=data["text"])

    def do_close(self, task, user, data):
        services.task_close(task=task, actor=user, outcome=data["outcome"], detail=data["detail"])

    def do_loop_email(self, task, user, data):
        services.loop_email_send(task=task, actor=user, subject=data["subject"], body=data["body"])


def task_action(name: str, payload: type[serializers.Serializer]):
    def post(self, request, pk: int):
        return TaskAction.post(self, request, pk)

    post = extend_schema(request=payload, responses=TaskDetailOut, operation_id=f"tasks_{name}")(post)
    attrs = {"action": name, "serializer_class": payload, "post": post}
    return type(f"Task{name.title().replace('_', '')}", (TaskAction,), attrs)


TASK_ACTIONS = {
    "assign": task_action("assign", AssignIn),
    "outreach": task_action("outreach", OutreachIn),
    "notes": task_action("note", NoteIn),
    "close": task_action("close", CloseIn),
    "loop-email": task_action("loop_email", LoopEmailIn),
}
