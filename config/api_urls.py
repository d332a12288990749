from django.urls import path

from surveys.api import EventView

app_name = "api"
urlpatterns = [
    path("events/", EventView.as_view(), name="events"),
]
