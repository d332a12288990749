"""Follow-up reads: the task lists people work from, scoped to what they may see."""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils import timezone

from config.inputs import whole_number

from .models import Task, TaskStatus


def task_list(user, filters: dict[str, str]) -> QuerySet[Task]:
    tasks = Task.objects.visible_to(user).select_related("account", "contact", "assignee", "response", "team")
    status = filters.get("status", "open")
    if status:
        tasks = tasks.filter(status=status)
    if filters.get("queue"):
        tasks = tasks.filter(queue=filters["queue"])
    if filters.get("urgency") == "urgent":
        tasks = tasks.filter(urgent=True)
    if filters.get("segment"):
        tasks = tasks.filter(segment=filters["segment"])
    assignee = filters.get("assignee", "")
    if assignee == "me":
        tasks = tasks.filter(assignee=user)
    elif assignee == "none":
        tasks = tasks.filter(assignee__isnull=True)
    elif whole_number(assignee) is not None:
        tasks = tasks.filter(assignee_id=whole_number(assignee))
    if filters.get("overdue") in ("on", "true", "1", True):
        tasks = tasks.filter(due_at__lt=timezone.now(), first_contact_at__isnull=True, status=TaskStatus.OPEN)
    if filters.get("account"):
        tasks = tasks.filter(account__external_id=filters["account"])
    return tasks.order_by("due_at", "pk")


def task_for(user, pk: int) -> Task:
    """The task if the user may see it; Task.DoesNotExist otherwise (a 404, revealing nothing)."""
    return (
        Task.objects.visible_to(user)
        .select_related("account__csm", "account__team", "contact", "assignee", "response__program", "team")
        .get(pk=pk)
    )
