from django.urls import path

from config import openapi  # noqa: F401 - registers the token scheme for the schema
from customers import api as customers_api
from followups.api import TASK_ACTIONS, TaskDetail, TaskList
from insights.api import DriversView, NpsView, RiskView, ThemeSuggestionsView
from integrations.api import WebhookDetail, WebhookList
from surveys import api as surveys_api

app_name = "api"
urlpatterns = [
    path("events/", surveys_api.EventView.as_view(), name="events"),
    path("programs/", surveys_api.ProgramList.as_view(), name="programs"),
    path("programs/<int:pk>/", surveys_api.ProgramDetail.as_view(), name="program_detail"),
    path("waves/", surveys_api.WaveList.as_view(), name="waves"),
    path("invitations/", surveys_api.InvitationList.as_view(), name="invitations"),
    path("responses/", surveys_api.ResponseList.as_view(), name="responses"),
    path("responses/<int:pk>/", surveys_api.ResponseDetail.as_view(), name="response_detail"),
    path("accounts/", customers_api.AccountList.as_view(), name="accounts"),
    path("accounts/bulk/", customers_api.AccountBulk.as_view(), name="account_bulk"),
    path("accounts/by-external-id/<str:external_id>/", customers_api.AccountUpsert.as_view(), name="account_upsert"),
    path("accounts/<int:pk>/", customers_api.AccountDetail.as_view(), name="account_detail"),
    path("contacts/", customers_api.ContactList.as_view(), name="contacts"),
    path("contacts/bulk/", customers_api.ContactBulk.as_view(), name="contact_bulk"),
    path("contacts/by-email/<str:email>/", customers_api.ContactUpsert.as_view(), name="contact_upsert"),
    path("contacts/<int:pk>/", customers_api.ContactDetail.as_view(), name="contact_detail"),
    path("contacts/<int:pk>/unsubscribe/", customers_api.ContactUnsubscribe.as_view(), name="contact_unsubscribe"),
    path("contacts/export/", customers_api.ContactExport.as_view(), name="contact_export"),
    path("contacts/erase/", customers_api.ContactErase.as_view(), name="contact_erase"),
    path("tasks/", TaskList.as_view(), name="tasks"),
    path("tasks/<int:pk>/", TaskDetail.as_view(), name="task_detail"),
    *[
        path(f"tasks/<int:pk>/{name}/", view.as_view(), name=f"task_{name.replace('-', '_')}")
        for name, view in TASK_ACTIONS.items()
    ],
    path("nps/", NpsView.as_view(), name="nps"),
    path("drivers/", DriversView.as_view(), name="drivers"),
    path("theme-suggestions/", ThemeSuggestionsView.as_view(), name="theme_suggestions"),
    path("risk/", RiskView.as_view(), name="risk"),
    path("webhooks/", WebhookList.as_view(), name="webhooks"),
    path("webhooks/<int:pk>/", WebhookDetail.as_view(), name="webhook_detail"),
]
