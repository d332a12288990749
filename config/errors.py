"""Error pages that match the layout. They never raise and reveal nothing."""

from django.http import HttpResponseServerError, JsonResponse
from django.shortcuts import render
from django.template import loader


def _api(request) -> bool:
    """Under /api/ errors are JSON, in the API's shape ({"detail": …}), never an HTML page."""
    return request.path.startswith("/api/")


def bad_request(request, exception=None):
    if _api(request):
        return JsonResponse({"detail": "Bad request."}, status=400)
    return render(request, "errors/400.html", status=400)


def permission_denied(request, exception=None):
    if _api(request):
        return JsonResponse({"detail": "You do not have permission to perform this action."}, status=403)
    return render(request, "errors/403.html", status=403)


def page_not_found(request, exception=None):
    if _api(request):
        return JsonResponse({"detail": "Not found."}, status=404)
    return render(request, "errors/404.html", status=404)


def server_error(request):
    if _api(request):
        return JsonResponse({"detail": "Server error. It has been logged."}, status=500)
    # No context processors: the failure may be in one of them.
    return HttpResponseServerError(loader.get_template("errors/500.html").render())


class RejectNulMiddleware:
    """A NUL character in a query string or form field is refused with the 400 page.

    PostgreSQL cannot store or compare text containing NUL, so such a value would otherwise
    fail deep in a query. Nothing legitimate sends one."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if _has_nul(request.GET) or (request.method == "POST" and _has_nul(request.POST)):
            return bad_request(request)
        return self.get_response(request)


def _has_nul(data) -> bool:
    try:
        return any("\x00" in key or any("\x00" in v for v in values) for key, values in data.lists())
    except Exception:  # an unreadable body: the view's own parsing reports it
        return False
