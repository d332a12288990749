"""Session sign-in that reads the user with their team in one query: every page needs the team
(roles, scoping, and the time zone the page is shown in)."""

from django.contrib.auth.backends import ModelBackend


class TeamModelBackend(ModelBackend):
    def get_user(self, user_id):
        user = self.get_user_model()._default_manager.select_related("team").filter(pk=user_id).first()
        return user if user is not None and self.user_can_authenticate(user) else None

    @staticmethod
    def get_user_model():
        from django.contrib.auth import get_user_model

        return get_user_model()
