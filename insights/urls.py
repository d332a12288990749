from django.urls import path

from . import intelligence_views as ai
from . import views

app_name = "insights"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("accounts/", views.accounts, name="accounts"),
    path("export/responses.csv", views.export_responses, name="export_responses"),
    path("export/tasks.csv", views.export_tasks, name="export_tasks"),
    path("themes/", views.theme_taxonomy, name="themes"),
    path("themes/<int:pk>/", views.theme_verbatims, name="theme_verbatims"),
    path("themes/discover/", ai.theme_discovery, name="discovery"),
    path("themes/discover/start/", ai.discovery_start, name="discovery_start"),
    path("themes/suggestions/<int:pk>/", ai.suggestion_decide, name="suggestion_decide"),
    path("responses/<int:pk>/themes/", ai.correct_tag, name="tag_correct"),
    path("drivers/", ai.driver_list, name="drivers"),
    path("risk/", ai.likely_detractors, name="risk"),
    path("risk/train/", ai.risk_train, name="risk_train"),
]
