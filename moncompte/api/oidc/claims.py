"""What our provider says about a person: an opaque, stable ``sub`` and the claims of each scope.

``sub`` is the HMAC-SHA256 of the person's id with MONCOMPTE_OIDC_SUBJECT_KEY (32 hexadecimal
characters): the same for a person in every client and forever, never the NIR, and telling
nothing (not even how many people there are) to whoever lacks the key. The key never changes:
a new key would give every person a new ``sub``, a stranger to every client.

Claims by scope (OpenID Connect Core 5.4): ``profile`` gives given_name, family_name (the usage
name when there is one) and birthdate; ``email`` the last validated email address; ``phone`` the
last validated mobile number (E.164). A contact not validated is never given.
"""

from __future__ import annotations

import hashlib
import hmac

from django.conf import settings

from moncompte.accounts.models import Account
from moncompte.accounts.services import verified_contacts
from moncompte.core.actors import ContactChannel

# The claims each scope gives (the toolkit returns a claim only when its scope was granted).
SCOPE_OF_CLAIM = {
    "sub": "openid",
    "given_name": "profile",
    "family_name": "profile",
    "birthdate": "profile",
    "email": "email",
    "email_verified": "email",
    "phone_number": "phone",
    "phone_number_verified": "phone",
}


def subject_of(account: Account) -> str:
    """The person's ``sub``: opaque, stable, the same for every client."""
    message = f"person:{account.person_id}".encode()
    return hmac.new(settings.MONCOMPTE_OIDC_SUBJECT_KEY.encode(), message, hashlib.sha256).hexdigest()[:32]


def _last_validated(contacts, kind: ContactChannel) -> str | None:
    of_kind = [contact for contact in contacts if contact.kind == kind]
    if not of_kind:
        return None
    return max(of_kind, key=lambda contact: (contact.verified_at, contact.pk)).value


def claims_of(account: Account) -> dict:
    """Every claim the provider may give about the account's person (filtered by scope later)."""
    person = account.person
    claims = {
        "sub": subject_of(account),
        "given_name": person.first_names,
        "family_name": person.usage_name or person.birth_name,
        "birthdate": person.birth_date.isoformat(),
    }
    contacts = verified_contacts(account)
    email = _last_validated(contacts, ContactChannel.EMAIL)
    if email:
        claims.update(email=email, email_verified=True)
    phone = _last_validated(contacts, ContactChannel.PHONE)
    if phone:
        claims.update(phone_number=phone, phone_number_verified=True)
    return claims
