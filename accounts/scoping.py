"""Which rows a user may see: the one rule, written once, failing closed.

Every read of team-bound data — accounts, contacts, invitations, events, responses, tasks, and
every figure, export and API result made of them — starts from a function here, and each takes
the user as a required argument. There is no "no user means everything": background jobs that
really do work across teams say so with ``SYSTEM``, which a request can never carry.

The rule:

- Admins (and superusers) see every row.
- Managers and CSMs see the rows of their own team. A user without a team sees nothing that is
  team-bound (a CSM still sees the tasks assigned to them, by name).
- Accounts, and what hangs off them now (contacts, invitations, events), follow the account's
  current team.
- A response follows the team it was given under (``Response.team``, the answer-time snapshot),
  so moving an account to another team neither hides old answers from the team that owned them
  nor shows them to the new one. A task follows its own ``team`` (set when it opened) or its
  assignee. A page that shows responses through a related object (an account's history, a task's
  other answers) asks ``responses(user)`` for them, never the relation.
- Anything else is refused: ``visible()`` raises for a model it does not know.
"""

from __future__ import annotations

from typing import Any, TypeVar

from django.apps import apps
from django.db.models import Model, Q, QuerySet

from .models import Role

QS = TypeVar("QS", bound=QuerySet)


class _System:
    """The caller is Rebound itself (ticks, digests, alerts), not a person: every row."""

    is_authenticated = True
    is_active = True
    is_superuser = True
    role = Role.ADMIN
    team_id = None
    pk = None

    def __repr__(self) -> str:
        return "SYSTEM"


SYSTEM = _System()

# model label → path to the team that owns its rows
TEAM_PATHS = {
    "customers.account": "team",
    "customers.contact": "account__team",
    "surveys.invitation": "account__team",
    "surveys.event": "account__team",
    "surveys.response": "team",
    "surveys.latestanswer": "response__team",  # a contact's latest answer, visible with the answer
    "followups.task": "team",
    "insights.dailycount": "team",  # the rollups of responses, by answer-time team like them
    "insights.dailythemecount": "team",
}


def sees_everything(user: Any) -> bool:
    _require(user)
    return bool(user.is_superuser or user.role == Role.ADMIN)


def visible(user: Any, queryset: QS) -> QS:
    """Narrow any queryset of a team-bound model to the rows the user may see."""
    _require(user)
    label = queryset.model._meta.label_lower
    try:
        path = TEAM_PATHS[label]
    except KeyError:
        raise TypeError(f"{label} has no scoping rule; add it to accounts.scoping.TEAM_PATHS.") from None
    if not (user.is_authenticated and user.is_active):
        return queryset.none()
    if sees_everything(user):
        return queryset
    mine = Q(**{f"{path}_id": user.team_id}) if user.team_id is not None else Q(pk__in=[])
    if label == "followups.task" and user.pk is not None:
        mine |= Q(assignee_id=user.pk)
    return queryset.filter(mine)


def _model(label: str) -> type[Model]:
    return apps.get_model(label)


def accounts(user: Any) -> QuerySet:
    return visible(user, _model("customers.Account").objects.all())


def contacts(user: Any) -> QuerySet:
    return visible(user, _model("customers.Contact").objects.all())


def invitations(user: Any) -> QuerySet:
    return visible(user, _model("surveys.Invitation").objects.all())


def events(user: Any) -> QuerySet:
    return visible(user, _model("surveys.Event").objects.all())


def responses(user: Any) -> QuerySet:
    return visible(user, _model("surveys.Response").objects.all())


def tasks(user: Any) -> QuerySet:
    return visible(user, _model("followups.Task").objects.all())


def alerts(user: Any) -> QuerySet:
    """Decline alerts: company-wide ones (no team) for Admins, a team's own for its members."""
    _require(user)
    alert = _model("insights.Alert").objects.all()
    if not (user.is_authenticated and user.is_active):
        return alert.none()
    if sees_everything(user):
        return alert
    return alert.filter(team_id=user.team_id) if user.team_id is not None else alert.none()


def _require(user: Any) -> None:
    if user is None:
        raise TypeError("Scoping needs the user; pass accounts.scoping.SYSTEM for work across all teams.")
