"""The one re-authentication: a signed-in person types their password again before a sensitive
change (a contact, the password, a delegation; later the API and the agents' console).

A session can be stolen (a shared computer, a stolen phone left unlocked): whoever holds it must
not be able to guess the password through these forms. Every wrong password counts on one
per-account scope, shared by all the forms, whatever the address; past the free failures the
waits grow as for sign-in. Each failure and each refusal is journaled in its own transaction, so
that the trace stays even when the caller's change is rolled back.
"""

from django.db import transaction

from moncompte.accounts import throttling
from moncompte.audit.actions import JournalAction
from moncompte.audit.services import journal_record
from moncompte.core.actors import Actor
from moncompte.core.errors import DomainError, Throttled

__all__ = ["WrongPassword", "reauthenticate"]


class WrongPassword(DomainError):
    code = "wrong_password"
    message = "Mot de passe incorrect."

    def __init__(self, message: str | None = None, *, code: str | None = None, field: str | None = "password"):
        super().__init__(message, code=code, field=field)


def reauthenticate(*, actor: Actor, password: str, purpose: str = "", dossier=None) -> None:
    """Check the signed-in actor's password; returns None when it is right.

    Raises ``Throttled(field="password")`` (nothing checked) or ``WrongPassword``. Call it outside
    the caller's write transaction. ``purpose`` ("contact_change", "password_change",
    "delegation", ...) and ``dossier`` only go to the journal.
    """
    account = actor.account
    if account is None:
        raise ValueError("Only a signed-in actor re-authenticates.")
    scope = [throttling.reauth_scope(account.pk)]
    detail = {"purpose": purpose} if purpose else {}
    wait = throttling.scopes_wait(scope)
    if wait:
        with transaction.atomic():
            journal_record(
                action=JournalAction.REAUTH_THROTTLED,
                actor=actor,
                dossier=dossier,
                detail={**detail, "wait_seconds": wait},
            )
        raise Throttled(wait, field="password")
    # check_password re-derives the hash (and saves it) when the Argon2 parameters changed.
    if not account.check_password(password):
        throttling.scopes_failed(scope)
        with transaction.atomic():
            journal_record(action=JournalAction.REAUTH_FAILURE, actor=actor, dossier=dossier, detail=detail)
        raise WrongPassword()
    # Only this account's re-entry counter: the sign-in counters are not re-entries.
    throttling.scopes_cleared(scope)
