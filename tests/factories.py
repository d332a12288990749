import factory
from factory.django import DjangoModelFactory

from accounts.models import Role, Team, User
from customers.models import Account, Contact, Segment


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
