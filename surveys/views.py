"""Staff pages for programs and waves (the customers' pages are in public_views.py)."""

import re

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.http import require_POST

from accounts import audit
from accounts.permissions import ADMIN_ONLY, roles
from config.csp import email_html
from config.inputs import whole_number
from outbox.models import EmailStatus

from . import cadence, links, selectors, services, widget
from .emails import survey_email
from .forms import BrandingForm, ProgramForm, QuestionFormSet
from .models import Branding, Program, SkipReason, Stream, Wave


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
        with audit.change(request.user, "program.update" if program else "program.create", program) as box:
            box["obj"] = program = form.save()
        messages.success(request, f"Saved {program}.")
        return redirect("surveys:program_detail", pk=program.pk)
    return render(request, "surveys/program_form.html", {"form": form, "program": program, "stream": stream})


@roles(*ADMIN_ONLY)
def program_detail(request, pk: int):
    program = get_object_or_404(Program, pk=pk)
    context = {
        "program": program,
        "deliverability": selectors.program_deliverability(program, timezone.now()),
        "questions": list(program.questions.all()),
        "shared_url": request.build_absolute_uri(reverse("surveys:shared", args=[program.share_token]))
        if program.share_token
        else "",
    }
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
def program_questions(request, pk: int):
    """Up to five follow-up questions, asked on the thank-you page to everyone or one category."""
    program = get_object_or_404(Program, pk=pk)
    formset = QuestionFormSet(request.POST or None, instance=program, prefix="questions")
    if request.method == "POST" and formset.is_valid():
        formset.save(commit=False)
        for question in formset.deleted_objects:
            question.delete()
        kept = [f for f in formset.forms if f not in formset.deleted_forms and (f.instance.pk or f.has_changed())]
        for position, form in enumerate(kept):
            question = form.save(commit=False)
            question.program, question.position = program, position
            question.save()
        texts = [q.text for q in program.questions.all()]
        audit.record(request.user, "program.questions", program, after={"questions": texts})
        messages.success(request, "Follow-up questions saved. Customers see them on the thank-you page.")
        return redirect("surveys:program_detail", pk=pk)
    return render(request, "surveys/program_questions.html", {"program": program, "formset": formset})


@roles(*ADMIN_ONLY)
@require_POST
def program_share_link(request, pk: int):
    """Turn the program's shared link on (a new one: the old stops working) or off."""
    program = get_object_or_404(Program, pk=pk)
    if request.POST.get("action") == "off":
        links.share_link_disable(program)
        audit.record(request.user, "program.link_off", program)
        messages.success(request, "The shared link is off; it now shows “link not valid”.")
    else:
        links.share_link_enable(program)
        audit.record(request.user, "program.link_on", program)
        messages.success(request, "The shared link is ready. Answers from it are counted in the “Shared link” channel.")
    return redirect("surveys:program_detail", pk=pk)


@roles(*ADMIN_ONLY)
@require_POST
def program_widget(request, pk: int):
    """The in-app widget: a new secret (the host's backend signs its users with it), or its origins."""
    program = get_object_or_404(Program, pk=pk)
    if request.POST.get("action") == "secret":
        widget.secret_create(program)
        audit.record(request.user, "program.widget_secret", program)
        messages.success(request, "A new widget secret: give it to your product's backend (the old one stops working).")
    else:
        origins = [o.strip().rstrip("/") for o in request.POST.get("origins", "").split() if o.strip()]
        bad = [o for o in origins if not re.fullmatch(r"https?://[A-Za-z0-9.-]+(:\d+)?", o)]
        if bad:
            messages.error(request, f"Not an origin (scheme://host[:port]): {', '.join(bad)}")
        else:
            Program.objects.filter(pk=pk).update(widget_origins="\n".join(origins))
            audit.record(request.user, "program.widget_origins", program, after={"origins": origins})
            messages.success(request, "Widget origins saved.")
    return redirect(reverse("surveys:program_detail", args=[pk]) + "#widget")


@roles(*ADMIN_ONLY)
def program_share_qr(request, pk: int):
    program = get_object_or_404(Program, pk=pk)
    if not program.share_token:
        raise Http404("The program has no shared link.")
    url = request.build_absolute_uri(reverse("surveys:shared", args=[program.share_token]))
    response = HttpResponse(links.qr_svg(url), content_type="image/svg+xml")
    if request.GET.get("download"):
        response["Content-Disposition"] = f'attachment; filename="rebound-link-{program.pk}.svg"'
    return response


@roles(*ADMIN_ONLY)
@require_POST
def program_toggle(request, pk: int):
    program = get_object_or_404(Program, pk=pk)
    with audit.change(request.user, "program.pause" if program.is_active else "program.resume", program,
                      fields=["is_active"]):  # fmt: skip
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
@email_html
def program_preview_html(request, pk: int):
    program = get_object_or_404(Program, pk=pk)
    row = survey_email(services.preview_invitation(program))
    response = HttpResponse('<base target="_blank">' + row.body_html)
    response["Content-Security-Policy"] = "sandbox allow-popups; script-src 'none'"
    return response


@roles(*ADMIN_ONLY)
@require_POST
@xframe_options_sameorigin
@email_html
def program_preview_live(request):
    """The email for the program editor's unsaved fields, shown in the frame beside the form
    (static/js/rebound.js posts the form here as it is edited; without JavaScript, a button does).
    Nothing is saved; fields that don't validate yet keep their saved (or default) values."""
    pk = whole_number(request.GET.get("program", ""))
    program = get_object_or_404(Program, pk=pk) if pk else None
    stream = program.stream if program else request.GET.get("stream", Stream.RELATIONSHIP)
    if stream not in Stream.values:
        raise Http404("Unknown stream")
    form = ProgramForm(request.POST, instance=program, stream=stream)
    form.is_valid()  # copies every valid field onto the unsaved instance
    draft = form.instance
    draft.stream = stream
    row = survey_email(services.preview_invitation(draft))
    errors = [str(form.fields[name].label or name) if name in form.fields else name for name in form.errors]
    response = render(request, "surveys/_preview_frame.html", {"email": row, "errors": errors})
    response["Content-Security-Policy"] = "sandbox allow-popups; script-src 'none'"
    return response


@roles(*ADMIN_ONLY)
@require_POST
def program_test_send(request, pk: int):
    program = get_object_or_404(Program, pk=pk)
    services.test_email_send(program=program, user=request.user)
    audit.record(request.user, "program.test_send", program)
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
        audit.record(request.user, "wave.start", wave, after={"period": period, "invited": wave.eligible_count})
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
    failed = wave.invitations.filter(email__status=EmailStatus.FAILED).select_related("contact", "email")[:50]
    context = {
        "wave": wave,
        "progress": progress,
        "failed": failed,
        "skipped": [(SkipReason(reason).label, n) for reason, n in wave.skipped.items()],
        "finished": progress["scheduled"] + progress["queued"] + progress["sending"] == 0,
        "schedule": selectors.wave_schedule(wave, timezone.get_current_timezone()),
    }
    template = "surveys/_wave_progress.html" if request.htmx else "surveys/wave_detail.html"
    return render(request, template, context)


@roles(*ADMIN_ONLY)
def branding_edit(request):
    """Company name, logo and accent colour on the customer pages and survey emails."""
    brand = Branding.current()
    form = BrandingForm(request.POST or None, request.FILES or None, instance=brand)
    if request.method == "POST" and form.is_valid():
        fields = ["company_name", "accent", "logo_type"]
        with audit.change(request.user, "branding.update", brand, fields=fields) as box:
            box["obj"] = form.save()
        messages.success(request, "Branding saved. Customer pages and new survey emails show it now.")
        return redirect("surveys:branding")
    return render(request, "surveys/branding.html", {"form": form, "brand": brand})
