"""Test data built per test, one factory per model, grouped by domain (factory-boy).

Import everything from here::

    from tests.factories import AccountFactory, MemberFactory, PersonFactory, make_household

- ``PersonFactory()``: a person with a valid random NIR (correct key) that agrees with their sex,
  birth date and birth place, stored as the model requires (keyed digest and ciphertext). The
  object carries ``raw_identifier`` (as typed: "2 85 05 75 115 042 95") and ``identifier_value``
  (canonical). ``PersonFactory(age=17)``, ``PersonFactory(nnp=True)`` (8 or 7...),
  ``PersonFactory(provisional=True)`` (P-XXXXX-XXXXX), ``PersonFactory(identifier=Identifier)``.
  No two persons of a session share an identifier.
- ``CafFactory()``, ``DossierFactory(caf=...)``, ``BenefitFactory(dossier=...)``,
  ``PaymentFactory(benefit=...)``.
- ``MemberFactory(dossier=d)`` is the responsible person; ``MemberFactory(dossier=d, spouse=True)``,
  ``delegated=True`` (spouse with the delegation), ``child=True`` (17), ``young_child=True`` (10),
  ``other=True``, ``ended=True`` (ended yesterday: former member, e.g. separated spouse).
- ``AccountFactory(person=p)``: password ``DEFAULT_PASSWORD`` (``password=...`` for another), an
  email contact already validated (``with_contact=False``: none, the account is not usable yet;
  ``contact__phone=True``: a phone instead). The object carries ``raw_password``. Hashes are
  computed once per raw password and hasher settings in the whole session (``password_hash``):
  real Argon2 with the production parameters, but not 40 ms per account.
- ``ContactFactory(account=a)`` (``phone=True``, ``unverified=True``), values unique in the session.
- ``LegacyCredentialFactory(dossier=d, code="12345678")``: stored as its keyed hash; ``raw_code``.
- ``CafRequestFactory(dossier=d)``: a waiting request of the Caf to the household, due in 30
  days (``addressed_to=person``: to that member personally; traits ``late``, ``answered``,
  ``closed``); ``CafRequestAnswerFactory(request=r, author=p)``: a text answer.
- ``api_token_for(account)`` (tests/factories/api.py): a live access token of the account, with
  its refresh token and API session, as our provider issues them; ``bearer(token)`` gives the
  header for the test clients; ``api_application()`` the first-party mobile client.
- ``AgentFactory(caf=c, roles=[AgentRole.COUNTER])`` (tests/factories/agents.py): an agent with
  password ``AGENT_PASSWORD`` and a confirmed TOTP device; ``totp_now(agent)`` its current code;
  ``sign_in_agent(client, agent)`` opens a console session for a test client (second factor
  given unless ``second_factor=False``).
- ``make_household()`` (also the ``family`` fixture of tests/conftest.py): a file with R (account),
  spouse S (``delegated=True``: S+), a child of 17 (M, account) and one of 10 (no account); each as
  a ``HouseholdPerson`` with ``person``, ``member``, ``account``, ``identifier`` (as typed),
  ``password`` and ``credentials``: ``sign_in(client, *family.responsible.credentials)``.
  ``make_household(caf=family.caf, birth_name=family.responsible.person.birth_name)``: strangers
  of the same Caf with the same names.

Random values come from factory-boy's and Faker's generators, which pytest-randomly reseeds
before each test: a failure replays with the same ``--randomly-seed=N``. Never assert
on a generated value you did not pass yourself; read it from the object.
"""

from tests.factories.accounts import (
    DEFAULT_PASSWORD,
    AccountFactory,
    ContactFactory,
    LegacyCredentialFactory,
    password_hash,
)
from tests.factories.agents import AGENT_PASSWORD, AgentFactory, sign_in_agent, totp_now
from tests.factories.api import api_application, api_token_for, bearer
from tests.factories.builders import PASSWORDS, Household, HouseholdPerson, make_household
from tests.factories.caf_requests import CafRequestAnswerFactory, CafRequestFactory
from tests.factories.households import BenefitFactory, CafFactory, DossierFactory, MemberFactory, PaymentFactory
from tests.factories.identity import BIRTH_PLACES, PersonFactory, birth_date_for_age, nir_for, nnp, provisional, typed

__all__ = [
    "AGENT_PASSWORD",
    "AgentFactory",
    "sign_in_agent",
    "totp_now",
    "api_application",
    "api_token_for",
    "bearer",
    "BIRTH_PLACES",
    "DEFAULT_PASSWORD",
    "PASSWORDS",
    "AccountFactory",
    "BenefitFactory",
    "CafRequestAnswerFactory",
    "CafRequestFactory",
    "CafFactory",
    "ContactFactory",
    "DossierFactory",
    "Household",
    "HouseholdPerson",
    "LegacyCredentialFactory",
    "MemberFactory",
    "PaymentFactory",
    "PersonFactory",
    "birth_date_for_age",
    "make_household",
    "nir_for",
    "nnp",
    "password_hash",
    "provisional",
    "typed",
]
