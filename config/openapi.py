"""The OpenAPI document's shared parts: the token scheme and the error bodies every endpoint may answer.

drf-spectacular describes each view from its serializers; `errors_hook` (SPECTACULAR_SETTINGS
POSTPROCESSING_HOOKS) adds the errors the permission layer and the parsers give everywhere, so that
no operation forgets them: 400 (invalid input: one list of messages per field), 401, 403, 404 on
an unknown id or a page past the end, 429 (rate limit).
"""

from csp.decorators import csp_update
from django.utils.decorators import method_decorator
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from accounts.permissions import ALL_STAFF, StaffApiMixin, roles


class TokenScheme(OpenApiAuthenticationExtension):
    target_class = "accounts.authentication.ApiTokenAuthentication"
    name = "token"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "`Authorization: Bearer <key>` (or `Token <key>`); Admins create keys under API tokens.",
        }


ERROR = {
    "type": "object",
    "properties": {"detail": {"type": "string"}},
    "required": ["detail"],
    "example": {"detail": "Invalid or revoked token."},
}
FIELD_ERRORS = {
    "type": "object",
    "description": "Per field, a list of messages; a nested object or list has its own errors inside.",
    "additionalProperties": {"anyOf": [{"type": "array", "items": {"type": "string"}}, {"type": "object"}]},
    "example": {"queue": ["Select a valid choice. bogus is not one of the available choices."]},
}


def _response(description: str, *refs: str) -> dict:
    schema = {"$ref": refs[0]} if len(refs) == 1 else {"anyOf": [{"$ref": ref} for ref in refs]}
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def errors_hook(result, generator, request, public):
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas["Error"], schemas["FieldErrors"] = ERROR, FIELD_ERRORS
    for _path, operations in result.get("paths", {}).items():
        for method, operation in operations.items():
            responses = operation.setdefault("responses", {})
            if method in ("post", "put", "patch") or operation.get("parameters"):
                responses.setdefault(
                    "400",
                    _response(
                        "Invalid input: messages per field, or one detail for a body that isn't JSON.",
                        "#/components/schemas/FieldErrors",
                        "#/components/schemas/Error",
                    ),
                )
            responses.setdefault("401", _response("No or a bad token.", "#/components/schemas/Error"))
            responses.setdefault("403", _response("The token's role may not do this.", "#/components/schemas/Error"))
            responses.setdefault(
                "404", _response("Not found, not visible to you, or a page past the end.", "#/components/schemas/Error")
            )
            responses.setdefault("429", _response("Too many requests; see Retry-After.", "#/components/schemas/Error"))
    return result


# The document and its interactive docs: for signed-in staff (a session) or any valid token.


class SchemaView(StaffApiMixin, SpectacularAPIView):
    allowed_roles = ALL_STAFF


# A page for people: signed-out visitors go to the login page (config/urls.py wraps it in roles()).
# Swagger UI sets style attributes as it renders (script stays 'self': its init script is a separate URL).
@method_decorator(csp_update({"style-src": ["'unsafe-inline'"]}), name="dispatch")
class DocsView(SpectacularSwaggerSplitView):
    url_name = "api_schema"


_docs = DocsView.as_view()


@roles(*ALL_STAFF)
def api_docs(request):
    """A page, not an API endpoint: the login middleware applies (DRF exempts its own views)."""
    return _docs(request)
