"""The app's sessions as our provider opens and ends them: one family of tokens each.

Opened at the code exchange (a new family), touched at each refresh, ended by a refresh token used
twice, a revocation or a logout from the app: the family's tokens revoked, its record ended (so
"my connected devices" stops listing it), one journal entry. The other ends (by the person, a
password change or reset, a deactivation) are moncompte.accounts.sessions', which revoke the
family the same way.
"""

from __future__ import annotations

import uuid

from django.db import transaction
from oauth2_provider.models import get_refresh_token_model

from moncompte.accounts.devices import describe_device
from moncompte.accounts.models import AccountSession
from moncompte.accounts.sessions import session_closed, session_open, session_touched
from moncompte.accounts.tokens import api_session_key, api_tokens_revoke, token_family_of
from moncompte.audit.actions import JournalAction
from moncompte.audit.services import journal_record
from moncompte.core.actors import Actor, Channel

UNKNOWN_DEVICE = describe_device("")


def device_of(application_name: str, user_agent: str) -> str:
    """How "my connected devices" names the app's session: the client's name, with the device
    when its User-Agent tells it ("Caf – Mon Compte (Android)")."""
    device = describe_device(user_agent or "")
    name = application_name or "Application"
    return name if device == UNKNOWN_DEVICE else f"{name} ({device})"


def api_session_opened(*, actor: Actor, application_name: str, user_agent: str) -> AccountSession:
    """Record the app's new session ``actor.session_key`` (its token family) and journal the
    sign-in, in the caller's transaction (the tokens' own)."""
    with transaction.atomic(savepoint=False):
        record = session_open(actor=actor, user_agent=user_agent, action=JournalAction.OIDC_SIGNIN)
        record.device = device_of(application_name, user_agent)[:200]
        record.save(update_fields=["device"])
    return record


def api_session_refreshed(*, token_family: uuid.UUID) -> None:
    session_touched(session_key=api_session_key(token_family))


def api_session_is_open(*, token_family: uuid.UUID) -> bool:
    return AccountSession.objects.filter(
        session_key=api_session_key(token_family), channel=Channel.API, ended_at__isnull=True
    ).exists()


def api_sessions_ended(*, actor: Actor, token_families: list, reason: str, action: JournalAction) -> int:
    """End the app's sessions of these token families: every token of each family revoked, the
    open records ended with ``reason``, ``action`` journaled once. How many records were open."""
    keys = [api_session_key(family) for family in dict.fromkeys(token_families) if family]
    with transaction.atomic():
        open_count = AccountSession.objects.filter(
            session_key__in=keys, channel=Channel.API, ended_at__isnull=True
        ).count()
        api_tokens_revoke(keys)
        for key in keys:
            session_closed(session_key=key, reason=reason)
        journal_record(action=action, actor=actor, detail={"reason": reason, "ended": open_count})
    return open_count


def open_families_of(*, account, application) -> list[uuid.UUID]:
    """The token families of ``application`` whose session of ``account`` is still open."""
    keys = AccountSession.objects.filter(account=account, channel=Channel.API, ended_at__isnull=True).values_list(
        "session_key", flat=True
    )
    families = [family for family in map(token_family_of, keys) if family is not None]
    return list(
        get_refresh_token_model()
        .objects.filter(token_family__in=families, application=application)
        .values_list("token_family", flat=True)
        .distinct()
    )
