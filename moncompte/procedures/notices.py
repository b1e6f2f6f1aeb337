"""Messages about procedures, to the validated contacts of the people concerned."""

from moncompte.accounts.models import Account
from moncompte.accounts.services import verified_contacts
from moncompte.notifications.services import message_channel_for, message_send


def notify_people(people, *, template: str, context: dict) -> int:
    """Queue the message to every validated contact of each person with an account; how many."""
    told = 0
    for person in people:
        if person is None:
            continue
        account = Account.objects.filter(person=person).first()
        if account is None:
            continue
        for contact in verified_contacts(account):
            message_send(
                channel=message_channel_for(contact.kind),
                recipient=contact.value,
                template=template,
                context=context,
                account=account,
            )
            told += 1
    return told
