from django.contrib.auth import views as auth_views
from django.urls import path

from . import views
from .forms import PasswordResetRequestForm
from .permissions import ALL_STAFF, roles

app_name = "accounts"
urlpatterns = [
    path("staff/", views.user_list, name="user_list"),
    path("staff/new/", views.user_edit, name="user_create"),
    path("staff/<int:pk>/", views.user_edit, name="user_edit"),
    path("teams/new/", views.team_edit, name="team_create"),
    path("teams/<int:pk>/", views.team_edit, name="team_edit"),
    path("api-tokens/", views.token_list, name="token_list"),
    path("api-tokens/<int:pk>/revoke/", views.token_revoke, name="token_revoke"),
    path("staff/<int:pk>/two-factor/reset/", views.user_two_factor_reset, name="user_two_factor_reset"),
    path("security/", views.security, name="security"),
    path("security/unlock/", views.lockout_reset, name="lockout_reset"),
    path("audit/", views.audit_list, name="audit_list"),
    path("me/", views.my_settings, name="my_settings"),
]

# Django's auth pages. Login and password reset are public already (login_not_required);
# logout and password change are for any signed-in staff member.
auth_urlpatterns = [
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("two-factor/", views.two_factor_verify, name="two_factor_verify"),
    path("two-factor/setup/", views.two_factor_setup, name="two_factor_setup"),
    path("two-factor/off/", views.two_factor_disable, name="two_factor_disable"),
    path("logout/", roles(*ALL_STAFF)(auth_views.LogoutView.as_view()), name="logout"),
    path("password/change/", roles(*ALL_STAFF)(auth_views.PasswordChangeView.as_view()), name="password_change"),
    path(
        "password/change/done/",
        roles(*ALL_STAFF)(auth_views.PasswordChangeDoneView.as_view()),
        name="password_change_done",
    ),
    path(
        "password/reset/",
        auth_views.PasswordResetView.as_view(form_class=PasswordResetRequestForm),
        name="password_reset",
    ),
    path("password/reset/done/", auth_views.PasswordResetDoneView.as_view(), name="password_reset_done"),
    path(
        "password/reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path("password/reset/complete/", auth_views.PasswordResetCompleteView.as_view(), name="password_reset_complete"),
]
