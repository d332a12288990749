"""Slack and Microsoft Teams messages for the events a CS channel acts on.

A chat subscription is a webhook subscription with format "slack" or "teams": the same durable
deliveries, retries and log; only the body differs. Customer text is escaped for each (a verbatim
holding "<!channel>" must not ping a Slack channel, nor a link be disguised).
"""

from __future__ import annotations

from django.contrib.humanize.templatetags.humanize import intcomma

COLOURS = {"task.created": "#dc3545", "task.breached": "#fd7e14", "alert.decline": "#6f42c1"}


def _slack_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _teams_escape(text: str) -> str:
    escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    for char in "\\`*_{}[]()#+-.!|":
        escaped = escaped.replace(char, "\\" + char)
    return escaped


def _money(value) -> str:
    return f"{intcomma(int(float(value)))}" if value not in (None, "") else "—"


def summary(payload: dict) -> tuple[str, list[str], str | None]:
    """(title, lines of plain text, link) for an event; the caller escapes the lines for its chat."""
    data, kind = payload["data"], payload["type"]
    if kind == "alert.decline":
        where = f" in {data['team']}" if data.get("team") else ""
        trend = " → ".join(str(v) for v in data["nps_values"])
        return (
            f"Decline alert{where}: {data['dimension']} “{data['value']}”",
            [f"{data['stream'].capitalize()} NPS fell two quarters in a row beyond the margin: {trend} "
             f"(to {data['period']})."],
            None,
        )  # fmt: skip
    account, response = data["account"], data["response"]
    who = f"{data['contact']['name'] or data['contact']['email']}, {account['name']}"
    if kind == "task.breached":
        title = f"SLA breached: {data['queue']} task for {who}"
        lines = [f"Due {data['due_at']}, no contact yet. Assignee: {data['assignee'] or 'team queue'}."]
    elif kind == "ping":
        return "Rebound test event", ["This channel will get Rebound's alerts."], None
    else:
        title = f"New Detractor: {response['score']}/10 from {who}"
        lines = [f"ARR {_money(account.get('arr'))} · assignee {data['assignee'] or 'team queue'}"]
    if response.get("reason"):
        lines.append(f"“{response['reason']}”")
    return title, lines, data.get("url")


def slack_body(payload: dict) -> dict:
    title, lines, url = summary(payload)
    text = "\n".join(_slack_escape(line) for line in lines)
    blocks = [
        {"type": "section", "text": {"type": "mrkdwn", "text": f"*{_slack_escape(title)}*\n{text}"}},
    ]
    if url:
        blocks.append(
            {"type": "actions", "elements": [{"type": "button", "text": {"type": "plain_text", "text": "Open the task"},
                                               "url": url}]}
        )  # fmt: skip
    return {"text": _slack_escape(title), "blocks": blocks}


def teams_body(payload: dict) -> dict:
    title, lines, url = summary(payload)
    card = {
        "@type": "MessageCard",
        "@context": "https://schema.org/extensions",
        "summary": title,
        "themeColor": COLOURS.get(payload["type"], "#0d6efd").lstrip("#"),
        "title": _teams_escape(title),
        "text": "\n\n".join(_teams_escape(line) for line in lines),
    }
    if url:
        card["potentialAction"] = [
            {"@type": "OpenUri", "name": "Open the task", "targets": [{"os": "default", "uri": url}]}
        ]
    return card


BODIES = {"slack": slack_body, "teams": teams_body}
