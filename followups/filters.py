"""The task filters, one FilterSet shared by the task pages, the CSV export and the API.

A value that doesn't fit (an unknown queue, someone else's team member) is a field error: the page shows
it beside the filter and ignores that filter, the API answers 400 with the field's message.
"""

from __future__ import annotations

import django_filters
from django import forms
from django.db.models import QuerySet
from django.utils import timezone

from accounts.models import User
from customers.models import Segment

from .models import Queue, Task, TaskStatus


def team_staff(user) -> QuerySet[User]:
    """Whom a user may filter or assign by: active staff of their team (anyone for Admins)."""
    staff = User.objects.filter(is_active=True)
    if not user.is_admin:
        staff = staff.filter(team_id=user.team_id)
    return staff.order_by("name", "email")


class TaskFilter(django_filters.FilterSet):
    queue = django_filters.ChoiceFilter(choices=Queue.choices, empty_label="All queues")
    status = django_filters.ChoiceFilter(choices=TaskStatus.choices, empty_label="Any status")
    urgency = django_filters.ChoiceFilter(
        choices=[("urgent", "Urgent only")], empty_label="Any urgency", method="filter_urgency"
    )
    segment = django_filters.ChoiceFilter(choices=Segment.choices, empty_label="All segments")
    assignee = django_filters.ChoiceFilter(
        method="filter_assignee", empty_label="Anyone", help_text="me, none, or a user id from your team"
    )
    overdue = django_filters.BooleanFilter(
        method="filter_overdue",
        label="Overdue only",
        widget=forms.CheckboxInput,
        help_text="true: only open tasks past due",
    )
    account = django_filters.CharFilter(
        field_name="account__external_id",
        max_length=100,
        widget=forms.HiddenInput,
        help_text="an account's external id",
    )

    class Meta:
        model = Task
        fields: list[str] = []

    def __init__(self, data=None, queryset=None, *, request=None, **kwargs):
        super().__init__(data, queryset, request=request, **kwargs)
        user = request.user if request is not None else None
        people = team_staff(user) if user is not None and user.is_authenticated else User.objects.none()
        self.staff = list(people)  # also whom the list page offers for bulk assignment
        self.filters["assignee"].extra["choices"] = [
            ("me", "Me"),
            ("none", "Unassigned (team queue)"),
            *[(str(u.pk), str(u)) for u in self.staff],
        ]

    @property
    def form(self):
        form = super().form
        for name, field in form.fields.items():
            if name == "overdue":
                field.widget.attrs["class"] = "form-check-input"
            elif name != "account":
                field.widget.attrs["class"] = "form-select form-select-sm"
        return form

    def filter_urgency(self, queryset, name, value):
        return queryset.filter(urgent=True) if value == "urgent" else queryset

    def filter_assignee(self, queryset, name, value):
        if value == "me":
            return queryset.filter(assignee=self.request.user)
        if value == "none":
            return queryset.filter(assignee__isnull=True)
        return queryset.filter(assignee_id=int(value))

    def filter_overdue(self, queryset, name, value):
        if not value:
            return queryset
        return queryset.filter(due_at__lt=timezone.now(), first_contact_at__isnull=True, status=TaskStatus.OPEN)


def task_filter(request, *, defaults: dict[str, str], data=None) -> TaskFilter:
    """The filters from a query string (the defaults when it has none), over the tasks the user may see."""
    data = request.GET if data is None else data
    params = data.copy()
    params.pop("page", None)
    tasks = Task.objects.visible_to(request.user).select_related("account", "contact", "assignee", "response")
    return TaskFilter(data if params else defaults, queryset=tasks, request=request)


def ordered(filterset: TaskFilter) -> QuerySet[Task]:
    """The filtered tasks, soonest due first; a filter whose value didn't validate is left out."""
    return filterset.qs.order_by("due_at", "pk")
