"""Session sign-in that reads the user with their team in one query: every page needs the team
(roles, scoping, and the time zone the page is shown in)."""

from django.contrib.auth.backends import ModelBackend, UserModel


class TeamModelBackend(ModelBackend):
    def get_user(self, user_id):
        user = UserModel._default_manager.select_related("team").filter(pk=user_id).first()
        return user if user is not None and self.user_can_authenticate(user) else None
