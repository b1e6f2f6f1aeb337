"""Loads the fictional demo households listed in docs/demo.md (idempotent).

For `make run` only: the tests build their own data (tests/factories), so the demo can change
without breaking them (tests/test_demo.py checks only that it loads and that Claire signs in).

Also the demo's client of our OpenID provider (docs/demo.md, "The mobile app's sign-in"): a
first-party public client, as the mobile app is, added to a database loaded before it existed.
"""

import datetime

from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand
from django.db import transaction
from oauth2_provider.models import get_application_model

from moncompte.access.agents import AgentRole
from moncompte.accounts.legacy import legacy_code_digest
from moncompte.accounts.models import LegacyCredential
from moncompte.accounts.services import account_create, contact_add_verified
from moncompte.agents.models import Agent, AgentTOTPDevice
from moncompte.core.actors import Actor, ContactChannel
from moncompte.households.models import Benefit, Caf, Dossier, Member, Payment, Role
from moncompte.identity.identifiers import parse_identifier
from moncompte.identity.models import IdentifierType, Person
from moncompte.identity.services import person_create

# Demo passwords exist only here, for fictional people.
PEOPLE = [
    # key, identifier, first names, birth name, birth date, sex, birth place, password, contacts
    (
        "claire",
        "2 85 05 75 115 042 95",
        "Claire Anne",
        "MARTIN",
        "1985-05-14",
        "F",
        "75115",
        "Soleil2021bleu",
        [("email", "claire.martin@example.fr"), ("phone", "+33611223344")],
    ),
    (
        "marc",
        "1 83 11 69 383 117 49",
        "Marc",
        "MARTIN",
        "1983-11-02",
        "M",
        "69383",
        "Lyon1983rouge",
        [("email", "marc.martin@example.fr")],
    ),
    (
        "lea",
        "2 09 03 75 112 031 08",
        "Léa",
        "MARTIN",
        "2009-03-21",
        "F",
        "75112",
        "Etoile2009verte",
        [("email", "lea.martin@example.fr")],
    ),
    ("tom", "1 13 07 75 112 045 09", "Tom", "MARTIN", "2013-07-08", "M", "75112", None, []),
    (
        "sofia",
        "2 90 02 2A 004 021 09",
        "Sofia",
        "BENALI",
        "1990-02-11",
        "F",
        "2A004",
        "Corse1990mer",
        [("email", "sofia.benali@example.fr")],
    ),
    (
        "amadou",
        "8 17 51 23 456 789 13",
        "Amadou",
        "DIALLO",
        "1992-08-21",
        "M",
        "",
        "Provisoire2021nuit",
        [("email", "amadou.diallo@example.fr")],
    ),
    ("julien", "1 78 02 75 056 123 92", "Julien", "PETIT", "1978-02-03", "M", "75056", None, []),
]

CAFS = [("751", "Caf de Paris", "75"), ("131", "Caf des Bouches-du-Rhône", "13")]

DOSSIERS = [
    # caf, numero, address, members (person key, role), benefits (code, label, monthly cents)
    (
        "751",
        "1234567",
        ("12 rue des Lilas", "75020", "Paris"),
        [("claire", Role.RESPONSABLE), ("marc", Role.CONJOINT), ("lea", Role.ENFANT), ("tom", Role.ENFANT)],
        [("AF", "Allocations familiales", 14852), ("APL", "Aide personnalisée au logement", 24500)],
    ),
    (
        "131",
        "7654321",
        ("4 boulevard de la Corderie", "13007", "Marseille"),
        [("sofia", Role.RESPONSABLE)],
        [("PPA", "Prime d'activité", 18723)],
    ),
    (
        "751",
        "3456789",
        ("8 avenue Jean Jaurès", "75019", "Paris"),
        [("amadou", Role.RESPONSABLE)],
        [("RSA", "Revenu de solidarité active", 63534)],
    ),
    (
        "751",
        "2345678",
        ("30 rue de Charonne", "75011", "Paris"),
        [("julien", Role.RESPONSABLE)],
        [("APL", "Aide personnalisée au logement", 31210)],
    ),
]

# Files still holding their legacy 8-digit code (first connection not done yet).
LEGACY_CODES = [("751", "2345678", "12345678")]

# The demo's client of our OpenID provider: public (no secret, PKCE S256) and first-party (no
# consent page), like the mobile app; its redirect URI is on the laptop's loopback (docs/demo.md).
DEMO_OIDC_CLIENT_ID = "moncompte-mobile-demo"
DEMO_OIDC_CLIENT_NAME = "Caf – Mon Compte (démo)"
DEMO_OIDC_REDIRECT_URI = "http://127.0.0.1:8765/callback"

# The demo's agents (docs/demo.md, "The agents' console"), all of the Caf de Paris, sharing one
# public password and one public TOTP secret (base32 EAIAM3ERPIEDMHDAUTMO2NKQSQZ637SL, to add to
# any authenticator app): fictional, for the laptop only, as the people above.
DEMO_AGENT_PASSWORD = "Guichet2021accueil"
DEMO_AGENT_TOTP_KEY = "2010066c917a08361c60a4d8ed35509433edfe4b"
DEMO_AGENTS = [
    # email, first names, last name, roles
    ("accueil@caf75.example.fr", "Nadia", "MOREAU", [AgentRole.COUNTER]),
    ("verification@caf75.example.fr", "Paul", "GIRARD", [AgentRole.IDENTITY_CHECKER]),
    ("administration@caf75.example.fr", "Inès", "ROUX", [AgentRole.ADMINISTRATOR, AgentRole.COUNTER]),
]


def demo_agents_ensure() -> int:
    """Create the demo's agents that do not exist yet (a database loaded before they existed
    gets them too); how many were created. Their password and second factor are set here, as an
    activation would set them: the demo needs no activation code."""
    caf = Caf.objects.filter(code="751").first()
    if caf is None:
        return 0
    created = 0
    for email, first_names, last_name, roles in DEMO_AGENTS:
        if Agent.objects.filter(email=email).exists():
            continue
        agent = Agent.objects.create(
            caf=caf,
            email=email,
            first_names=first_names,
            last_name=last_name,
            roles=[str(role) for role in roles],
            password=make_password(DEMO_AGENT_PASSWORD),
            password_changed_at=datetime.datetime.now(tz=datetime.UTC),
        )
        AgentTOTPDevice.objects.create(
            agent=agent, key=DEMO_AGENT_TOTP_KEY, confirmed_at=datetime.datetime.now(tz=datetime.UTC)
        )
        created += 1
    return created


def _payment_dates(months: int) -> list[datetime.date]:
    today = datetime.date.today()
    year, month = today.year, today.month
    dates = []
    for _ in range(months):
        dates.append(datetime.date(year, month, 5))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return [d for d in dates if d <= today] or dates[1:]


def demo_oidc_client_ensure() -> bool:
    """Create the demo's OpenID client unless it exists; whether it was created.

    Built as ``manage.py oidc_client_create --public --first-party`` builds a client (code flow,
    RS256 id_tokens, no secret), validated the same way."""
    model = get_application_model()
    if model.objects.filter(client_id=DEMO_OIDC_CLIENT_ID).exists():
        return False
    application = model(
        client_id=DEMO_OIDC_CLIENT_ID,
        name=DEMO_OIDC_CLIENT_NAME,
        client_type=model.CLIENT_PUBLIC,
        authorization_grant_type=model.GRANT_AUTHORIZATION_CODE,
        redirect_uris=DEMO_OIDC_REDIRECT_URI,
        skip_authorization=True,
        algorithm=model.RS256_ALGORITHM,
        client_secret="",
    )
    application.full_clean()
    application.save()
    return True


class Command(BaseCommand):
    help = "Loads the fictional demo households (docs/demo.md). Does nothing if they are there."

    def handle(self, *args, **options):
        loaded = Dossier.objects.filter(caf__code="751", numero="1234567").exists()
        if not loaded:
            with transaction.atomic():
                self._load()
        # Outside the check above: a demo database loaded before the client existed gets it too.
        if demo_oidc_client_ensure():
            self.stdout.write(f"Demo OpenID client {DEMO_OIDC_CLIENT_ID} created (docs/demo.md).")
        if demo_agents_ensure():
            self.stdout.write("Demo agents created (docs/demo.md, the agents' console).")
        if loaded:
            self.stdout.write("Demo data already loaded.")
        else:
            self.stdout.write(self.style.SUCCESS("Demo data loaded (docs/demo.md)."))

    def _load(self):
        cafs = {
            code: Caf.objects.get_or_create(code=code, defaults={"name": name, "departement": dept})[0]
            for code, name, dept in CAFS
        }
        persons: dict[str, Person] = {}
        for key, raw, first, last, born, sex, place, password, contacts in PEOPLE:
            identifier = parse_identifier(raw)
            persons[key] = person_create(
                identifier=identifier,
                identifier_type=IdentifierType.NNP if raw.startswith("8") else IdentifierType.NIR,
                first_names=first,
                birth_name=last,
                birth_date=datetime.date.fromisoformat(born),
                sex=sex,
                birth_place_code=place,
            )
            if password:
                account = account_create(actor=Actor.system(), person=persons[key], password=password)
                for kind, value in contacts:
                    contact_add_verified(account=account, kind=ContactChannel(kind), value=value)
        for caf_code, numero, (street, postal, city), members, benefits in DOSSIERS:
            dossier = Dossier.objects.create(
                caf=cafs[caf_code], numero=numero, address_line1=street, postal_code=postal, city=city
            )
            for person_key, role in members:
                Member.objects.create(
                    dossier=dossier, person=persons[person_key], role=role, joined_on=datetime.date(2015, 1, 1)
                )
            for code, label, cents in benefits:
                benefit = Benefit.objects.create(
                    dossier=dossier,
                    code=code,
                    label=label,
                    monthly_amount_cents=cents,
                    started_on=datetime.date(2020, 1, 1),
                )
                Payment.objects.bulk_create(
                    Payment(dossier=dossier, benefit=benefit, paid_on=paid_on, amount_cents=cents)
                    for paid_on in _payment_dates(6)
                )
        for caf_code, numero, code in LEGACY_CODES:
            LegacyCredential.objects.create(
                dossier=Dossier.objects.get(caf__code=caf_code, numero=numero), code_digest=legacy_code_digest(code)
            )
        # Issue 10: the MARTIN household has a Caf's request waiting for an answer (docs/demo.md).
        from moncompte.caf_requests.models import CafRequest
        from moncompte.caf_requests.services import caf_request_create

        caf_request_create(
            actor=Actor.system(),
            dossier=Dossier.objects.get(caf__code="751", numero="1234567"),
            addressed_to=None,
            kind=CafRequest.Kind.DOCUMENT,
            title="Justificatif de domicile",
            body="Pour mettre à jour votre dossier, envoyez-nous un justificatif de domicile de moins de 3 mois "
            "(quittance de loyer, facture d'électricité ou de gaz).",
            due_on=datetime.date.today() + datetime.timedelta(days=30),
        )
