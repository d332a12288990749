from django.urls import path

from . import views

app_name = "followups"
urlpatterns = [
    path("", views.my_tasks, name="my_tasks"),
    path("queue/", views.queue, name="queue"),
    path("bulk-assign/", views.bulk_assign, name="bulk_assign"),
    path("digest/", views.digest_toggle, name="digest_toggle"),
    path("sla-policies/", views.sla_policies, name="sla_policies"),
    path("loop-templates/", views.loop_templates, name="loop_templates"),
    path("<int:pk>/", views.task_detail, name="task_detail"),
    path("<int:pk>/assign/", views.task_assign, name="task_assign"),
    path("<int:pk>/outreach/", views.task_outreach, name="task_outreach"),
    path("<int:pk>/note/", views.task_note, name="task_note"),
    path("<int:pk>/close/", views.task_close, name="task_close"),
    path("<int:pk>/email/", views.task_email, name="task_email"),
]
