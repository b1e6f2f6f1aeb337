"""Accounts, their contacts and the files' old 8-digit codes."""

import factory
from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.utils import timezone

from moncompte.accounts.legacy import legacy_code_digest
from moncompte.accounts.models import Account, Contact, LegacyCredential
from moncompte.core.actors import ContactChannel
from tests.factories.households import DossierFactory
from tests.factories.identity import PersonFactory

DEFAULT_PASSWORD = "Fabrique2024ciel"

# One Argon2 derivation per (password, hasher settings) in the whole session: with the production
# parameters each costs about 40 ms of CPU, and a household has three accounts.
_hashes: dict[tuple, str] = {}


def password_hash(raw: str) -> str:
    key = (
        raw,
        tuple(settings.PASSWORD_HASHERS),
        getattr(settings, "MONCOMPTE_ARGON2_MEMORY_KIB", None),
        getattr(settings, "MONCOMPTE_ARGON2_TIME_COST", None),
        getattr(settings, "MONCOMPTE_ARGON2_PARALLELISM", None),
    )
    if key not in _hashes:
        _hashes[key] = make_password(raw)
    return _hashes[key]


class ContactFactory(factory.django.DjangoModelFactory):
    """A validated email by default; traits ``phone`` and ``unverified``."""

    class Meta:
        model = Contact

    class Params:
        phone = factory.Trait(kind=ContactChannel.PHONE, value=factory.Sequence(lambda n: f"+3361{n % 10_000_000:07d}"))
        unverified = factory.Trait(verified_at=None)

    account = factory.SubFactory("tests.factories.accounts.AccountFactory", with_contact=False)
    kind = ContactChannel.EMAIL
    # Unique in the session: a code sent to one person's address never reaches another's test.
    value = factory.Sequence(lambda n: f"personne{n}@example.fr")
    verified_at = factory.LazyFunction(timezone.now)

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        contact = super()._create(model_class, *args, **kwargs)
        account = contact.account
        # As the contact services do: the first validated contact makes the account usable.
        if contact.verified_at and hasattr(account, "contact_validated_at") and account.contact_validated_at is None:
            account.contact_validated_at = contact.verified_at
            account.save(update_fields=["contact_validated_at"])
        return contact


class AccountFactory(factory.django.DjangoModelFactory):
    """``AccountFactory(password=...)``, ``AccountFactory(with_contact=False)`` (no validated contact:
    the account is not usable yet), ``AccountFactory(contact__phone=True)``.

    The created account carries ``raw_password``; its person carries ``raw_identifier``.
    """

    class Meta:
        model = Account
        skip_postgeneration_save = True

    class Params:
        password = DEFAULT_PASSWORD
        with_contact = True

    person = factory.SubFactory(PersonFactory)
    raw_password = factory.SelfAttribute("password")
    is_active = True
    password_changed_at = factory.LazyFunction(timezone.now)
    # The first-connection screens already seen, at the version of the test's settings: a test
    # that signs in lands where it expects. ``onboarding_version_seen=0`` for someone new.
    onboarding_version_seen = factory.LazyFunction(lambda: settings.MONCOMPTE_ONBOARDING_VERSION)
    contact = factory.Maybe(
        "with_contact", factory.RelatedFactory(ContactFactory, factory_related_name="account"), None
    )

    @classmethod
    def _build(cls, model_class, *args, raw_password, **kwargs):
        # "password" is the raw one (a parameter); the model's field gets its cached hash.
        account = model_class(*args, password=password_hash(raw_password), **kwargs)
        account.raw_password = raw_password
        return account

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        account = cls._build(model_class, *args, **kwargs)
        account.save(force_insert=True)
        return account


class LegacyCredentialFactory(factory.django.DjangoModelFactory):
    """A file's old 8-digit code, stored as its keyed hash; the object carries ``raw_code``."""

    class Meta:
        model = LegacyCredential

    class Params:
        code = factory.Sequence(lambda n: f"{40000000 + n:08d}")

    dossier = factory.SubFactory(DossierFactory)
    raw_code = factory.SelfAttribute("code")
    code_digest = factory.LazyAttribute(lambda o: legacy_code_digest(o.code))

    @classmethod
    def _create(cls, model_class, *args, raw_code, **kwargs):
        credential = super()._create(model_class, *args, **kwargs)
        credential.raw_code = raw_code
        return credential


__all__ = ["DEFAULT_PASSWORD", "AccountFactory", "ContactFactory", "LegacyCredentialFactory", "password_hash"]
