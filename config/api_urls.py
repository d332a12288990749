from django.urls import path

from config import openapi  # noqa: F401 - registers the token scheme for the schema
from customers.api import ContactErase, ContactExport
from followups.api import TaskDetail, TaskList
from insights.api import NpsView
from integrations.api import WebhookDetail, WebhookList
from surveys.api import EventView

app_name = "api"
urlpatterns = [
    path("events/", EventView.as_view(), name="events"),
    path("tasks/", TaskList.as_view(), name="tasks"),
    path("nps/", NpsView.as_view(), name="nps"),
    path("tasks/<int:pk>/", TaskDetail.as_view(), name="task_detail"),
    path("contacts/export/", ContactExport.as_view(), name="contact_export"),
    path("contacts/erase/", ContactErase.as_view(), name="contact_erase"),
    path("webhooks/", WebhookList.as_view(), name="webhooks"),
    path("webhooks/<int:pk>/", WebhookDetail.as_view(), name="webhook_detail"),
]
