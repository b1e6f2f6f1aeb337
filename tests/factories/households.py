"""Cafs, files, their members, benefits and payments."""

import datetime

import factory
from django.utils import timezone
from factory.random import randgen

from moncompte.households.models import Benefit, Caf, Dossier, Member, Payment, Role
from tests.factories.identity import PersonFactory, fake

# Codes no demo Caf uses (751, 131), so that a test loading the demo as well gets no clash.
_CAF_CODES = [f"{n:03d}" for n in range(200, 1000) if n not in (751, 131)]
_DEPARTEMENTS = ("01", "06", "13", "31", "33", "35", "44", "59", "67", "69", "75", "2A")


class CafFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Caf
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: _CAF_CODES[n % len(_CAF_CODES)])
    departement = factory.LazyFunction(lambda: randgen.choice(_DEPARTEMENTS))
    name = factory.LazyAttribute(lambda o: f"Caf {o.code}")


class DossierFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Dossier

    caf = factory.SubFactory(CafFactory)
    # Seven digits, unique in the session (the demo's numbers start with 1 to 3).
    numero = factory.Sequence(lambda n: f"{9000000 + n:07d}")
    address_line1 = factory.LazyFunction(fake.street_address)
    postal_code = factory.LazyFunction(fake.postcode)
    city = factory.LazyFunction(fake.city)


class MemberFactory(factory.django.DjangoModelFactory):
    """A membership; the person's age follows the role unless given (``person__age=17``).

    ``MemberFactory(dossier=d)`` is the responsible person; traits: ``spouse``, ``delegated``
    (a spouse holding the delegation), ``child`` (17), ``young_child`` (10), ``other``, ``ended``
    (ended yesterday: a former member).
    """

    class Meta:
        model = Member

    class Params:
        spouse = factory.Trait(role=Role.CONJOINT)
        delegated = factory.Trait(role=Role.CONJOINT, delegation_granted_at=factory.LazyFunction(timezone.now))
        child = factory.Trait(role=Role.ENFANT, person=factory.SubFactory(PersonFactory, age=17))
        young_child = factory.Trait(role=Role.ENFANT, person=factory.SubFactory(PersonFactory, age=10))
        other = factory.Trait(role=Role.AUTRE)
        ended = factory.Trait(ended_on=factory.LazyFunction(lambda: datetime.date.today() - datetime.timedelta(days=1)))

    dossier = factory.SubFactory(DossierFactory)
    person = factory.SubFactory(PersonFactory)
    role = Role.RESPONSABLE
    joined_on = datetime.date(2015, 1, 1)


class BenefitFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Benefit

    dossier = factory.SubFactory(DossierFactory)
    code = "AF"
    label = "Allocations familiales"
    monthly_amount_cents = factory.LazyFunction(lambda: randgen.randint(5000, 60000))
    started_on = datetime.date(2020, 1, 1)


class PaymentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Payment

    benefit = factory.SubFactory(BenefitFactory)
    dossier = factory.SelfAttribute("benefit.dossier")
    paid_on = factory.LazyFunction(lambda: datetime.date.today().replace(day=1))
    amount_cents = factory.SelfAttribute("benefit.monthly_amount_cents")


__all__ = ["BenefitFactory", "CafFactory", "DossierFactory", "MemberFactory", "PaymentFactory"]
