import pytest
from django.conf import settings
from django.db import connection

from accounts.models import Role

from .factories import AccountFactory, ContactFactory, TeamFactory, UserFactory


def pytest_report_header(config):
    db = settings.DATABASES["default"]
    where = db["ENGINE"].rsplit(".", 1)[-1]
    if where != "sqlite3":
        where += f" at {db.get('HOST') or 'local socket'}:{db.get('PORT') or ''}"
    cache = settings.CACHES["default"]["BACKEND"].rsplit(".", 1)[-1]
    return [f"rebound: database = {where}; cache = {cache}; broker = {getattr(settings, 'CELERY_BROKER_URL', '')}"]


def pytest_terminal_summary(terminalreporter):
    terminalreporter.write_line(
        f"rebound: the suite ran on {connection.vendor} ({settings.DATABASES['default']['ENGINE']})"
    )


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Rate-limit counters live in the cache; every test starts from zero."""
    from django.core.cache import cache

    cache.clear()
    yield


@pytest.fixture
def team(db):
    return TeamFactory(name="North")


@pytest.fixture
def other_team(db):
    return TeamFactory(name="South")


@pytest.fixture
def admin_user(db):
    return UserFactory(email="admin@example.com", role=Role.ADMIN, team=None)


@pytest.fixture
def manager(team):
    return UserFactory(email="manager@example.com", role=Role.MANAGER, team=team)


@pytest.fixture
def csm(team):
    return UserFactory(email="csm@example.com", role=Role.CSM, team=team)


@pytest.fixture
def other_csm(other_team):
    return UserFactory(email="csm.south@example.com", role=Role.CSM, team=other_team)


@pytest.fixture
def account(team, csm):
    return AccountFactory(team=team, csm=csm, name="Northwind")


@pytest.fixture
def other_account(other_team, other_csm):
    return AccountFactory(team=other_team, csm=other_csm, name="Southwind")


@pytest.fixture
def contact(account):
    return ContactFactory(account=account, email="pat@northwind.example.com", name="Pat Doe")


@pytest.fixture
def other_contact(other_account):
    return ContactFactory(account=other_account, email="sam@southwind.example.com", name="Sam Roe")


@pytest.fixture
def users_by_role(admin_user, manager, csm):
    return {Role.ADMIN: admin_user, Role.MANAGER: manager, Role.CSM: csm}
