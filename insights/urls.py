from django.urls import path

from . import views

app_name = "insights"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("accounts/", views.accounts, name="accounts"),
    path("export/responses.csv", views.export_responses, name="export_responses"),
    path("export/tasks.csv", views.export_tasks, name="export_tasks"),
    path("themes/", views.theme_taxonomy, name="themes"),
    path("themes/<int:pk>/", views.theme_verbatims, name="theme_verbatims"),
]
