"""Staff read dates and times in their own time zone (User.zone); customers' pages and the API use
the site's TIME_ZONE, and ISO 8601 with an offset in the API."""

from collections.abc import Callable

from django.http import HttpRequest
from django.utils import timezone


class UserTimezoneMiddleware:
    def __init__(self, get_response: Callable) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            timezone.activate(user.zone)
        else:
            timezone.deactivate()
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()
