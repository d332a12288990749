from django.conf import settings
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.clickjacking import xframe_options_sameorigin

from accounts.permissions import ADMIN_ONLY, roles
from config.csp import email_html

from .models import CaughtEmail


def outbox_enabled() -> bool:
    return settings.EMAIL_BACKEND == "outbox.backends.OutboxBackend"


def _require_outbox() -> None:
    if not outbox_enabled():
        raise Http404("The dev outbox is off: EMAIL_URL sends real mail.")


@roles(*ADMIN_ONLY)
def email_list(request):
    _require_outbox()
    page = Paginator(CaughtEmail.objects.all(), 50).get_page(request.GET.get("page"))
    return render(request, "outbox/list.html", {"page": page})


@roles(*ADMIN_ONLY)
def email_detail(request, pk: int):
    _require_outbox()
    email = get_object_or_404(CaughtEmail, pk=pk)
    return render(request, "outbox/detail.html", {"email": email})


@roles(*ADMIN_ONLY)
@xframe_options_sameorigin
@email_html
def email_html(request, pk: int):
    """The HTML body on its own, for the detail page's sandboxed iframe."""
    _require_outbox()
    email = get_object_or_404(CaughtEmail, pk=pk)
    # Links open in a new tab: the survey page refuses to be framed.
    response = HttpResponse('<base target="_blank">' + (email.body_html or "<p>(no HTML part)</p>"))
    # The email is shown, not trusted: no scripts, no same-origin access; links open in a new tab.
    response["Content-Security-Policy"] = "sandbox allow-popups allow-popups-to-escape-sandbox; script-src 'none'"
    return response
