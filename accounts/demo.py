"""Demo staff: an admin, a manager and two CSMs in two teams. Idempotent."""

from __future__ import annotations

from .models import Role, Team, User

DEMO_USERS = [
    # email, name, role, team, password
    ("admin@example.com", "Ada Admin", Role.ADMIN, None, "rebound-admin"),
    ("manager@example.com", "Maya Manager", Role.MANAGER, "North America", "rebound-manager"),
    ("csm1@example.com", "Carlos CSM", Role.CSM, "North America", "rebound-csm"),
    ("csm2@example.com", "Chloe CSM", Role.CSM, "EMEA", "rebound-csm"),
]
DEMO_TEAMS = [("North America", "America/New_York"), ("EMEA", "Europe/Berlin")]


def seed() -> dict[str, User]:
    teams = {}
    for name, tz in DEMO_TEAMS:
        teams[name], _ = Team.objects.get_or_create(name=name, defaults={"timezone": tz})
    users = {}
    for email, name, role, team, password in DEMO_USERS:
        user = User.objects.filter(email=email).first()
        if user is None:
            user = User.objects.create_user(
                email, password, name=name, role=role, team=teams.get(team), is_superuser=role == Role.ADMIN
            )
        users[email] = user
    return users
