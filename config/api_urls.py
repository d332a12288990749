from django.urls import path

from followups.api import TaskDetail, TaskList
from insights.api import NpsView
from surveys.api import EventView

app_name = "api"
urlpatterns = [
    path("events/", EventView.as_view(), name="events"),
    path("tasks/", TaskList.as_view(), name="tasks"),
    path("nps/", NpsView.as_view(), name="nps"),
    path("tasks/<int:pk>/", TaskDetail.as_view(), name="task_detail"),
]
