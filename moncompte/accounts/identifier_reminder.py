"""« Identifiant oublié »: the identifier sent to the contact the person typed (issue 9).

The person who forgot their identifier still knows their email address or mobile number: they
type it on a public page. When it is a **validated** contact of one or more active accounts, one
message goes **to that contact only** (the one they typed, and the only one the answer may reach),
listing the identifier of each of those accounts:

- a provisional identifier of ours (P-XXXXX-XXXXX) in full: it is what the person signs in with,
  and it is worth nothing without the password;
- a NIR, NIA or NNP never in full (a message may be read by others, forwarded, kept for years):
  the message says it is the number of the carte Vitale and shows it masked
  (``Identifier.masked()``: the first digit and the key).

Whatever was typed (a contact of nobody, one not validated, one of an inactive account), the
page answers the same and the same work is done: the same look-up, the same counters, one
journal entry, and the message rendered (then dropped) when none is sent. What still differs
(the message rows) is covered by a minimum duration of the request (``reminder_min_seconds``),
applied by the channel, as for the password reset.

Limits (moncompte.accounts.throttling, in the database):
- every request counts on the per-address scope "identifier_reminder" (growing waits past the
  free requests): one client cannot spray addresses;
- at most MONCOMPTE_IDENTIFIER_REMINDER_MAX_PER_DESTINATION reminders per destination, counted
  whether or not the contact exists (``quota_take``: the counter lapses a throttle window, a day,
  after the last reminder counted; requests over the limit send nothing, say nothing and are not
  counted, so that they cannot keep the limit reached forever). A mailbox cannot be flooded.

Journal: one entry per account concerned (subject: its person), or one anonymous entry when the
contact is nobody's; the destination itself is never journaled.
"""

from django.conf import settings
from django.db import transaction
from django.utils.crypto import salted_hmac

from moncompte.accounts import throttling
from moncompte.accounts.models import Account, Contact
from moncompte.audit.actions import JournalAction
from moncompte.audit.services import journal_record
from moncompte.core.actors import Actor, ContactChannel
from moncompte.identity.identifiers import Identifier, new_provisional_identifier
from moncompte.notifications.rendering import message_render
from moncompte.notifications.services import message_channel_for, message_send

__all__ = [
    "MESSAGE_TEMPLATE",
    "ReminderRequest",
    "identifier_reminder_request",
    "reminder_lines",
    "reminder_min_seconds",
]

MESSAGE_TEMPLATE = "identifier_reminder"
ADDRESS_SCOPE = "identifier_reminder"


def reminder_min_seconds() -> float:
    """How long a reminder request takes at least (``MONCOMPTE_IDENTIFIER_REMINDER_MIN_SECONDS``)."""
    return float(settings.MONCOMPTE_IDENTIFIER_REMINDER_MIN_SECONDS)


def _destination_key(channel: str, destination: str) -> str:
    # Keyed, so that the counters table does not tell which addresses were typed.
    digest = salted_hmac(
        "moncompte.accounts.identifier_reminder", f"{channel}:{destination.casefold()}", algorithm="sha256"
    )
    return f"throttle:identifier_reminder:destination:{digest.hexdigest()[:40]}"


def reminder_lines(identifier: Identifier) -> dict:
    """What the message says of one identifier: a provisional one in full; a NIR masked, or, for an
    SMS, its first digit and its key only."""
    if identifier.is_provisional:
        return {"provisional": True, "shown": identifier.display()}
    # The SMS cannot show the mask's dots (not in the GSM alphabet): it names the first digit and the key.
    return {"provisional": False, "shown": identifier.masked(), "first": identifier.value[0], "key": identifier.key}


# The outcome of a request: throttled or not, nothing else.
ReminderRequest = throttling.QuietRequest


def _matching_contacts(channel: str, destination: str) -> list[Contact]:
    contacts = Contact.objects.filter(kind=channel, verified_at__isnull=False, account__is_active=True)
    if channel == ContactChannel.EMAIL:
        # People type their address in any case; the domain is stored lower-cased, the local part
        # as validated: the message goes to the stored, validated value.
        contacts = contacts.filter(value__iexact=destination)
    else:
        contacts = contacts.filter(value=destination)
    return list(contacts.select_related("account__person").order_by("account_id", "id"))


def identifier_reminder_request(*, actor: Actor, channel: str, destination: str) -> ReminderRequest:
    """Send the identifiers of the accounts whose validated contact is ``destination``, to it.

    ``channel``: ContactChannel (EMAIL or PHONE); ``destination``: as the channel's parser left it
    (``normalize_email``, ``parse_mobile``). The answer is the same for every destination.
    """
    channel = ContactChannel(channel)
    # Every request counts against the address, whether the contact exists or not.
    wait, allowed = throttling.quiet_request_admit(
        scope=ADDRESS_SCOPE,
        client_address=actor.client_address or "",
        quota_key=_destination_key(channel, destination),
        quota_limit=settings.MONCOMPTE_IDENTIFIER_REMINDER_MAX_PER_DESTINATION,
    )
    if wait:
        journal_record(
            action=JournalAction.IDENTIFIER_REMINDER_THROTTLED,
            actor=actor,
            subject_person=None,
            detail={"wait_seconds": wait},
        )
        return ReminderRequest(wait_seconds=wait)

    contacts = _matching_contacts(channel, destination)
    accounts: list[Account] = []
    for contact in contacts:
        if contact.account not in accounts:
            accounts.append(contact.account)
    message_channel = message_channel_for(channel)
    with transaction.atomic():
        if accounts and allowed:
            message_send(
                channel=message_channel,
                recipient=contacts[0].value,
                template=MESSAGE_TEMPLATE,
                context={"reminders": [reminder_lines(a.person.identifier) for a in accounts]},
                account=accounts[0] if len(accounts) == 1 else None,
            )
        else:
            # The same rendering work as a real message; nothing is stored or sent.
            message_render(
                channel=message_channel,
                template=MESSAGE_TEMPLATE,
                context={"reminders": [reminder_lines(new_provisional_identifier())]},
            )
        detail = {"channel": str(channel), "sent": bool(accounts and allowed), "over_limit": not allowed}
        for account in accounts:
            journal_record(
                action=JournalAction.IDENTIFIER_REMINDER_REQUEST,
                actor=actor,
                subject_person=account.person,
                detail=detail,
            )
        if not accounts:
            journal_record(
                action=JournalAction.IDENTIFIER_REMINDER_REQUEST, actor=actor, subject_person=None, detail=detail
            )
    return ReminderRequest()
