"""First connection of an existing allocataire: from the legacy code to a personal account.

This is where the real service failed on 10 October 2021. Each step checks what the previous
one proved, and the account is created and linked in one transaction that re-checks everything
under a lock on the file's legacy credential: two first connections of one file are serialized,
two of different files share nothing, and an account is linked to exactly the person whose NIR
was typed, a current responsible person or spouse of the file whose code was proved.
"""

import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone

from moncompte.accounts import throttling
from moncompte.accounts.legacy import legacy_code_matches
from moncompte.accounts.models import Account, LegacyCodeAttempt, LegacyCredential
from moncompte.accounts.services import account_create
from moncompte.audit.services import journal_record
from moncompte.households.models import Caf, Dossier, Member, Role
from moncompte.identity.identifiers import Identifier
from moncompte.identity.models import Person

MAX_WRONG_CODES_PER_DAY = 5
MAX_WRONG_CODES_PER_WEEK = 10

WRONG_CODE = "Numéro allocataire ou code confidentiel incorrect. Vérifiez votre saisie et votre Caf."
CAPPED = (
    "Trop de codes erronés ont été saisis pour ce dossier. Pour sa sécurité, la saisie est bloquée "
    "pendant quelques jours. Vous pouvez vous faire aider au 09 69 32 52 52 ou à l'accueil de votre Caf."
)
ALREADY_MIGRATED = (
    "Ce dossier utilise déjà le nouveau mode de connexion : connectez-vous avec votre numéro de "
    "sécurité sociale et votre mot de passe. Mot de passe oublié ? Utilisez « Mot de passe oublié »."
)
NOT_ELIGIBLE = (
    "Ce numéro de sécurité sociale n'est pas celui du responsable du dossier ni de son conjoint. "
    "Les autres membres du foyer de plus de 15 ans créent leur compte sur invitation depuis Mon Compte."
)
HAS_ACCOUNT = "Vous avez déjà un compte : connectez-vous avec votre numéro de sécurité sociale et votre mot de passe."


class FirstConnectionError(Exception):
    def __init__(self, message: str, *, code: str, wait_seconds: int = 0):
        super().__init__(message)
        self.message = message
        self.code = code
        self.wait_seconds = wait_seconds


def _wrong_codes(credential: LegacyCredential, since: datetime.datetime) -> int:
    return LegacyCodeAttempt.objects.filter(credential=credential, succeeded=False, at__gte=since).count()


def legacy_code_verify(*, caf: Caf, numero: str, code: str, client_address: str) -> Dossier:
    """Step 1: the numéro allocataire and old 8-digit code of a file; returns the file.

    Unknown files and wrong codes get the same answer. Per file, at most 5 wrong codes a day and
    10 a week (a hard cap: 10^8 codes must not be guessable); per address, growing waits.
    """
    address_scope = [throttling.address_scope("first_connection", client_address)]
    wait = throttling.scopes_wait(address_scope)
    if wait:
        raise FirstConnectionError(
            f"Trop de tentatives depuis votre connexion. Réessayez dans {max(1, wait // 60)} minute(s).",
            code="throttled",
            wait_seconds=wait,
        )
    with transaction.atomic():
        # The lock serializes the tries on one file, so the cap cannot be overrun by parallel tries.
        credential = (
            LegacyCredential.objects.select_for_update()
            .select_related("dossier")
            .filter(dossier__caf=caf, dossier__numero=numero)
            .first()
        )
        if credential is None:
            throttling.scopes_failed(address_scope)
            journal_record(action="first_connection.code_failure", client_address=client_address)
            raise FirstConnectionError(WRONG_CODE, code="wrong_code")
        now = timezone.now()
        if (
            _wrong_codes(credential, now - datetime.timedelta(days=1)) >= MAX_WRONG_CODES_PER_DAY
            or _wrong_codes(credential, now - datetime.timedelta(days=7)) >= MAX_WRONG_CODES_PER_WEEK
        ):
            journal_record(action="first_connection.capped", dossier=credential.dossier, client_address=client_address)
            raise FirstConnectionError(CAPPED, code="capped")
        matches = legacy_code_matches(code, credential.code_digest)
        LegacyCodeAttempt.objects.create(credential=credential, succeeded=matches)
        if not matches:
            throttling.scopes_failed(address_scope)
            journal_record(
                action="first_connection.code_failure", dossier=credential.dossier, client_address=client_address
            )
    # Outside the block so that the failed attempt above is committed before answering.
    if not matches:
        raise FirstConnectionError(WRONG_CODE, code="wrong_code")
    if credential.retired_at is not None:
        raise FirstConnectionError(ALREADY_MIGRATED, code="already_migrated")
    journal_record(action="first_connection.code_success", dossier=credential.dossier, client_address=client_address)
    return credential.dossier


def _eligible_member(dossier: Dossier, person: Person | None) -> Member | None:
    if person is None:
        return None
    return (
        Member.objects.current()
        .filter(dossier=dossier, person=person, role__in=[Role.RESPONSABLE, Role.CONJOINT])
        .first()
    )


def first_connection_person(*, dossier: Dossier, identifier: Identifier) -> Person:
    """Step 2: the NIR must be that of the file's current responsible person or spouse."""
    person = Person.objects.with_identifier(identifier.value).first()
    if _eligible_member(dossier, person) is None:
        journal_record(action="first_connection.nir_mismatch", dossier=dossier)
        raise FirstConnectionError(NOT_ELIGIBLE, code="not_eligible")
    if Account.objects.filter(person=person).exists():
        raise FirstConnectionError(HAS_ACCOUNT, code="has_account")
    return person


def first_connection_complete(*, dossier_id: int, person_id: int, password: str) -> Account:
    """Step 3: create the account and retire the legacy code, all or nothing.

    Everything the earlier steps proved is checked again under the credential's lock, so a
    concurrent first connection of the same file either already finished (and this one stops)
    or waits for this one.
    """
    with transaction.atomic():
        credential = LegacyCredential.objects.select_for_update().select_related("dossier").get(dossier_id=dossier_id)
        if credential.retired_at is not None:
            raise FirstConnectionError(ALREADY_MIGRATED, code="already_migrated")
        person = Person.objects.get(pk=person_id)
        if _eligible_member(credential.dossier, person) is None:
            raise FirstConnectionError(NOT_ELIGIBLE, code="not_eligible")
        try:
            with transaction.atomic():
                account = account_create(person=person, password=password)
        except IntegrityError:
            # Account.person is unique: the person got an account meanwhile through another path.
            raise FirstConnectionError(HAS_ACCOUNT, code="has_account") from None
        credential.retired_at = timezone.now()
        credential.save(update_fields=["retired_at"])
        journal_record(
            action="first_connection.account_created",
            actor_person=person,
            subject_person=person,
            dossier=credential.dossier,
        )
    return account
