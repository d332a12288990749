"""Follow-up reads: the task lists people work from, scoped to what they may see."""

from __future__ import annotations

from .models import Task


def task_for(user, pk: int) -> Task:
    """The task if the user may see it; Task.DoesNotExist otherwise (a 404, revealing nothing)."""
    return (
        Task.objects.visible_to(user)
        .select_related("account__csm", "account__team", "contact", "assignee", "response__program", "team")
        .get(pk=pk)
    )
