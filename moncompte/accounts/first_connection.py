"""First connection of an existing allocataire: from the legacy code to a personal account.

This is where the real service failed on 10 October 2021. Each step checks what the previous
one proved, and the account is created and linked in one transaction that re-checks everything
under a lock on the file's legacy credential: two first connections of one file are serialized,
two of different files share nothing, and an account is linked to exactly the person whose NIR
was typed, whose standing on the file whose code was proved allows claiming an account with it
(the policy's CLAIM_BY_FIRST_CONNECTION: the responsible person or a spouse).

The first connection retires the old code **on the web only**: the phone keeps accepting it
until its end date (moncompte.accounts.legacy).
"""

from django.db import IntegrityError, transaction
from django.utils import timezone

from moncompte.access.policy import Action, decide
from moncompte.accounts import throttling
from moncompte.accounts.legacy import CAPPED, WRONG_CODE, legacy_code_try
from moncompte.accounts.models import Account, LegacyCodeAttempt, LegacyCredential
from moncompte.accounts.services import account_create
from moncompte.audit.actions import JournalAction
from moncompte.audit.services import journal_record
from moncompte.core.actors import Actor
from moncompte.core.errors import DomainError
from moncompte.core.waits import wait_text
from moncompte.households.invitations import invitations_close_for
from moncompte.households.models import Caf, Dossier
from moncompte.identity.identifiers import Identifier
from moncompte.identity.models import Person

__all__ = [
    "ALREADY_MIGRATED",
    "CAPPED",
    "HAS_ACCOUNT",
    "NOT_ELIGIBLE",
    "WRONG_CODE",
    "FirstConnectionError",
    "first_connection_complete",
    "first_connection_person",
    "legacy_code_verify",
]

# The refusals' ways out (the invitation request, the account creation, the sign-in) are links
# that the pages add from the refusal's code: web/first_connection/_refusal_links.html.
ALREADY_MIGRATED = (
    "Ce dossier utilise déjà le nouveau mode de connexion : son ancien code confidentiel ne sert plus "
    "sur le site. Si vous avez un compte, connectez-vous avec votre numéro de sécurité sociale et votre "
    "mot de passe. Si vous n'en avez pas encore (conjoint, conjointe ou enfant de 16 ans ou plus), "
    "demandez une invitation au responsable du dossier, ou créez votre compte seul(e), avec une "
    "vérification de votre identité."
)
NOT_ELIGIBLE = (
    "Ce numéro de sécurité sociale n'est pas celui du responsable du dossier ni de son conjoint : la "
    "première connexion avec l'ancien code leur est réservée. Vous êtes un autre membre du foyer de plus "
    "de 15 ans, par exemple un enfant de 16 ou 17 ans ? Vous pouvez avoir votre propre compte : "
    "demandez une invitation au responsable du dossier, ou créez votre compte seul(e), avec une "
    "vérification de votre identité."
)
HAS_ACCOUNT = (
    "Vous avez déjà un compte : connectez-vous avec votre numéro de sécurité sociale et votre mot de "
    "passe. Mot de passe ou identifiant oublié ? Vous pouvez les retrouver."
)
THROTTLED = "Trop de tentatives depuis votre connexion. Réessayez dans {wait}."


class FirstConnectionError(DomainError):
    """``code``: throttled and capped (status 429, ``wait_seconds``), wrong_code, already_migrated,
    not_eligible, has_account."""

    def __init__(self, message: str, *, code: str, field: str | None = None, wait_seconds: int = 0):
        super().__init__(message, code=code, field=field)
        self.wait_seconds = wait_seconds
        if code in ("throttled", "capped"):
            self.status = 429


def legacy_code_verify(*, actor: Actor, caf: Caf, numero: str, code: str) -> Dossier:
    """Step 1: the numéro allocataire and old 8-digit code of a file; returns the file.

    An unknown numéro, a file without code and a wrong code get the same answer, after the same
    work; so do an unknown numéro and a file that are capped or slowed (moncompte.accounts.legacy
    counts the tries on a keyed hash of the numéro, file or not: per client and file a hard cap,
    per file growing waits of at most an hour, shared with the phone). Per client address,
    across numéros, growing waits (throttling), decided before anything is looked up. Every try
    is journaled, refusals included, in a transaction committed before the refusal is raised.
    """
    address_scope = [throttling.address_scope("first_connection", actor.client_address or "")]
    wait = throttling.scopes_wait(address_scope)
    if wait:
        # Nothing looked up: the same for every numéro.
        journal_record(
            action=JournalAction.FIRST_CONNECTION_CAPPED, actor=actor, detail={"reason": "address", "wait": wait}
        )
        raise FirstConnectionError(THROTTLED.format(wait=wait_text(wait)), code="throttled", wait_seconds=wait)
    with transaction.atomic():
        attempt = legacy_code_try(
            caf=caf, numero=numero, code=code, channel=actor.channel, client_address=actor.client_address
        )
        dossier = attempt.dossier
        if attempt.outcome == LegacyCodeAttempt.Outcome.REFUSED:
            refusal = "capped"
            journal_record(
                action=JournalAction.FIRST_CONNECTION_CAPPED,
                actor=actor,
                dossier=dossier,
                detail={"reason": attempt.reason, "wait": attempt.wait_seconds},
            )
        elif attempt.outcome == LegacyCodeAttempt.Outcome.WRONG:
            refusal = "wrong_code"
            journal_record(action=JournalAction.FIRST_CONNECTION_CODE_FAILURE, actor=actor, dossier=dossier)
        elif attempt.credential.retired_on_web_at is not None:
            refusal = "already_migrated"
            journal_record(
                action=JournalAction.FIRST_CONNECTION_CODE_FAILURE,
                actor=actor,
                dossier=dossier,
                detail={"reason": "already_migrated"},
            )
        else:
            refusal = ""
            journal_record(action=JournalAction.FIRST_CONNECTION_CODE_SUCCESS, actor=actor, dossier=dossier)
    # Outside the block: the try and its journal entry are committed before refusing.
    if refusal in ("capped", "wrong_code"):
        throttling.scopes_failed(address_scope)
    if refusal == "capped":
        raise FirstConnectionError(
            CAPPED.format(wait=wait_text(attempt.wait_seconds)), code="capped", wait_seconds=attempt.wait_seconds
        )
    if refusal == "wrong_code":
        raise FirstConnectionError(WRONG_CODE, code="wrong_code")
    if refusal == "already_migrated":
        raise FirstConnectionError(ALREADY_MIGRATED, code="already_migrated")
    return dossier


def _may_claim(dossier: Dossier, person: Person | None) -> bool:
    if person is None:
        return False
    return decide(person=person, dossier=dossier, action=Action.CLAIM_BY_FIRST_CONNECTION).allowed


def first_connection_person(*, actor: Actor, dossier: Dossier, identifier: Identifier) -> Person:
    """Step 2: the NIR must be that of a person whose standing on the file lets them claim it."""
    person = Person.objects.with_identifier(identifier.value).first()
    if not _may_claim(dossier, person):
        journal_record(action=JournalAction.FIRST_CONNECTION_NIR_MISMATCH, actor=actor, dossier=dossier)
        raise FirstConnectionError(NOT_ELIGIBLE, code="not_eligible", field="identifier")
    if Account.objects.filter(person=person).exists():
        raise FirstConnectionError(HAS_ACCOUNT, code="has_account", field="identifier")
    return person


def first_connection_complete(*, actor: Actor, dossier_id: int, person_id: int, password: str) -> Account:
    """Step 3: create the account and retire the legacy code on the web, all or nothing.

    Everything the earlier steps proved is checked again under the credential's lock, so a
    concurrent first connection of the same file either already finished (and this one stops)
    or waits for this one (tests/integration/test_first_connection_race.py holds one at the
    critical point to prove it).
    """
    with transaction.atomic():
        credential = LegacyCredential.objects.select_for_update().select_related("dossier").get(dossier_id=dossier_id)
        if credential.retired_on_web_at is not None:
            raise FirstConnectionError(ALREADY_MIGRATED, code="already_migrated")
        person = Person.objects.get(pk=person_id)
        if not _may_claim(credential.dossier, person):
            raise FirstConnectionError(NOT_ELIGIBLE, code="not_eligible")
        try:
            with transaction.atomic():
                account = account_create(person=person, password=password, actor=actor)
        except IntegrityError:
            # Account.person is unique: the person got an account meanwhile through another path.
            raise FirstConnectionError(HAS_ACCOUNT, code="has_account") from None
        credential.retired_on_web_at = timezone.now()
        credential.save(update_fields=["retired_on_web_at"])
        journal_record(
            action=JournalAction.FIRST_CONNECTION_ACCOUNT_CREATED,
            actor=actor.signed_in_as(account, session_key=actor.session_key),
            subject_person=person,
            dossier=credential.dossier,
        )
        # Issue 9: an invitation the spouse had received serves no more (shown "Compte créé").
        invitations_close_for(actor=actor.signed_in_as(account, session_key=actor.session_key), person=person)
    return account
