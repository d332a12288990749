from django.core.management.base import BaseCommand, CommandError

from accounts.models import User
from accounts.services import api_token_create


class Command(BaseCommand):
    help = "Create a REST API token for a staff user and print it (the token is the last word of the output)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("email")
        parser.add_argument("--name", default="Created from the command line")
        parser.add_argument(
            "--scope", choices=["read", "write"], default="write", help="read: GET only; write: also changes"
        )

    def handle(self, *args, email: str, name: str, **options) -> None:
        user = User.objects.filter(email__iexact=email, is_active=True).first()
        if user is None:
            raise CommandError(f"No active staff user with email {email}.")
        _token, key = api_token_create(user=user, name=name, scope=options["scope"])
        self.stdout.write(f"API token for {user.email} ({user.get_role_display()}): {key}")
