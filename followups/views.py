"""The CSM's daily tool: task queues, the task page and its actions, SLA policies."""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from accounts import audit, scoping
from accounts.permissions import ADMIN_ONLY, ALL_STAFF, MANAGERS, roles
from config.inputs import safe_next, whole_number
from config.links import path_filler
from config.pagination import KeysFirstPaginator
from customers.models import Segment

from . import loop, selectors, services
from .filters import ordered, task_filter, team_staff
from .forms import (
    AssignForm,
    BulkAssignForm,
    CloseForm,
    LoopEmailForm,
    LoopTemplateFormSet,
    NoteForm,
    OutreachForm,
    SlaPolicyFormSet,
    assignee_queryset,
)
from .models import LoopTemplate, SlaPolicy, Task, TaskStatus

PAGE_SIZE = 25
# What a row of the task list shows, and nothing more: the four joined rows are wide (a response
# has some forty columns), and planning and loading them all was most of a full page's time.
LIST_COLUMNS = (
    "queue", "status", "urgent", "segment", "due_at", "first_contact_at", "response_id", "account_id", "contact_id",
    "assignee_id", "team_id", "response__score", "response__category", "response__reason", "response__is_test",
    "contact__name", "contact__email", "account__name", "assignee__name", "assignee__email",
)  # fmt: skip


def _task_or_404(request, pk: int) -> Task:
    try:
        return selectors.task_for(request.user, pk)
    except Task.DoesNotExist:
        raise Http404("No such task") from None


_task_link = path_filler("followups:task_detail")


def _list(request, *, title: str, defaults: dict[str, str]):
    filterset = task_filter(request, defaults=defaults)
    page = KeysFirstPaginator(ordered(filterset).only(*LIST_COLUMNS), PAGE_SIZE).get_page(request.GET.get("page"))
    for task in page:
        task.link = _task_link(task.pk)
    context = {
        "title": title,
        "form": filterset.form,
        "page": page,
        "now": timezone.now(),
        # Whom ticked tasks can go to (Managers and Admins): the people the filter offers, read once.
        "bulk_staff": None if request.user.is_csm else filterset.staff,
    }
    return render(request, "followups/task_list.html", context)


@roles(*ALL_STAFF)
def my_tasks(request):
    return _list(request, title="My tasks", defaults={"assignee": "me", "status": TaskStatus.OPEN})


@roles(*ALL_STAFF)
def queue(request):
    title = "All queues" if request.user.is_admin else "Team queue"
    return _list(request, title=title, defaults={"status": TaskStatus.OPEN})


@roles(*ALL_STAFF)
def task_detail(request, pk: int):
    task = _task_or_404(request, pk)
    history = (
        scoping.responses(request.user)
        .filter(account=task.account)
        .exclude(pk=task.response_id)
        .select_related("contact", "program")
        .order_by("-submitted_at")[:10]
    )
    other_tasks = (
        scoping.tasks(request.user).filter(account=task.account).exclude(pk=task.pk).select_related("assignee")[:10]
    )
    context = {
        "task": task,
        "now": timezone.now(),
        "history": history,
        "other_tasks": other_tasks,
        "timeline": task.events.select_related("actor"),
        "assign_form": AssignForm(
            initial={"assignee": task.assignee_id}, queryset=assignee_queryset(request.user, task.team_id)
        ),
        "outreach_form": OutreachForm(),
        "note_form": NoteForm(),
        "close_form": CloseForm(task=task),
    }
    return render(request, "followups/task_detail.html", context)


def _act(request, task: Task, action) -> None:
    try:
        action()
    except services.TaskError as exc:
        messages.error(request, str(exc))


@roles(*ALL_STAFF)
@require_POST
def task_assign(request, pk: int):
    task = _task_or_404(request, pk)
    form = AssignForm(request.POST, queryset=assignee_queryset(request.user, task.team_id))
    if form.is_valid():
        _act(
            request,
            task,
            lambda: services.task_assign(task=task, assignee=form.cleaned_data["assignee"], actor=request.user),
        )
    else:
        messages.error(request, "Choose someone from the task's team.")
    return redirect("followups:task_detail", pk=task.pk)


@roles(*ALL_STAFF)
@require_POST
def task_outreach(request, pk: int):
    task = _task_or_404(request, pk)
    form = OutreachForm(request.POST)
    if form.is_valid():
        _act(request, task, lambda: services.task_log_outreach(task=task, actor=request.user, **form.cleaned_data))
    else:
        messages.error(request, "Choose how you reached the customer: call, email or meeting.")
    return redirect("followups:task_detail", pk=task.pk)


@roles(*ALL_STAFF)
@require_POST
def task_note(request, pk: int):
    task = _task_or_404(request, pk)
    form = NoteForm(request.POST)
    if form.is_valid():
        _act(
            request, task, lambda: services.task_add_note(task=task, actor=request.user, text=form.cleaned_data["text"])
        )
    else:
        messages.error(request, "A note needs some text (at most 5,000 characters).")
    return redirect("followups:task_detail", pk=task.pk)


@roles(*ALL_STAFF)
@require_POST
def task_close(request, pk: int):
    task = _task_or_404(request, pk)
    form = CloseForm(request.POST, task=task)
    if form.is_valid():
        _act(request, task, lambda: services.task_close(task=task, actor=request.user, **form.cleaned_data))
    else:
        messages.error(request, "Closing a task needs an outcome.")
    return redirect("followups:task_detail", pk=task.pk)


@roles(*ALL_STAFF)
def task_email(request, pk: int):
    task = _task_or_404(request, pk)
    form = LoopEmailForm(request.POST or None, initial=loop.draft(task, request.user))
    if request.method == "POST" and form.is_valid():
        try:
            services.loop_email_send(task=task, actor=request.user, **form.cleaned_data)
        except services.TaskError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, f"Sent to {task.contact.email}.")
            return redirect("followups:task_detail", pk=task.pk)
    return render(request, "followups/task_email.html", {"task": task, "form": form})


@roles(*MANAGERS)
@require_POST
def bulk_assign(request):
    ids = [pk for pk in map(whole_number, request.POST.getlist("task")) if pk is not None]
    tasks = list(Task.objects.visible_to(request.user).filter(pk__in=ids))
    form = BulkAssignForm(request.POST, queryset=team_staff(request.user))
    if not tasks:
        messages.error(request, "Tick the tasks to assign.")
    elif form.is_valid():
        done = services.tasks_bulk_assign(tasks=tasks, assignee=form.cleaned_data["assignee"], actor=request.user)
        messages.add_message(request, *bulk_assign_message(len(tasks), done, form.cleaned_data["assignee"]))
    else:
        messages.error(request, "Choose someone from your team.")
    return redirect(safe_next(request, "followups:queue"))


def bulk_assign_message(ticked: int, done: int, assignee) -> tuple[int, str]:
    """What a bulk assignment did, honestly: nothing is not a success, and skipped tasks are named."""
    if not done:
        return messages.WARNING, "Nothing assigned: every ticked task is closed."
    to = assignee or "the team queue"
    text = f"Assigned {done} task{'s' if done != 1 else ''} to {to}."
    if skipped := ticked - done:
        text += f" {skipped} closed task{'s' if skipped != 1 else ''} left unchanged."
    return messages.SUCCESS, text


@roles(*ALL_STAFF)
@require_POST
def digest_toggle(request):
    request.user.daily_digest = request.POST.get("daily_digest") == "on"
    request.user.save(update_fields=["daily_digest"])
    messages.success(request, "Daily digest " + ("on." if request.user.daily_digest else "off."))
    return redirect("followups:my_tasks")


@roles(*ADMIN_ONLY)
def sla_policies(request):
    for segment in Segment.values:
        SlaPolicy.objects.get_or_create(segment=segment)
    formset = SlaPolicyFormSet(request.POST or None, queryset=SlaPolicy.objects.all())
    if request.method == "POST" and formset.is_valid():
        before = {p.segment: audit.snapshot(p) for p in SlaPolicy.objects.all()}
        formset.save()
        after = {p.segment: audit.snapshot(p) for p in SlaPolicy.objects.all()}
        if before != after:
            audit.record(request.user, "sla_policy.update", label="SLA policies", before=before, after=after)
        messages.success(request, "SLA policies saved. New tasks use them; open tasks keep their due times.")
        return redirect("followups:sla_policies")
    return render(request, "followups/sla_policies.html", {"formset": formset})


@roles(*ADMIN_ONLY)
def loop_templates(request):
    loop.templates()  # one per queue, the defaults on first use
    formset = LoopTemplateFormSet(request.POST or None, queryset=LoopTemplate.objects.all())
    if request.method == "POST" and formset.is_valid():
        before = {t.queue: audit.snapshot(t, ["subject", "body"]) for t in LoopTemplate.objects.all()}
        formset.save()
        after = {t.queue: audit.snapshot(t, ["subject", "body"]) for t in LoopTemplate.objects.all()}
        if before != after:
            audit.record(request.user, "loop_template.update", label="Close-the-loop templates", before=before,
                         after=after)  # fmt: skip
        messages.success(request, "Templates saved. New close-the-loop drafts start from them.")
        return redirect("followups:loop_templates")
    return render(request, "followups/loop_templates.html", {"formset": formset, "fields": loop.MERGE_FIELDS})
