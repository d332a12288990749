from django.conf import settings
from django.contrib import admin
from django.contrib.auth.decorators import login_not_required
from django.urls import URLPattern, include, path

from accounts.urls import auth_urlpatterns
from config.openapi import SchemaView, api_docs
from insights.views import home

admin.site.site_header = "Rebound administration"

urlpatterns = [
    # The customer pages first: the busiest URLs (every answer) resolve at the first include's first
    # patterns instead of after every staff pattern (0.1 ms per answer). No other pattern overlaps them.
    path("", include("surveys.urls")),
    path("", home, name="home"),
    path("", include(auth_urlpatterns)),
    path("", include("accounts.urls")),
    path("customers/", include("customers.urls")),
    path("outbox/", include("outbox.urls")),
    path("tasks/", include("followups.urls")),
    path("insights/", include("insights.urls")),
    path("integrations/", include("integrations.urls")),
    path("api/v1/", include("config.api_urls")),
    path("api/schema/", SchemaView.as_view(), name="api_schema"),
    path("api/docs/", api_docs, name="api_docs"),
    path("django-admin/", admin.site.urls),
]

handler400 = "config.errors.bad_request"
handler403 = "config.errors.permission_denied"
handler404 = "config.errors.page_not_found"
handler500 = "config.errors.server_error"


def _public(patterns: list) -> list:
    """A library's webhook views, open to the ESP (no login): they authenticate each request."""
    return [URLPattern(p.pattern, login_not_required(p.callback), p.default_args, p.name) for p in patterns]


if settings.ANYMAIL_WEBHOOK_SECRET:
    from anymail import urls as anymail_urls

    urlpatterns.append(
        path("webhooks/mail/", include((_public(anymail_urls.urlpatterns), "anymail"), namespace="anymail"))
    )
