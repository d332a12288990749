"""The API against its own OpenAPI document: the document validates, and schemathesis sends generated
requests (valid and invalid) to every operation through the WSGI app, as an Admin token: no 5xx, every
status code and body as documented."""

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from django.test import Client
from django.urls import reverse
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.validation import validate_schema
from hypothesis import HealthCheck, settings
from rest_framework.test import APIClient
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from accounts.services import api_token_create

from .factories import ContactFactory, InvitationFactory, ProgramFactory, submit_answer

DOCUMENT = SchemaGenerator().get_schema(request=None, public=True)
schema = schemathesis.openapi.from_dict(DOCUMENT)
schema.app = get_wsgi_application()
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


def test_the_document_validates_and_describes_every_endpoint_with_its_errors(admin_user):
    validate_schema(DOCUMENT)  # OpenAPI 3 (drf-spectacular's JSON Schema of the spec)
    paths = DOCUMENT["paths"]
    assert set(paths) >= {
        "/api/v1/events/", "/api/v1/tasks/", "/api/v1/tasks/{id}/", "/api/v1/nps/", "/api/v1/contacts/export/",
        "/api/v1/contacts/erase/", "/api/v1/webhooks/", "/api/v1/webhooks/{id}/",
    }  # fmt: skip
    for path, operations in paths.items():
        for method, operation in operations.items():
            assert {"401", "403"} <= set(operation["responses"]), (method, path)
            assert operation.get("security"), (method, path)
    assert DOCUMENT["components"]["securitySchemes"]["token"]["scheme"] == "bearer"
    # Served to staff, as JSON or YAML; the interactive docs come from the app's own static files.
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {api_token_create(user=admin_user, name='docs')[1]}")
    assert api.get("/api/schema/", {"format": "json"}).json()["openapi"].startswith("3.")
    assert APIClient().get("/api/schema/").status_code in (401, 403)
    browser = Client()
    assert browser.get(reverse("api_docs")).status_code == 302  # signed out: to the login page
    browser.force_login(admin_user)
    docs = browser.get(reverse("api_docs")).content.decode()
    assert "drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in docs and "cdn" not in docs.lower()


@pytest.fixture
def token(db, admin_user, settings):
    settings.WEBHOOK_ALLOW_PRIVATE = True  # generated webhook URLs are never looked up in DNS
    contact = ContactFactory()
    submit_answer(invitation=InvitationFactory(contact=contact, program=ProgramFactory()), score=3, reason="Slow")
    # Requests go through the WSGI handler, which would close the test's database connection after
    # each one (Django's test client stands this down the same way).
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield api_token_create(user=admin_user, name="contract")[1]
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@schema.parametrize()
@settings(
    max_examples=15,
    deadline=None,
    derandomize=True,  # the same examples on every run: CI fails for a change, never for a dice roll
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.filter_too_much],
)
def test_every_operation_keeps_its_contract(case, token):
    case.call_and_validate(headers={"Authorization": f"Bearer {token}"}, checks=CHECKS)
