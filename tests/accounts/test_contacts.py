"""The contact services: replacing a contact tells the old one, removing one tells it too, the
last validated contact stays, and nobody reaches another account's contacts (issue 9, point 2)."""

import pytest
from django.urls import reverse

from moncompte.accounts.models import Contact
from moncompte.accounts.reauth import WrongPassword
from moncompte.accounts.services import (
    HELP_CONTACT_PATH,
    LastContactRequired,
    contact_remove,
    contact_validated,
    contacts_of,
)
from moncompte.audit.models import JournalEntry
from moncompte.core.actors import Actor, Channel
from moncompte.core.errors import NotAllowed
from moncompte.notifications.models import Message
from tests.factories import AccountFactory, ContactFactory

pytestmark = pytest.mark.django_db

NUMBER = "09 69 32 52 52"
GSM7 = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿"
    "abcdefghijklmnopqrstuvwxyzäöñüà"
)


def _actor(account) -> Actor:
    return Actor(channel=Channel.WEB, account=account, session_key="une-session")


def _journal_details(person) -> list:
    return list(JournalEntry.objects.filter(subject_person=person).values_list("action", "detail"))


def test_the_help_path_of_the_notices_is_the_help_pages_contact_section():
    assert HELP_CONTACT_PATH == reverse("web:help") + "#nous-contacter"


def test_a_replaced_email_is_told_where_the_account_now_points(settings):
    settings.MONCOMPTE_PUBLIC_URL = "https://moncompte.caf.fr"
    account = AccountFactory()
    old = account.contacts.get().value
    contact_validated(actor=_actor(account), account=account, kind="email", value="nouvelle.adresse@exemple.org")

    assert list(account.contacts.values_list("value", flat=True)) == ["nouvelle.adresse@exemple.org"]
    notice = Message.objects.get(template="contact_replaced")
    assert notice.recipient == old and notice.channel == "email"
    body = notice.get_body()
    assert "n•••@e•••.org" in body and "nouvelle.adresse" not in body
    assert NUMBER in body and "https://moncompte.caf.fr/aide/#nous-contacter" in body
    assert not Message.objects.filter(recipient="nouvelle.adresse@exemple.org").exists()
    entries = _journal_details(account.person)
    assert ("contact.replaced", {"kind": "email", "notified": 1}) in entries
    # The journal keeps details in clear: no contact, old or new, in any of them.
    assert not [d for _, d in entries if old in str(d) or "nouvelle" in str(d)]


def test_a_replaced_mobile_gets_one_sms_in_the_gsm_alphabet():
    account = AccountFactory(contact__phone=True)
    old = account.contacts.get().value
    contact_validated(actor=_actor(account), account=account, kind="phone", value="+33611223344")

    notice = Message.objects.get(template="contact_replaced")
    assert notice.recipient == old and notice.channel == "sms"
    body = notice.get_body()
    assert "06 ** ** ** 44" in body and NUMBER in body
    assert len(body) <= 160 and set(body) <= GSM7, set(body) - GSM7


def test_an_unverified_contact_replaced_is_not_told_and_a_same_value_is_no_replacement():
    account = AccountFactory()
    email = account.contacts.get().value
    ContactFactory(account=account, phone=True, unverified=True)
    contact_validated(actor=_actor(account), account=account, kind="phone", value="+33611223344")
    contact_validated(actor=_actor(account), account=account, kind="email", value=email)

    assert not Message.objects.filter(template="contact_replaced").exists()
    replaced = JournalEntry.objects.filter(action="contact.replaced", subject_person=account.person)
    assert [entry.detail for entry in replaced] == [{"kind": "phone", "notified": 0}]


def test_removing_a_contact_tells_it_and_journals_the_kind_only():
    account = AccountFactory()
    phone = ContactFactory(account=account, phone=True)
    removed = contact_remove(actor=_actor(account), contact_id=phone.pk, password=account.raw_password)

    assert removed.value == phone.value
    assert not Contact.objects.filter(pk=phone.pk).exists()
    notice = Message.objects.get(template="contact_removed")
    assert notice.recipient == phone.value and notice.channel == "sms"
    assert NUMBER in notice.get_body()
    entry = JournalEntry.objects.get(action="contact.removed")
    assert entry.detail == {"kind": "phone", "validated": True, "notified": 1}


def test_the_last_validated_contact_cannot_be_removed_even_with_an_unverified_one_left():
    account = AccountFactory()
    email = account.contacts.get()
    ContactFactory(account=account, phone=True, unverified=True)
    with pytest.raises(LastContactRequired, match="au moins un moyen de contact validé"):
        contact_remove(actor=_actor(account), contact_id=email.pk, password=account.raw_password)
    assert Contact.objects.filter(pk=email.pk).exists()
    assert not Message.objects.exists()
    assert [row.removable for row in contacts_of(actor=_actor(account))] == [False, True]


def test_nobody_removes_another_accounts_contact_even_with_their_own_password():
    mine, theirs = AccountFactory(), AccountFactory()
    ContactFactory(account=theirs, phone=True)
    target = theirs.contacts.get(kind="email")
    with pytest.raises(NotAllowed):
        contact_remove(actor=_actor(mine), contact_id=target.pk, password=mine.raw_password)
    assert Contact.objects.filter(pk=target.pk).exists()
    assert not JournalEntry.objects.filter(action="reauth.failure").exists()


def test_a_wrong_password_removes_nothing():
    account = AccountFactory()
    phone = ContactFactory(account=account, phone=True)
    with pytest.raises(WrongPassword):
        contact_remove(actor=_actor(account), contact_id=phone.pk, password="pas le bon")
    assert Contact.objects.filter(pk=phone.pk).exists()
    entry = JournalEntry.objects.get(action="reauth.failure")
    assert entry.detail == {"purpose": "contact_remove"}
