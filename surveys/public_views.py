"""The customers' own pages: answer, thank-you (with its follow-up forms) and unsubscribe.

No login: the token in the link is the only key. Anything wrong is a friendly page with the right
status (404 unknown, 410 closed, 429 too many attempts), never a 500 and never more detail.
"""

import json
import logging
import time
import zoneinfo
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlencode

from django.conf import settings
from django.core import signing
from django.http import HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.module_loading import import_string
from django.utils.translation import gettext_lazy
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from accounts.permissions import public
from config.clientip import client_ip
from config.links import path_filler
from config.ratelimit import Count
from customers.models import Contact

from . import answers, links, services, widget
from .branding import stylesheet
from .devices import device_class
from .emails import supported_language
from .forms import AnswerForm, FollowUpForm, ImprovementForm, ReferralForm
from .models import Branding, Category, Invitation, Program, Response, ReviewOffer, Via, token_hash

logger = logging.getLogger(__name__)


def _promise(response: Response) -> dict:
    """When a Detractor is promised a call: the follow-up app's SLA clock (named in
    settings.ANSWER_PROMISE so that surveys does not import the apps built on it). Within the
    hours when the clock runs around the clock; by a date when working hours stretch it."""
    hours, due = import_string(settings.ANSWER_PROMISE)(response)
    on_the_wall_clock = due - response.submitted_at <= timedelta(hours=hours, minutes=1)
    if on_the_wall_clock:
        return {"sla_hours": hours, "sla_due": None}
    zone = zoneinfo.ZoneInfo(response.team.timezone) if response.team_id else timezone.get_default_timezone()
    return {"sla_hours": hours, "sla_due": due.astimezone(zone).date()}  # the day, where the team works


def invitation_for_token(token: str) -> Invitation | None:
    if not token or len(token) > 100:
        return None
    try:
        return Invitation.objects.select_related("program", "contact", "account").get(token_hash=token_hash(token))
    except Invitation.DoesNotExist:
        return None


def _language(invitation: Invitation | None) -> str:
    """A customer page's language: the contact's, or the request's when the link led to nobody."""
    return supported_language(invitation.contact.locale) if invitation else translation.get_language()


def _customer_page(request, invitation: Invitation | None, template: str, context=None, status: int = 200):
    """Render a customer page in the contact's language."""
    language = _language(invitation)
    with translation.override(language):
        context = {"invitation": invitation, "brand": Branding.current(), **(context or {})}
        response = render(request, template, context, status=status)
        response["Content-Language"] = language
    return response


# The customer pages that only say where things stand: (heading, message), one template for all.
STATUS_PAGES = {
    "already_answered": (
        gettext_lazy("Thank you, you already answered"),
        gettext_lazy("We have your answer to this survey. The time to change it has passed."),
    ),
    "link_expired": (
        gettext_lazy("This survey has closed"),
        gettext_lazy("Thank you for your interest. This survey link has expired, so it can no longer take answers."),
    ),
    "link_invalid": (
        gettext_lazy("This link doesn't work"),
        gettext_lazy("It may have been copied incompletely. Please use the link from your email exactly as it is."),
    ),
    "link_unsubscribed": (
        gettext_lazy("This link no longer works"),
        gettext_lazy(
            "You have unsubscribed from our surveys, so this survey is closed to you. We won't send you any more."
        ),
    ),
    "rate_limited": (
        gettext_lazy("One moment, please"),
        gettext_lazy("We received many requests from you in a short time. Please wait a minute and try again."),
    ),
    "unsubscribed": (
        gettext_lazy("You are unsubscribed"),
        gettext_lazy("You won't receive any more surveys from %(sender)s."),
    ),
}


def _status_page(request, invitation: Invitation | None, name: str, status: int = 200, **params):
    """One of the STATUS_PAGES in the contact's language; `params` fill the message's placeholders."""
    heading, message = STATUS_PAGES[name]
    with translation.override(_language(invitation)):
        text = str(message) % params if params else str(message)
        context = {"heading": str(heading), "message": text, "page": name}
    return _customer_page(request, invitation, "surveys/public/status.html", context, status=status)


def _limits(request, token: str) -> list[tuple[str, str]]:
    """The limits a request to a link counts: an answer per link and per client IP, a page per IP."""
    ip = client_ip(request)
    if request.method == "POST":
        return [
            (f"answer-token:{token}", settings.ANSWER_RATE_PER_TOKEN),
            (f"answer-ip:{ip}", settings.ANSWER_RATE_PER_IP),
        ]
    return [(f"public-ip:{ip}", settings.PUBLIC_RATE_PER_IP)]


def _rate_limited(request, token: str) -> bool:
    """Every limit that applies is counted (one cache round trip); any one over refuses the request."""
    return _over(_limits(request, token))


def _over(limits: list[tuple[str, str]]) -> bool:
    """Count the limits (one cache round trip); True if any is over. Fails open: with the cache down,
    an answer matters more than a limit."""
    return _verdict(_start_count(limits))


def _start_count(limits: list[tuple[str, str]]) -> Count | None:
    """Send the count (on Redis its reply is read by _verdict); None when the cache is down."""
    try:
        return Count(limits)
    except Exception as exc:  # noqa: BLE001 - any cache failure
        _cache_down(exc)
        return None


def _verdict(count: Count | None) -> bool:
    """Whether a started count is over a limit; False when the cache is down (fails open)."""
    if count is None:
        return False
    try:
        return count.over()
    except Exception as exc:  # noqa: BLE001 - any cache failure
        _cache_down(exc)
        return False
    finally:
        count.close()


def _cache_down(exc: Exception) -> None:
    logger.warning("Rate limits not counted, the cache is unavailable (%s: %s).", type(exc).__name__, exc)


def _device(request) -> str:
    return device_class(request.headers.get("User-Agent", ""))


def _open_invitation(
    request, token: str, lookup=None, *, counted: bool = False
) -> tuple[Invitation | None, HttpResponse | None]:
    """The invitation behind a link, or the page that explains why it cannot be used. The rate
    limits are counted while the invitation is looked up (on Redis the count's round trip overlaps
    the query); a request over a limit is refused all the same, having cost one indexed lookup.
    `counted`: this request's limits were counted already, and it was not over them."""
    count = None if counted else _start_count(_limits(request, token))
    try:
        invitation = (lookup or invitation_for_token)(token)
    finally:
        limited = _verdict(count)
    if limited:
        return None, _status_page(request, None, "rate_limited", status=429)
    if invitation is None:
        return None, _status_page(request, None, "link_invalid", status=404)
    if invitation.contact.unsubscribed_at:
        return None, _status_page(request, invitation, "link_unsubscribed", status=410)
    return invitation, None


def _existing_response(invitation: Invitation) -> Response | None:
    try:
        return Response.objects.select_related("program").get(invitation=invitation)
    except Response.DoesNotExist:
        return None


@public
@require_http_methods(["GET", "POST"])
def answer(request, token: str):
    """The answer page. A GET never records anything: mail scanners and previewers fetch every link."""
    early = request.headers.get("X-Rebound-Early") == "1"
    counted = False
    if request.method == "POST":
        # The usual answer is stored by one statement, once the limits say it may be (their count
        # is read first: nothing is stored for a request refused). Anything else takes the full path.
        if _rate_limited(request, token):
            return _status_page(request, None, "rate_limited", status=429)
        counted = True
        values = AnswerForm.values(request.POST)
        if values and answers.response_create_for_token(
            token=token,
            locale=request.POST.get("locale", Contact._meta.get_field("locale").default),
            score=values["score"],
            reason=values["reason"],
            device_class=_device(request),
        ):
            return _answered(token, values["score"], early)
    # The full path. A POST reads only what storing the answer needs (the rest loads if a page must be shown).
    lookup = answers.invitation_for_answer if request.method == "POST" else invitation_for_token
    invitation, refusal = _open_invitation(request, token, lookup, counted=counted)
    if refusal:
        return refusal
    if invitation.responded_at is None and invitation.is_expired:
        return _status_page(request, invitation, "link_expired", status=410)
    # A POST goes straight to the service, which locks the invitation and decides create or edit.
    response = _existing_response(invitation) if request.method == "GET" and invitation.responded_at else None
    if response and timezone.now() >= response.editable_until():
        return _status_page(request, invitation, "already_answered")
    status = 200
    if request.method == "POST":
        form = AnswerForm(request.POST)
        if form.is_valid():
            try:
                answers.response_submit(
                    invitation=invitation,
                    score=form.cleaned_data["score"],
                    reason=form.cleaned_data["reason"],
                    device_class=_device(request),
                    language=supported_language(invitation.contact.locale),
                )
            except answers.AnswerClosed:
                if early:
                    return JsonResponse({"saved": False}, status=409)
                return _status_page(request, invitation, "already_answered")
            return _answered(token, form.cleaned_data["score"], early)
        if early:
            return JsonResponse({"saved": False, "errors": form.errors.get_json_data()}, status=400)
        status = 400
    elif response:
        form = AnswerForm(initial={"score": response.score, "reason": response.reason})
    else:
        form = AnswerForm(initial={"score": _score_from_link(request.GET.get("score", ""))})
    context = {
        "form": form,
        "program": invitation.program,
        "selected": _score_from_link(str(form["score"].value() or "")),
        "scale": range(11),
        "response": response,
    }
    return _customer_page(request, invitation, "surveys/public/answer.html", context, status=status)


def _answered(token: str, score: int, early: bool) -> HttpResponse:
    if early:  # answer.js saved the score while the person is still on the page
        return JsonResponse({"saved": True, "score": score})
    return HttpResponseRedirect(_thanks_link(token))


_thanks_link = path_filler("surveys:thanks")


@public
@require_http_methods(["GET", "POST"])
def shared(request, token: str):
    """A program's shared link: the same question for anyone (anonymous), or for the contact a signed
    `c` parameter names. A GET records nothing; each POST is one answer in the link channel."""
    ip = client_ip(request)
    limits = [(f"link-ip:{ip}", settings.LINK_RATE_PER_IP)] if request.method == "POST" else []
    if _over([*limits, (f"public-ip:{ip}", settings.PUBLIC_RATE_PER_IP)]):
        return _status_page(request, None, "rate_limited", status=429)
    program = links.program_for_link(token)
    if program is None:
        return _status_page(request, None, "link_invalid", status=404)
    contact = None
    if identity := request.GET.get("c", ""):
        try:
            contact = links.contact_from_identity(program, identity)
        except signing.BadSignature:
            contact = None
        if contact is None:  # forged, altered, another program's, or a contact since removed
            return _status_page(request, None, "link_invalid", status=404)
    viewer = Invitation(program=program, contact=contact) if contact else None  # the contact's language
    form = AnswerForm(request.POST or None, initial={"score": _score_from_link(request.GET.get("score", ""))})
    status = 200
    if request.method == "POST":
        if form.is_valid():
            invitation, _result = links.link_answer(
                program=program,
                contact=contact,
                score=form.cleaned_data["score"],
                reason=form.cleaned_data["reason"],
                device_class=_device(request),
                language=supported_language(contact.locale if contact else translation.get_language()),
            )
            thanks = reverse("surveys:thanks", args=[invitation.token])
            if request.GET.get("kiosk") == "1":
                thanks += "?" + urlencode({"kiosk": token})
            return HttpResponseRedirect(thanks)
        status = 400
    context = {
        "form": form,
        "program": program,
        "selected": _score_from_link(str(form["score"].value() or "")),
        "scale": range(11),
        "response": None,
        "shared": True,
    }
    return _customer_page(request, viewer, "surveys/public/answer.html", context, status=status)


def _score_from_link(value: str) -> int | None:
    # isdigit() alone accepts "²" and other digits int() refuses: ASCII only.
    return int(value) if value.isascii() and value.isdigit() and 0 <= int(value) <= 10 else None


@public
@require_http_methods(["GET", "POST"])
def thanks(request, token: str, form_name: str = ""):
    """The thank-you page for the answer's category, with its follow-up forms."""
    invitation, refusal = _open_invitation(request, token)
    if refusal:
        return refusal
    response = _existing_response(invitation)
    if response is None:
        return redirect("surveys:answer", token=token)
    program = response.program
    editable = timezone.now() < response.editable_until()
    improvement_form = ImprovementForm()
    referral_form = ReferralForm()
    language = _language(invitation)
    questions = [q for q in program.questions.all() if q.asks(response.category)]
    initial = {f"q{key}": value for key, value in response.follow_up.items()}
    follow_up_form = FollowUpForm(questions=questions, language=language, initial=initial)
    done = request.GET.get("done", "")
    status = 200
    if request.method == "POST":
        if form_name == "questions" and questions:
            with translation.override(language):
                follow_up_form = FollowUpForm(request.POST, questions=questions, language=language)
                valid = follow_up_form.is_valid()
            if valid:
                try:
                    answers.response_follow_up_save(response=response, values=follow_up_form.answers())
                except answers.AnswerClosed:
                    return _status_page(request, invitation, "already_answered")
                return redirect(reverse("surveys:thanks", args=[token]) + "?done=questions")
        elif form_name == "improve" and response.category == Category.PASSIVE:
            improvement_form = ImprovementForm(request.POST)
            if improvement_form.is_valid():
                answers.response_improvement_add(response=response, text=improvement_form.cleaned_data["improvement"])
                return redirect(reverse("surveys:thanks", args=[token]) + "?done=improvement")
        elif form_name == "refer" and response.category == Category.PROMOTER and program.referral_enabled:
            referral_form = ReferralForm(request.POST)
            if referral_form.is_valid():
                answers.referral_create(response=response, **referral_form.cleaned_data)
                return redirect(reverse("surveys:thanks", args=[token]) + "?done=referral")
        else:
            return _status_page(request, invitation, "link_invalid", status=404)
        status = 400
    offer_review = bool(program.review_url) and (
        program.review_offer == ReviewOffer.EVERYONE or response.category == Category.PROMOTER
    )
    shared = invitation.via == Via.LINK
    kiosk = request.GET.get("kiosk", "")
    kiosk_next = (
        reverse("surveys:shared", args=[program.share_token]) + "?kiosk=1"
        if shared and kiosk and program.share_token and kiosk == program.share_token
        else ""
    )
    context = {
        "response": response,
        "program": program,
        "editable": editable,
        "shared": shared,
        "anonymous": links.is_anonymous(invitation),
        "kiosk_next": kiosk_next,
        **_promise(response),
        "offer_review": offer_review,
        "improvement_form": improvement_form,
        "referral_form": referral_form,
        "follow_up_form": follow_up_form if questions and editable else None,
        "done": done,
    }
    return _customer_page(request, invitation, "surveys/public/thanks.html", context, status=status)


@public
@csrf_exempt  # RFC 8058 one-click POSTs come from mail clients without a CSRF token; the token authorises.
@require_http_methods(["GET", "POST"])
def unsubscribe(request, token: str):
    if _rate_limited(request, token):
        return _status_page(request, None, "rate_limited", status=429)
    invitation = invitation_for_token(token)
    if invitation is None:
        return _status_page(request, None, "link_invalid", status=404)
    contact = invitation.contact
    if request.method == "POST":
        services.contact_unsubscribe(contact=contact)
        return _status_page(request, invitation, "unsubscribed", sender=invitation.program.sender_name)
    return _customer_page(request, invitation, "surveys/public/unsubscribe.html", {"contact": contact})


# The branding's stylesheet and logo: public (customer pages and emails load them), cached for a year
# under a URL that carries the branding's version, so an edit shows at once.
_YEAR = "public, max-age=31536000, immutable"


@public
@require_http_methods(["GET", "HEAD"])
def brand_css(request, version: str):
    response = HttpResponse(stylesheet(Branding.current().accent), content_type="text/css; charset=utf-8")
    response["Cache-Control"] = _YEAR
    return response


@public
@require_http_methods(["GET", "HEAD"])
def brand_logo(request, version: str):
    brand = Branding.current()
    if not brand.logo:
        return HttpResponse(status=404)
    response = HttpResponse(bytes(brand.logo), content_type=brand.logo_type)
    response["Cache-Control"] = _YEAR
    response["X-Content-Type-Options"] = "nosniff"
    return response


# The in-app widget (surveys.widget): a script, two JSON calls from the host's pages, and a demo host.


def _json_body(request) -> dict:
    try:
        data = json.loads(request.body or b"{}")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _cors(response, request, program: Program):
    """Let the program's listed origins read the answer (no cookies are ever involved)."""
    origin = request.headers.get("Origin", "")
    if origin and origin.rstrip("/") in widget.allowed_origins(program):
        response["Access-Control-Allow-Origin"] = origin
    response["Vary"] = "Origin"
    return response


@public
@require_http_methods(["GET", "HEAD"])
def widget_js(request):
    path = Path(settings.BASE_DIR) / "static" / "widget" / "rebound.js"
    response = HttpResponse(path.read_bytes(), content_type="text/javascript; charset=utf-8")
    response["Cache-Control"] = "public, max-age=3600"
    response["Cross-Origin-Resource-Policy"] = "cross-origin"  # loaded by the host's pages
    return response


@public
@csrf_exempt  # no cookie is read or set: the host's HMAC signature is the credential
@require_http_methods(["POST"])
def widget_ask(request):
    if _over([(f"public-ip:{client_ip(request)}", settings.PUBLIC_RATE_PER_IP)]):
        return JsonResponse({"show": False, "error": "rate_limited"}, status=429)
    data = _json_body(request)
    try:
        program = widget.program_for(data.get("program"))
        widget.verify(program, str(data.get("user") or ""), data.get("ts"), str(data.get("sig") or ""))
    except widget.WidgetRefused:
        return JsonResponse({"show": False, "error": "refused"}, status=403)
    contact = widget.contact_for(str(data["user"]))
    result = widget.ask(program, contact)
    body: dict = {"show": result.show}
    if result.show:
        language = supported_language(contact.locale)
        with translation.override(language):
            body.update(
                token=result.token,
                language=language,
                question=program.question_text,
                reason_prompt=program.reason_prompt_text,
                low=str(gettext_lazy("0 – Not at all likely")),
                high=str(gettext_lazy("10 – Extremely likely")),
                send=str(gettext_lazy("Send")),
                close=str(gettext_lazy("Close")),
                thanks=str(gettext_lazy("Thank you for your answer")),
                error=str(gettext_lazy("Please check your answer.")),
            )
    return _cors(JsonResponse(body), request, program)


@public
@csrf_exempt  # the unguessable token of the widget's question is the credential
@require_http_methods(["POST"])
def widget_answer(request):
    data = _json_body(request)
    token = str(data.get("token") or "")
    if _rate_limited(request, token):
        return JsonResponse({"saved": False, "error": "rate_limited"}, status=429)
    invitation = answers.invitation_for_answer(token)
    if invitation is None or invitation.via != Via.IN_APP:
        return JsonResponse({"saved": False, "error": "not_found"}, status=404)
    form = AnswerForm({"score": data.get("score"), "reason": data.get("reason") or ""})
    if not form.is_valid():
        return _cors(JsonResponse({"saved": False, "errors": form.errors.get_json_data()}, status=400), request,
                     invitation.program)  # fmt: skip
    try:
        answers.response_submit(
            invitation=invitation,
            score=form.cleaned_data["score"],
            reason=form.cleaned_data["reason"],
            device_class=_device(request),
            language=supported_language(invitation.contact.locale),
        )
    except answers.AnswerClosed:
        return _cors(JsonResponse({"saved": False, "error": "closed"}, status=409), request, invitation.program)
    return _cors(JsonResponse({"saved": True}), request, invitation.program)


@public
@require_http_methods(["GET"])
def widget_demo(request):
    """A pretend SaaS product with the widget embedded, signed for one of its users (WIDGET_DEMO only)."""
    if not settings.WIDGET_DEMO:
        return _status_page(request, None, "link_invalid", status=404)
    program = Program.objects.filter(stream="relationship", is_active=True).exclude(widget_secret="").first()
    if program is None:
        program = Program.objects.filter(stream="relationship", is_active=True).first()
        if program is None:
            return _status_page(request, None, "link_invalid", status=404)
        widget.secret_create(program)
    email = request.GET.get("user", "")
    contact = widget.contact_for(email) if email else None
    if contact is None:
        contact = Contact.objects.filter(account__is_test=False, unsubscribed_at__isnull=True).order_by("pk").first()
    ts = int(time.time())
    user = contact.email if contact else ""
    context = {
        "program": program,
        "user": user,
        "ts": ts,
        "sig": widget.signature(program.widget_secret, program.pk, user, ts),
    }
    return render(request, "surveys/widget_demo.html", context)
