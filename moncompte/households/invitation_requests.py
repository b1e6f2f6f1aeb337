"""A household member without an account asks for an invitation (issue 9, point 1).

Once the responsible person has done the first connection, the file's old code is retired and
the other members over 15 get their account through an invitation (moncompte.households
.invitations). A member who has none yet can ask for it from a public page: they type their NIR
and birth date, which find exactly one person (the NIR alone finds one; the birth date must
agree, as for the invitation's own identity proof).

When that person is a current member of one or more files, has no account, is old enough
(``account_allowed``) and may claim an account by invitation (the policy's CLAIM_BY_INVITATION),
a notice goes to every validated contact of every person who may invite on each of those files
(the policy's INVITE_MEMBER, with a usable account), other than the member: "<first name> asks
for an invitation", with the link to the invitation page, and what to do if it was not expected.
Nothing is created: the inviter decides, from their own signed-in page.

Whatever was typed (nobody, a wrong birth date, a person with an account, a member too young,
nobody to notify), the page answers the same and the same work is done (the look-ups, the
counters, one journal entry at least); what differs (the message rows) is covered by a minimum
duration of the request (``request_min_seconds``), applied by the channel. The page says nothing
of the file nor of the person notified.

Limits (moncompte.accounts.throttling, in the database):
- every request counts on the per-address scope "invitation_request";
- at most MONCOMPTE_INVITATION_REQUEST_MAX_PER_MEMBER notices per member a day, silently: the
  quota is keyed by the typed identifier and birth date together (``quota_take``), so it is
  counted whether or not they match anyone, and a stranger who knows only the NIR cannot use up
  the member's own request.

Journal: on each file concerned (subject: the member) with the number of contacts notified, or
one entry without file when nothing matched (subject: the NIR's holder when the birth date
agreed, else nobody).
"""

import datetime

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.crypto import salted_hmac

from moncompte.access.policy import Action, allowed_memberships, membership_condition
from moncompte.accounts import throttling
from moncompte.accounts.services import account_allowed, account_usable, verified_contacts
from moncompte.audit.actions import JournalAction
from moncompte.audit.services import journal_record
from moncompte.core.actors import Actor
from moncompte.households.models import Member
from moncompte.identity.identifiers import Identifier
from moncompte.identity.protection import identifier_digest
from moncompte.identity.services import identifier_holder
from moncompte.notifications.services import message_channel_for, message_send

__all__ = [
    "INVITE_PAGE_PATH",
    "MESSAGE_TEMPLATE",
    "InvitationRequest",
    "invitation_request",
    "invite_page_link",
    "request_min_seconds",
]

MESSAGE_TEMPLATE = "invitation_requested"
ADDRESS_SCOPE = "invitation_request"
# The invitation page, fixed: the domain does not know the web's URL names (web:household_invite
# serves it; a test checks that they agree).
INVITE_PAGE_PATH = "/mon-compte/foyer/inviter/"


def request_min_seconds() -> float:
    """How long a request takes at least (``MONCOMPTE_INVITATION_REQUEST_MIN_SECONDS``)."""
    return float(settings.MONCOMPTE_INVITATION_REQUEST_MIN_SECONDS)


def invite_page_link() -> str:
    """The link of the notice: the invitation page at the service's public address."""
    return settings.MONCOMPTE_PUBLIC_URL.rstrip("/") + INVITE_PAGE_PATH


# The outcome of a request: throttled or not, nothing else.
InvitationRequest = throttling.QuietRequest


def _quota_key(identifier: Identifier, birth_date: datetime.date) -> str:
    digest = salted_hmac(
        "moncompte.households.invitation_requests",
        f"{identifier_digest(identifier.value)}:{birth_date.isoformat()}",
        algorithm="sha256",
    )
    return f"throttle:invitation_request:member:{digest.hexdigest()[:40]}"


def _notify_inviters(member: Member, *, first_name: str, requested_at) -> int:
    """Send the notice to every validated contact of those who may invite on the member's file."""
    inviters = (
        Member.objects.filter(dossier_id=member.dossier_id)
        .filter(membership_condition(Action.INVITE_MEMBER))
        .exclude(person_id=member.person_id)
        .select_related("person__account")
        .order_by("id")
    )
    told = 0
    for inviter in inviters:
        account = getattr(inviter.person, "account", None)
        if not account_usable(account):
            continue
        for contact in sorted(verified_contacts(account), key=lambda c: (c.kind, c.pk)):
            message_send(
                channel=message_channel_for(contact.kind),
                recipient=contact.value,
                template=MESSAGE_TEMPLATE,
                context={"member_first_name": first_name, "link": invite_page_link(), "requested_at": requested_at},
                account=account,
            )
            told += 1
    return told


def invitation_request(*, actor: Actor, identifier: Identifier, birth_date: datetime.date) -> InvitationRequest:
    """Tell those who may invite the member of ``identifier`` and ``birth_date`` that they ask for
    an invitation, when such a member may be invited. The same answer for every input."""
    # Every request counts against the address, whatever it matches.
    wait, allowed = throttling.quiet_request_admit(
        scope=ADDRESS_SCOPE,
        client_address=actor.client_address or "",
        quota_key=_quota_key(identifier, birth_date),
        quota_limit=settings.MONCOMPTE_INVITATION_REQUEST_MAX_PER_MEMBER,
    )
    if wait:
        journal_record(
            action=JournalAction.INVITATION_REQUEST_THROTTLED,
            actor=actor,
            subject_person=None,
            detail={"wait_seconds": wait},
        )
        return InvitationRequest(wait_seconds=wait)

    holder, former = identifier_holder(identifier)
    # A former identifier is no longer the person's: it proves nothing here.
    person = holder if holder is not None and not former and holder.birth_date == birth_date else None
    today = datetime.date.today()
    if person is None:
        outcome = "no_match"
    elif getattr(person, "account", None) is not None:
        outcome = "has_account"
    elif not account_allowed(person, today):
        outcome = "too_young"
    else:
        outcome = "member"
    memberships = list(
        allowed_memberships(person if outcome == "member" else None, Action.CLAIM_BY_INVITATION)
        .select_related("dossier")
        .order_by("dossier_id")
    )
    if outcome == "member" and not memberships:
        outcome = "no_file"
    requested_at = timezone.now()
    first_name = (person.first_names.split() or [""])[0] if person is not None else ""
    with transaction.atomic():
        for member in memberships:
            told = _notify_inviters(member, first_name=first_name, requested_at=requested_at) if allowed else 0
            journal_record(
                action=JournalAction.INVITATION_REQUEST,
                actor=actor,
                subject_person=person,
                dossier=member.dossier,
                detail={"notified": told, "over_limit": not allowed},
            )
        if not memberships:
            journal_record(
                action=JournalAction.INVITATION_REQUEST,
                actor=actor,
                subject_person=person,
                detail={"outcome": outcome, "over_limit": not allowed},
            )
    return InvitationRequest()
