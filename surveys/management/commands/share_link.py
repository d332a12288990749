from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.urls import reverse

from customers.models import Contact
from surveys import links
from surveys.models import Program


class Command(BaseCommand):
    help = (
        "Print a program's shared link (creating it if the program has none), or with --email the link that "
        "answers as that contact: signed by Rebound, so nobody can answer as someone else. Paste it in a support "
        "signature, a help-centre page or a CRM template."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("program", type=int, help="The program's id (its page's URL shows it).")
        parser.add_argument("--email", help="A contact's email: the link answers as them, with the usual follow-up.")

    def handle(self, *args, program: int, email: str | None, **options) -> None:
        found = Program.objects.filter(pk=program).first()
        if found is None:
            raise CommandError(f"No program {program}.")
        token = found.share_token or links.share_link_enable(found)
        url = settings.SITE_URL + reverse("surveys:shared", args=[token])
        if email:
            contact = Contact.objects.filter(email__iexact=email, account__is_test=False).first()
            if contact is None:
                raise CommandError(f"No contact {email}.")
            url += "?c=" + links.identity_for(found, contact)
        self.stdout.write(url)
