"""The first-connection screens: shown once per version (MONCOMPTE_ONBOARDING_VERSION).

After a sign-in, an account whose ``onboarding_version_seen`` is below the current version is
shown the screens, and the version is recorded as seen at once, before anything is shown: the
next sign-in goes straight on, even if the person skipped the screens or closed the tab.
Raising the setting shows the (new) screens once more to everyone.

The record is a conditional UPDATE (``seen < current``): of two sign-ins at the same moment (two
tabs), one only records the version and shows the screens, and a version can never go back.
It takes the account, not an actor, and journals nothing: it runs while the sign-in opens its
session (already journaled), and records what was shown, not an act on anyone's data.
"""

from django.conf import settings

from moncompte.accounts.models import Account


def onboarding_version() -> int:
    return settings.MONCOMPTE_ONBOARDING_VERSION


def onboarding_due(account: Account) -> bool:
    """The account has not been shown the current version of the screens (as last read)."""
    return account.onboarding_version_seen < onboarding_version()


def onboarding_record_seen(*, account: Account) -> bool:
    """Record the current version as seen by ``account``; True when this call recorded it (the
    screens are to be shown now), False when it was already seen (by another sign-in, too)."""
    current = onboarding_version()
    if account.onboarding_version_seen >= current:
        return False
    updated = Account.objects.filter(pk=account.pk, onboarding_version_seen__lt=current).update(
        onboarding_version_seen=current
    )
    account.onboarding_version_seen = current
    return updated == 1
