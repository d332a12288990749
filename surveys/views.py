"""Staff pages for programs and waves, and the customers' own pages (answer, unsubscribe)."""

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from accounts.permissions import ADMIN_ONLY, public, roles

from . import cadence, selectors, services
from .emails import survey_email
from .forms import ProgramForm
from .models import Invitation, Program, SkipReason, Stream, Wave, token_hash


@roles(*ADMIN_ONLY)
def program_list(request):
    programs = list(Program.objects.all())
    for program in programs:
        if program.is_relationship:
            program.next_wave = cadence.next_wave(program)
    return render(request, "surveys/program_list.html", {"programs": programs})


@roles(*ADMIN_ONLY)
def program_edit(request, pk: int | None = None):
    program = get_object_or_404(Program, pk=pk) if pk else None
    stream = program.stream if program else request.GET.get("stream", Stream.RELATIONSHIP)
    if stream not in Stream.values:
        raise Http404("Unknown stream")
    form = ProgramForm(request.POST or None, instance=program, stream=stream)
    if request.method == "POST" and form.is_valid():
        program = form.save()
        messages.success(request, f"Saved {program}.")
        return redirect("surveys:program_detail", pk=program.pk)
    return render(request, "surveys/program_form.html", {"form": form, "program": program, "stream": stream})


@roles(*ADMIN_ONLY)
def program_detail(request, pk: int):
    program = get_object_or_404(Program, pk=pk)
    context = {"program": program}
    if program.is_relationship:
        context["next_wave"] = cadence.next_wave(program)
        waves = list(program.waves.all()[:12])
        for wave in waves:
            wave.progress = selectors.wave_progress(wave)
        context["waves"] = waves
    else:
        context["invitations"] = program.invitations.select_related("contact", "account", "email", "event").order_by(
            "-created_at"
        )[:50]
    return render(request, "surveys/program_detail.html", context)


@roles(*ADMIN_ONLY)
@require_POST
def program_toggle(request, pk: int):
    program = get_object_or_404(Program, pk=pk)
    Program.objects.filter(pk=pk).update(is_active=not program.is_active)
    messages.success(request, f"{program} is {'paused' if program.is_active else 'active again'}.")
    return redirect("surveys:program_detail", pk=pk)


@roles(*ADMIN_ONLY)
def program_preview(request, pk: int):
    program = get_object_or_404(Program, pk=pk)
    row = survey_email(services.preview_invitation(program))
    return render(request, "surveys/program_preview.html", {"program": program, "email": row})


@roles(*ADMIN_ONLY)
@xframe_options_sameorigin
def program_preview_html(request, pk: int):
    program = get_object_or_404(Program, pk=pk)
    row = survey_email(services.preview_invitation(program))
    response = HttpResponse('<base target="_blank">' + row.body_html)
    response["Content-Security-Policy"] = "sandbox allow-popups; script-src 'none'"
    return response


@roles(*ADMIN_ONLY)
@require_POST
def program_test_send(request, pk: int):
    program = get_object_or_404(Program, pk=pk)
    services.test_email_send(program=program, user=request.user)
    messages.success(request, f"A test email is on its way to {request.user.email}.")
    return redirect("surveys:program_detail", pk=pk)


@roles(*ADMIN_ONLY)
def wave_send_now(request, pk: int):
    program = get_object_or_404(Program, pk=pk, stream=Stream.RELATIONSHIP)
    period, _ = cadence.current_period(program)
    existing = program.waves.filter(period=period).first()
    if request.method == "POST" and existing is None:
        wave = services.wave_send_now(program=program, user=request.user)
        if wave is None:
            messages.warning(request, f"{period} has a wave already.")
            return redirect("surveys:program_detail", pk=pk)
        messages.success(request, f"Wave {period} started: {wave.eligible_count} contacts invited.")
        return redirect("surveys:wave_detail", pk=wave.pk)
    eligible, skipped = selectors.eligibility(program, timezone.now())
    context = {
        "program": program,
        "period": period,
        "existing": existing,
        "eligible_count": eligible.count(),
        "skipped": [(SkipReason(reason).label, n) for reason, n in skipped.items()],
    }
    return render(request, "surveys/wave_send_now.html", context)


@roles(*ADMIN_ONLY)
def wave_detail(request, pk: int):
    wave = get_object_or_404(Wave.objects.select_related("program"), pk=pk)
    progress = selectors.wave_progress(wave)
    failed = wave.invitations.filter(email__status="failed").select_related("contact", "email")[:50]
    context = {
        "wave": wave,
        "progress": progress,
        "failed": failed,
        "skipped": [(SkipReason(reason).label, n) for reason, n in wave.skipped.items()],
        "finished": progress["scheduled"] + progress["queued"] + progress["sending"] == 0,
    }
    template = "surveys/_wave_progress.html" if request.htmx else "surveys/wave_detail.html"
    return render(request, template, context)


# Customer pages: no login. The token is the only key; anything wrong is a friendly page.


def invitation_for_token(token: str) -> Invitation | None:
    if not token or len(token) > 100:
        return None
    return (
        Invitation.objects.select_related("program", "contact", "account").filter(token_hash=token_hash(token)).first()
    )


@public
def answer(request, token: str):
    """The answer page. A GET never records anything (mail scanners fetch every link)."""
    invitation = invitation_for_token(token)
    if invitation is None:
        return render(request, "surveys/public/link_invalid.html", status=404)
    if invitation.is_expired:
        return render(request, "surveys/public/link_expired.html", status=410)
    score = request.GET.get("score", "")
    context = {
        "invitation": invitation,
        "program": invitation.program,
        "question": invitation.program.question_text,
        "selected": int(score) if score.isdigit() and 0 <= int(score) <= 10 else None,
        "scale": range(11),
    }
    return render(request, "surveys/public/answer.html", context)


@public
@csrf_exempt  # RFC 8058 one-click POSTs come from mail clients without a CSRF token; the token authorises.
def unsubscribe(request, token: str):
    invitation = invitation_for_token(token)
    if invitation is None:
        return render(request, "surveys/public/link_invalid.html", status=404)
    contact = invitation.contact
    if request.method == "POST":
        services.contact_unsubscribe(contact=contact)
        return render(request, "surveys/public/unsubscribed.html", {"program": invitation.program})
    return render(request, "surveys/public/unsubscribe.html", {"invitation": invitation, "contact": contact})
