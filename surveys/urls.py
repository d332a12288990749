from django.urls import path

from . import public_views, views

app_name = "surveys"
urlpatterns = [
    # Customer pages (first: see config/urls.py)
    path("s/<str:token>/", public_views.answer, name="answer"),
    path("s/<str:token>/thanks/", public_views.thanks, name="thanks"),
    path("s/<str:token>/improve/", public_views.thanks, {"form_name": "improve"}, name="improve"),
    path("s/<str:token>/refer/", public_views.thanks, {"form_name": "refer"}, name="refer"),
    path("s/<str:token>/questions/", public_views.thanks, {"form_name": "questions"}, name="questions"),
    path("programs/", views.program_list, name="program_list"),
    path("programs/new/", views.program_edit, name="program_create"),
    path("programs/preview/", views.program_preview_live, name="program_preview_live"),
    path("programs/<int:pk>/", views.program_detail, name="program_detail"),
    path("programs/<int:pk>/edit/", views.program_edit, name="program_edit"),
    path("programs/<int:pk>/questions/", views.program_questions, name="program_questions"),
    path("programs/<int:pk>/toggle/", views.program_toggle, name="program_toggle"),
    path("programs/<int:pk>/preview/", views.program_preview, name="program_preview"),
    path("programs/<int:pk>/preview.html", views.program_preview_html, name="program_preview_html"),
    path("programs/<int:pk>/test/", views.program_test_send, name="program_test_send"),
    path("programs/<int:pk>/send-now/", views.wave_send_now, name="wave_send_now"),
    path("waves/<int:pk>/", views.wave_detail, name="wave_detail"),
    path("settings/branding/", views.branding_edit, name="branding"),
    path("l/<str:token>/", public_views.shared, name="shared"),
    path("widget/v1/rebound.js", public_views.widget_js, name="widget_js"),
    path("widget/v1/ask", public_views.widget_ask, name="widget_ask"),
    path("widget/v1/answer", public_views.widget_answer, name="widget_answer"),
    path("widget/demo/", public_views.widget_demo, name="widget_demo"),
    path("programs/<int:pk>/widget/", views.program_widget, name="program_widget"),
    path("programs/<int:pk>/link/", views.program_share_link, name="program_share_link"),
    path("programs/<int:pk>/link/qr.svg", views.program_share_qr, name="program_share_qr"),
    path("u/<str:token>/", public_views.unsubscribe, name="unsubscribe"),
    path("brand/<str:version>.css", public_views.brand_css, name="brand_css"),
    path("brand/logo/<str:version>", public_views.brand_logo, name="brand_logo"),
]
