from django.contrib import admin
from django.urls import include, path

from accounts.urls import auth_urlpatterns
from accounts.views import home

admin.site.site_header = "Rebound administration"

urlpatterns = [
    path("", home, name="home"),
    path("", include(auth_urlpatterns)),
    path("", include("accounts.urls")),
    path("customers/", include("customers.urls")),
    path("outbox/", include("outbox.urls")),
    path("tasks/", include("followups.urls")),
    path("insights/", include("insights.urls")),
    path("", include("surveys.urls")),
    path("api/v1/", include("config.api_urls")),
    path("django-admin/", admin.site.urls),
]

handler403 = "config.errors.permission_denied"
handler404 = "config.errors.page_not_found"
handler500 = "config.errors.server_error"
