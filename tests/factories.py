import datetime

import factory
from django.utils import timezone
from factory.django import DjangoModelFactory

from accounts.models import Role, Team, User
from customers.models import Account, Contact, Segment
from surveys.models import Invitation, Program, Stream, derive_token, token_hash


class TeamFactory(DjangoModelFactory):
    class Meta:
        model = Team
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Team {n}")
    timezone = "UTC"


class UserFactory(DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("email",)
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"staff{n}@example.com")
    name = factory.Faker("name")
    role = Role.CSM
    team = factory.SubFactory(TeamFactory)
    password = factory.PostGenerationMethodCall("set_password", "pw")

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class AccountFactory(DjangoModelFactory):
    class Meta:
        model = Account

    name = factory.Faker("company")
    external_id = factory.Sequence(lambda n: f"ACC-{n:05d}")
    segment = Segment.SMB
    plan_tier = "Growth"
    region = "EMEA"
    industry = "Software"
    team = factory.SubFactory(TeamFactory)


class ContactFactory(DjangoModelFactory):
    class Meta:
        model = Contact

    account = factory.SubFactory(AccountFactory)
    email = factory.Sequence(lambda n: f"contact{n}@customer.example.com")
    name = factory.Faker("name")
    locale = "en"


class ProgramFactory(DjangoModelFactory):
    class Meta:
        model = Program

    stream = Stream.RELATIONSHIP
    name = factory.Sequence(lambda n: f"Program {n}")
    product_name = "Acme Cloud"
    sender_name = "Acme Success"
    sender_email = "success@acme.example.com"
    start_date = datetime.date(2020, 1, 1)
    quiet_period_days = 30


class TransactionalProgramFactory(ProgramFactory):
    stream = Stream.TRANSACTIONAL
    event_types = factory.LazyFunction(lambda: ["ticket_resolved"])
    quiet_period_days = 14
    delay_minutes = 60


class InvitationFactory(DjangoModelFactory):
    class Meta:
        model = Invitation
        exclude = ("when",)

    program = factory.SubFactory(ProgramFactory)
    stream = factory.SelfAttribute("program.stream")
    contact = factory.SubFactory(ContactFactory)
    account = factory.SelfAttribute("contact.account")
    when = factory.LazyFunction(timezone.now)
    send_at = factory.SelfAttribute("when")
    expires_at = factory.LazyAttribute(lambda o: o.when + datetime.timedelta(days=o.program.link_expiry_days))
    quiet_until = factory.LazyAttribute(lambda o: o.when + datetime.timedelta(days=o.program.quiet_period_days))
    token_nonce = factory.LazyFunction(lambda: Invitation.new_token_fields()["token_nonce"])
    token_hash = factory.LazyAttribute(lambda o: token_hash(derive_token(o.token_nonce)))


def submit_answer(**kwargs):
    """A customer's answer, then what the worker does after the commit (follow-ups, theme tags):
    the test database's transaction never commits, so the after-commit wake-up never fires."""
    from surveys.answers import response_submit, responses_route_pending

    result = response_submit(**kwargs)
    responses_route_pending()
    result.response.refresh_from_db()
    return result
