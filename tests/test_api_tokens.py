"""API tokens: a read-only scope, and a rate limit per token answered with 429 and Retry-After."""

from django.urls import reverse
from rest_framework.test import APIClient

from accounts.models import ApiToken
from accounts.services import api_token_create

EVENT = {
    "type": "ticket_resolved", "contact": {"email": "pat@customer.example"}, "account": {"external_id": "CRM-1"},
    "occurred_at": "2026-11-20T10:00:00Z",
}  # fmt: skip


def _api(user, scope: str) -> APIClient:
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {api_token_create(user=user, name=scope, scope=scope)[1]}")
    return api


def test_a_read_only_token_reads_and_is_refused_every_change(admin_user):
    reader, writer = _api(admin_user, "read"), _api(admin_user, "write")
    assert reader.get("/api/v1/tasks/").status_code == 200
    refused = reader.post("/api/v1/events/", EVENT, format="json")
    assert refused.status_code == 403 and "read-only" in refused.json()["detail"]
    refused = reader.post("/api/v1/webhooks/", {"url": "https://hooks.example.com", "events": ["ping"]}, format="json")
    assert refused.status_code == 403
    assert writer.post("/api/v1/events/", EVENT, format="json").status_code in (200, 202)


def test_admins_choose_the_scope_when_creating_a_token(client, admin_user):
    client.force_login(admin_user)
    data = {"name": "BI tool", "user": admin_user.pk}
    assert "scope" in client.post(reverse("accounts:token_list"), data).context["form"].errors
    client.post(reverse("accounts:token_list"), {**data, "scope": "read"})
    assert ApiToken.objects.get(name="BI tool").scope == "read"
    assert "Read only" in client.get(reverse("accounts:token_list")).content.decode()


def test_each_token_has_its_own_rate_limit(admin_user, settings):
    settings.API_RATE_PER_TOKEN = "3/m"
    busy, other = _api(admin_user, "read"), _api(admin_user, "read")
    assert [busy.get("/api/v1/nps/").status_code for _ in range(3)] == [200, 200, 200]
    refused = busy.get("/api/v1/nps/")
    assert refused.status_code == 429 and 1 <= int(refused["Retry-After"]) <= 60
    assert "Request was throttled" in refused.json()["detail"]
    assert other.get("/api/v1/nps/").status_code == 200  # another token, its own budget
