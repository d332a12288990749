from django.urls import reverse

from .permissions import ADMIN_ONLY, ALL_STAFF, has_role

# (label, url name, roles). The navigation shows a link only to the roles that may open it.
NAVIGATION = [
    ("Home", "home", ALL_STAFF),
    ("My tasks", "followups:my_tasks", ALL_STAFF),
    ("Queues", "followups:queue", ALL_STAFF),
    ("Insights", "insights:dashboard", ALL_STAFF),
    ("Likely detractors", "insights:risk", ALL_STAFF),
    ("Accounts", "customers:account_list", ALL_STAFF),
    ("Contacts", "customers:contact_list", ALL_STAFF),
    ("Programs", "surveys:program_list", ADMIN_ONLY),
    ("SLA policies", "followups:sla_policies", ADMIN_ONLY),
    ("Loop templates", "followups:loop_templates", ADMIN_ONLY),
    ("Branding", "surveys:branding", ADMIN_ONLY),
    ("Import", "customers:import_list", ADMIN_ONLY),
    ("Export", "integrations:export_list", ADMIN_ONLY),
    ("API tokens", "accounts:token_list", ADMIN_ONLY),
    ("Webhooks", "integrations:webhook_list", ADMIN_ONLY),
    ("Staff", "accounts:user_list", ADMIN_ONLY),
    ("Outbox", "outbox:list", ADMIN_ONLY),
    ("Security", "accounts:security", ADMIN_ONLY),
    ("Audit", "accounts:audit_list", ADMIN_ONLY),
]


def navigation(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_items": []}
    current = request.resolver_match.view_name if request.resolver_match else ""
    items = []
    from outbox.views import outbox_enabled

    for label, name, allowed in NAVIGATION:
        if name == "outbox:list" and not outbox_enabled():
            continue
        if has_role(user, allowed):
            items.append({"label": label, "url": reverse(name), "active": current == name})
    return {"nav_items": items}
