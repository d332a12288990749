"""Close-the-loop drafts: the Admins' templates per queue, merge fields, and the blanks a CSM must fill."""

from __future__ import annotations

import re

from .models import LoopTemplate, Queue, Task

MERGE_FIELDS = {
    "first_name": "the contact's first name",
    "contact_name": "the contact's full name",
    "account": "the account's name",
    "product": "the product the program asks about",
    "score": "the score they gave",
    "csm_name": "your name",
}
FIELD = re.compile(r"\{(\w+)\}")
BLANK = re.compile(r"\[\[(.*?)\]\]", re.DOTALL)

_SIGN_OFF = "If there is anything else, just reply to this email.\n\n{csm_name}"
DEFAULTS = {
    Queue.RECOVERY: (
        "Following up on your feedback about {product}",
        "Hi {first_name},\n\nThank you for telling us what you think of {product}, and I am sorry we let you "
        "down. I read your answer myself.\n\nHere is what we did: [[what you changed or will change, and when]]"
        "\n\n" + _SIGN_OFF,
    ),
    Queue.CHECKIN: (
        "What would make {product} a 10 for you?",
        "Hi {first_name},\n\nThank you for your feedback on {product}. [[what you are doing about what they "
        "asked for]]\n\n" + _SIGN_OFF,
    ),
    Queue.REFERRAL: (
        "Thank you, {first_name}",
        "Hi {first_name},\n\nThank you for recommending {product}. [[a personal thank-you, and the referral "
        "you would like]]\n\n" + _SIGN_OFF,
    ),
    Queue.ADVOCACY: (
        "Would you share your experience with {product}?",
        "Hi {first_name},\n\nThank you for your kind words about {product}. [[the review, case study or "
        "reference you are asking for]]\n\n" + _SIGN_OFF,
    ),
}


def template_for(queue: str) -> LoopTemplate:
    """The queue's template, created from the default on first use."""
    subject, body = DEFAULTS[queue]
    return LoopTemplate.objects.get_or_create(queue=queue, defaults={"subject": subject, "body": body})[0]


def templates() -> list[LoopTemplate]:
    """One template per queue, the defaults created on first use."""
    for queue in DEFAULTS:
        template_for(queue)
    return list(LoopTemplate.objects.all())


def unknown_fields(text: str) -> list[str]:
    return sorted({name for name in FIELD.findall(text) if name not in MERGE_FIELDS})


def blanks(text: str) -> list[str]:
    """The ``[[…]]`` blanks still in a message, as written."""
    return [f"[[{m}]]" for m in BLANK.findall(text)]


def draft(task: Task, sender) -> dict[str, str]:
    """The close-the-loop email's editable subject and body for a task, from its queue's template."""
    template = template_for(task.queue)
    contact = task.contact
    values = {
        "first_name": contact.first_name or contact.name or "",
        "contact_name": contact.name or contact.email,
        "account": task.account.name,
        "product": task.response.program.product_name,
        "score": str(task.response.score),
        "csm_name": sender.get_full_name(),
    }

    def merge(text: str) -> str:
        return FIELD.sub(lambda m: values.get(m.group(1), m.group(0)), text)

    return {"subject": merge(template.subject), "body": merge(template.body)}
