from django.core.management.base import BaseCommand
from django.db import transaction

from accounts import demo as accounts_demo
from accounts.demo import DEMO_USERS
from customers import demo as customers_demo
from surveys import demo as surveys_demo


class Command(BaseCommand):
    help = "Create demo staff, customers and survey history. Safe to run again: it adds only what is missing."

    def handle(self, *args, **options) -> None:
        with transaction.atomic():
            users = accounts_demo.seed()
            customers_demo.seed(users)
            programs = surveys_demo.seed()
            tried = surveys_demo.try_it_yourself(programs["relationship"])
        self.stdout.write(self.style.SUCCESS("Demo data is ready. Demo logins:"))
        for email, _name, role, team, password in DEMO_USERS:
            self.stdout.write(f"  {role.label:<8} {email:<22} password: {password}" + (f"  ({team})" if team else ""))
        self.stdout.write(
            f"Try it yourself: sign in as {tried}, open the Outbox and click a score in the survey email "
            "addressed to you; your answer opens a task in the queue (a test: it counts in no figure)."
        )
