"""Invitations of household members: who may invite whom, the code's life, the identity proof."""

import datetime
import re
from urllib.parse import urlsplit

import pytest
from django.core import mail
from django.utils import timezone

from moncompte.accounts.models import Account
from moncompte.audit.models import JournalEntry
from moncompte.core.actors import Actor, Channel
from moncompte.core.errors import DomainError
from moncompte.households.invitations import (
    ACCOUNT_EXISTS,
    CODE_ALPHABET,
    EXPIRED,
    INVALID_LINK,
    MALFORMED_CODE,
    MAX_SENDS_PER_MEMBER_PER_DAY,
    InvitationError,
    invitable_members,
    invitation_accept,
    invitation_cancel,
    invitation_code_canonical,
    invitation_code_new,
    invitation_code_shown,
    invitation_open,
    invitation_prove,
    invitation_send,
    live_invitations,
    token_digest,
)
from moncompte.households.models import Invitation, Member, Role
from moncompte.identity.identifiers import parse_identifier
from moncompte.notifications.rendering import message_render
from tests.factories import PersonFactory, make_household, nir_for, typed

pytestmark = pytest.mark.django_db

PASSWORD = "Quatre saisons 2024 au jardin"
PIERRE_BORN = datetime.date(2008, 4, 12)


@pytest.fixture
def people(family):
    """The family's persons by role, and the responsible person of a file of another Caf."""
    stranger = make_household()
    return {
        "responsible": family.responsible.person,
        "spouse": family.spouse.person,
        "child": family.child.person,
        "young_child": family.young_child.person,
        "stranger": stranger.responsible.person,
        "stranger_file": stranger.dossier,
    }


def web(person) -> Actor:
    """The person, signed in on the web."""
    return Actor(channel=Channel.WEB, account=person.account, session_key="k", client_address="192.0.2.7")


# Whoever has the code, not signed in.
VISITOR = Actor.visitor(channel=Channel.WEB, client_address="198.51.100.4", session_key="v")


def visitor(address: str) -> Actor:
    return Actor.visitor(channel=Channel.WEB, client_address=address, session_key="v")


def opened(code: str):
    return invitation_open(actor=VISITOR, code=code)


def accepted_by_pierre(code: str, pierre):
    """The invitation of ``code`` opened, Pierre's identity proved, the account created."""
    invitation = opened(code)
    invitation_prove(
        actor=VISITOR,
        invitation=invitation,
        identifier=parse_identifier(pierre.person.raw_identifier),
        birth_date=PIERRE_BORN,
    )
    invitation_accept(actor=VISITOR, invitation=invitation, password=PASSWORD)
    return invitation


def add_member(dossier, *, first_names: str, birth_date: datetime.date, role=Role.AUTRE, sex="M"):
    person = PersonFactory(first_names=first_names, birth_date=birth_date, sex=sex)
    return Member.objects.create(dossier=dossier, person=person, role=role, joined_on=datetime.date(2015, 1, 1))


@pytest.fixture
def family_file(family):
    return family.dossier


@pytest.fixture
def pierre(family_file):
    """A member over 15 of the family's file without an account."""
    return add_member(family_file, first_names="Pierre", birth_date=PIERRE_BORN)


@pytest.fixture
def send(people, django_capture_on_commit_callbacks):
    def send(actor="responsible", member=None, channel="email", destination="pierre@example.fr"):
        with django_capture_on_commit_callbacks(execute=True):
            return invitation_send(actor=web(people[actor]), member=member, channel=channel, destination=destination)

    return send


CODE_SHOWN = re.compile(r"\b[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}\b")


def _code_in(body: str) -> str:
    """The code the message shows by itself (to type without JavaScript)."""
    return re.search(r"code d'invitation, saisissez :\s+(\S+)", body).group(1)


def test_responsible_person_sees_the_members_she_may_invite(people, family_file, pierre):
    # The spouse and the child of 17 already have an account, the other child is 10: only Pierre.
    assert invitable_members(actor=web(people["responsible"]), dossier=family_file) == [pierre]


def test_spouse_with_delegation_may_invite_without_not(people, family_file, pierre):
    marc = people["spouse"]
    assert invitable_members(actor=web(marc), dossier=family_file) == []
    Member.objects.filter(dossier=family_file, person=marc).update(delegation_granted_at=timezone.now())
    assert invitable_members(actor=web(marc), dossier=family_file) == [pierre]


@pytest.mark.parametrize("who", ["spouse", "child", "stranger"])
def test_others_may_not_invite(people, family_file, pierre, send, who):
    assert invitable_members(actor=web(people[who]), dossier=family_file) == []
    with pytest.raises(InvitationError) as error:
        send(actor=who, member=pierre)
    assert error.value.code == "not_allowed"
    assert Invitation.objects.count() == 0 and mail.outbox == []


def test_former_spouse_may_not_invite(people, family_file, pierre, send):
    Member.objects.filter(dossier=family_file, role=Role.CONJOINT).update(
        delegation_granted_at=None, ended_on=datetime.date.today()
    )
    assert invitable_members(actor=web(people["spouse"]), dossier=family_file) == []


def test_member_of_another_file_cannot_be_invited(people, family_file, send):
    benali = people["stranger_file"]
    other = add_member(benali, first_names="Nina", birth_date=PIERRE_BORN, sex="F")
    with pytest.raises(InvitationError) as error:
        send(member=other)
    assert error.value.code == "not_allowed"
    assert other not in invitable_members(actor=web(people["responsible"]), dossier=family_file)


def test_child_becomes_invitable_on_the_sixteenth_birthday(people, family_file):
    today = datetime.date.today()
    sixteen = (
        today.replace(year=today.year - 16)
        if (today.month, today.day) != (2, 29)
        else today.replace(year=today.year - 16, day=28)
    )
    birthday = add_member(family_file, first_names="Hugo", birth_date=sixteen, role=Role.ENFANT)
    tomorrow = add_member(
        family_file, first_names="Jules", birth_date=sixteen + datetime.timedelta(days=1), role=Role.ENFANT
    )
    invitable = invitable_members(actor=web(people["responsible"]), dossier=family_file)
    assert birthday in invitable and tomorrow not in invitable


def test_the_age_rule_is_a_setting(people, family_file, settings):
    tom = Member.objects.get(dossier=family_file, person=people["young_child"])  # 10
    assert tom not in invitable_members(actor=web(people["responsible"]), dossier=family_file)
    settings.MONCOMPTE_ACCOUNT_MIN_AGE = 10
    assert tom in invitable_members(actor=web(people["responsible"]), dossier=family_file)


def test_member_who_left_the_file_is_not_invitable(people, family_file, pierre, send):
    Member.objects.filter(pk=pierre.pk).update(ended_on=datetime.date.today())
    assert invitable_members(actor=web(people["responsible"]), dossier=family_file) == []
    with pytest.raises(InvitationError) as error:
        send(member=pierre)
    assert error.value.code == "not_invitable"


def test_sending_stores_a_digest_and_mails_the_link(people, family_file, pierre, send, settings):
    settings.MONCOMPTE_PUBLIC_URL = "https://moncompte.example.fr"
    sent = send(member=pierre, destination="  Pierre.Martin@Example.FR ")
    invitation = sent.invitation
    canonical = invitation_code_canonical(sent.code)
    assert invitation.destination == "Pierre.Martin@example.fr"
    assert invitation.token_digest == token_digest(canonical) != canonical
    assert not Invitation.objects.filter(token_digest__contains=canonical).exists()
    assert invitation.expires_at - invitation.created_at == datetime.timedelta(days=7)
    [message] = mail.outbox
    assert message.to == ["Pierre.Martin@example.fr"]
    assert people["responsible"].display_name in message.subject
    # The link's secret is in its fragment, which browsers never send; the code, also shown alone.
    assert f"https://moncompte.example.fr/invitation/#{sent.code}" in message.body
    assert message.body.startswith("Bonjour Pierre,")
    assert _code_in(message.body) == sent.code
    assert opened(_code_in(message.body)) == invitation
    assert live_invitations(actor=web(people["responsible"]), dossier=family_file) == [invitation]
    assert live_invitations(actor=web(people["spouse"]), dossier=family_file) == []


def test_the_code_is_never_in_the_path_or_the_query_of_the_link(pierre, send, settings):
    settings.MONCOMPTE_PUBLIC_URL = "https://moncompte.caf.fr"
    sent = send(member=pierre)
    parts = urlsplit(sent.link)
    assert (parts.path, parts.query, parts.fragment) == ("/invitation/", "", sent.code)
    for piece in (sent.code, invitation_code_canonical(sent.code), sent.code[:9]):
        assert piece not in parts.path + parts.query


def test_codes_are_80_random_bits_of_crockford_base32_shown_in_four_groups():
    codes = {invitation_code_new() for _ in range(2000)}
    assert len(codes) == 2000
    assert all(len(code) == 16 and set(code) <= set(CODE_ALPHABET) for code in codes)
    assert len(CODE_ALPHABET) == 32 and not set("ILOU") & set(CODE_ALPHABET)
    # Every character of the alphabet comes up, at every position (no fixed part).
    for position in range(16):
        assert {code[position] for code in codes} == set(CODE_ALPHABET)
    code = sorted(codes)[0]
    assert re.fullmatch(CODE_SHOWN, invitation_code_shown(code))
    assert invitation_code_shown(code).replace("-", "") == code


@pytest.mark.parametrize(
    "typed",
    [
        "{shown}",
        "{lower}",
        "  {spaced}  ",
        "{bare}",
        "{lower_bare}",
        "https://moncompte.caf.fr/invitation/#{shown}",
        "#{shown}",
    ],
)
def test_a_code_is_read_in_any_case_with_spaces_or_dashes(typed):
    canonical = "0123456789ABCDEF"
    shown = invitation_code_shown(canonical)
    typed = typed.format(
        shown=shown,
        lower=shown.lower(),
        spaced=shown.replace("-", " "),
        bare=canonical,
        lower_bare=canonical.lower(),
    )
    assert invitation_code_canonical(typed) == canonical


def test_i_l_and_o_typed_for_digits_are_read_as_digits():
    assert invitation_code_canonical("ILOO-iloo-1100-1l0o") == "1100110011001100"


@pytest.mark.parametrize(
    "typed", ["", "ABCD-EFGH-JKMN", "ABCD-EFGH-JKMN-PQRS-T", "ABCD-EFGH-JKMN-PQRU", "ABCD-EFGH-JKMN-PQ%S"]
)
def test_what_cannot_be_a_code_is_none(typed):
    assert invitation_code_canonical(typed) is None


def test_a_malformed_code_is_refused_in_french_without_counting(people, pierre, send, settings):
    settings.MONCOMPTE_THROTTLE_FREE_FAILURES_PER_ADDRESS = 1
    for _ in range(3):
        with pytest.raises(InvitationError) as error:
            opened("pas un code")
        assert (error.value.code, error.value.field, error.value.message) == ("malformed", "code", MALFORMED_CODE)
    sent = send(member=pierre)
    assert opened(sent.code) == sent.invitation


def test_wrong_codes_are_counted_per_address_then_throttled_and_journaled(people, pierre, send, settings):
    settings.MONCOMPTE_THROTTLE_FREE_FAILURES_PER_ADDRESS = 3
    sent = send(member=pierre)
    prober = visitor("203.0.113.9")
    for _ in range(4):  # 3 free, the 4th starts the waits
        with pytest.raises(InvitationError) as error:
            invitation_open(actor=prober, code=invitation_code_new())
        assert error.value.code == "invalid" and error.value.field == "code"
    with pytest.raises(InvitationError) as error:
        invitation_open(actor=prober, code=sent.code)  # even the right code waits
    assert error.value.code == "throttled" and error.value.status == 429 and error.value.wait_seconds > 0
    assert "Réessayez dans" in error.value.message
    # Another address is not slowed down by this one.
    assert invitation_open(actor=visitor("203.0.113.10"), code=sent.code) == sent.invitation
    actions = list(JournalEntry.objects.order_by("id").values_list("action", flat=True))
    assert actions.count("invitation.code_failure") == 4
    assert actions.count("invitation.code_throttled") == 1
    assert actions.count("invitation.opened") == 1


def test_invitation_days_is_a_setting(pierre, send, settings):
    settings.MONCOMPTE_INVITATION_DAYS = 2
    invitation = send(member=pierre).invitation
    assert invitation.expires_at - invitation.created_at == datetime.timedelta(days=2)


def test_the_link_comes_from_the_public_url_setting(pierre, send, settings):
    settings.MONCOMPTE_PUBLIC_URL = "https://moncompte.caf.fr"
    sent = send(member=pierre)
    assert sent.link == f"https://moncompte.caf.fr/invitation/#{sent.code}"


def test_the_link_path_is_the_one_the_web_serves():
    from django.urls import reverse

    from moncompte.households.invitations import INVITATION_PATH

    assert reverse("web:invitation") == INVITATION_PATH


def test_refusals_are_domain_errors(people, pierre, send):
    with pytest.raises(DomainError) as error:
        send(actor="child", member=pierre)
    assert isinstance(error.value, InvitationError) and error.value.code == "not_allowed"


def test_invalid_destinations_are_refused_in_french(people, pierre, send):
    with pytest.raises(InvitationError) as error:
        send(member=pierre, destination="pas-une-adresse")
    assert error.value.field == "email" and "adresse électronique valide" in error.value.message
    with pytest.raises(InvitationError) as error:
        send(member=pierre, channel="phone", destination="01 44 55 66 77")
    assert error.value.field == "phone" and "fixe" in error.value.message
    assert Invitation.objects.count() == 0


def test_sms_invitation_fits_in_one_sms(pierre, send, settings):
    settings.MONCOMPTE_PUBLIC_URL = "https://moncompte.caf.fr"
    sent = send(member=pierre, channel="phone", destination="06 12 34 56 78")
    assert sent.invitation.destination == "+33612345678"
    rendered = message_render(
        channel="sms",
        template="invitation",
        context={
            "inviter": "Marie-Charlotte Anne-Sophie DE LA TOUR D'AUVERGNE",
            "member_first_name": "Pierre",
            "link": sent.link,
            "code": sent.code,
            "expires_at": sent.invitation.expires_at,
        },
    )
    assert sent.link in rendered.body
    assert len(rendered.body) <= 160, len(rendered.body)
    # Only characters of the GSM 7-bit alphabet: one SMS of 160 characters, not 70.
    gsm7 = set(
        "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿"
        "abcdefghijklmnopqrstuvwxyzäöñüà"
    )
    assert set(rendered.body) <= gsm7, set(rendered.body) - gsm7


def test_a_new_invitation_replaces_the_open_one(people, pierre, send):
    first = send(member=pierre)
    second = send(member=pierre, destination="autre@example.fr")
    first.invitation.refresh_from_db()
    assert first.invitation.cancelled_at is not None
    assert first.invitation.cancel_reason == Invitation.CancelReason.REPLACED
    with pytest.raises(InvitationError) as error:
        opened(first.code)
    assert error.value.message == INVALID_LINK
    assert opened(second.code) == second.invitation
    assert Invitation.objects.open().count() == 1


def test_sends_per_member_are_capped(people, pierre, send):
    for _ in range(MAX_SENDS_PER_MEMBER_PER_DAY):
        send(member=pierre)
    with pytest.raises(InvitationError) as error:
        send(member=pierre)
    assert error.value.code == "too_many_sends"


def test_unknown_code_gets_the_same_message_as_cancelled_and_a_used_one_says_the_account_exists(people, pierre, send):
    used, cancelled = send(member=pierre), None
    accepted_by_pierre(used.code, pierre)
    with pytest.raises(InvitationError) as error:
        opened(used.code)
    assert (error.value.code, error.value.message, error.value.field) == ("account_exists", ACCOUNT_EXISTS, "code")
    other = add_member(pierre.dossier, first_names="Louise", birth_date=PIERRE_BORN, sex="F")
    cancelled = send(member=other)
    invitation_cancel(actor=web(people["responsible"]), invitation_id=cancelled.invitation.pk)
    for code in (invitation_code_new(), cancelled.code):
        with pytest.raises(InvitationError) as error:
            opened(code)
        assert (error.value.code, error.value.message, error.value.field) == ("invalid", INVALID_LINK, "code")


def test_a_used_link_serves_once_even_once_its_account_is_gone(people, pierre, send):
    """The invitation's own state says it was used: if the account it created is ever removed
    (an erasure, a merge), the old link opens nothing, and never a second account."""
    sent = send(member=pierre)
    invitation = accepted_by_pierre(sent.code, pierre)
    Account.objects.filter(person=pierre.person).delete()
    with pytest.raises(InvitationError) as error:
        opened(sent.code)
    assert (error.value.code, error.value.message) == ("invalid", INVALID_LINK)
    with pytest.raises(InvitationError):
        invitation_accept(actor=VISITOR, invitation=invitation, password=PASSWORD)
    assert not Account.objects.filter(person=pierre.person).exists()


def test_expired_invitation(people, pierre, send):
    sent = send(member=pierre)
    Invitation.objects.filter(pk=sent.invitation.pk).update(expires_at=timezone.now() - datetime.timedelta(seconds=1))
    with pytest.raises(InvitationError) as error:
        opened(sent.code)
    assert error.value.message == EXPIRED
    with pytest.raises(InvitationError):
        invitation_accept(actor=VISITOR, invitation=sent.invitation, password=PASSWORD)
    assert not Account.objects.filter(person=pierre.person).exists()


def test_cancel(people, family_file, pierre, send):
    sent = send(member=pierre)
    for who in ("spouse", "child", "stranger"):
        with pytest.raises(InvitationError) as error:
            invitation_cancel(actor=web(people[who]), invitation_id=sent.invitation.pk)
        assert error.value.code == "not_found"
    with pytest.raises(InvitationError):
        invitation_cancel(actor=web(people["responsible"]), invitation_id=sent.invitation.pk + 1000)
    cancelled = invitation_cancel(actor=web(people["responsible"]), invitation_id=sent.invitation.pk)
    assert cancelled.cancel_reason == Invitation.CancelReason.BY_INVITER
    with pytest.raises(InvitationError) as error:
        opened(sent.code)
    assert error.value.message == INVALID_LINK
    with pytest.raises(InvitationError):  # already cancelled
        invitation_cancel(actor=web(people["responsible"]), invitation_id=sent.invitation.pk)


def test_identity_proof_and_account_creation(people, pierre, send):
    sent = send(member=pierre)
    invitation = opened(sent.code)
    person = invitation_prove(
        actor=VISITOR,
        invitation=invitation,
        identifier=parse_identifier(pierre.person.raw_identifier),
        birth_date=PIERRE_BORN,
    )
    assert person == pierre.person
    account = invitation_accept(actor=VISITOR, invitation=invitation, password=PASSWORD)
    assert account.person == pierre.person and account.check_password(PASSWORD)
    # The address the invitation went to was typed by someone else: not a validated contact.
    assert not account.contacts.exists()
    invitation.refresh_from_db()
    assert invitation.accepted_at is not None
    # Single use: the code now says the account exists.
    with pytest.raises(InvitationError) as error:
        opened(sent.code)
    assert error.value.code == "account_exists"
    with pytest.raises(InvitationError):
        invitation_accept(actor=VISITOR, invitation=invitation, password=PASSWORD)
    assert invitable_members(actor=web(people["responsible"]), dossier=pierre.dossier) == []


@pytest.mark.parametrize("case", ["other-nir", "unknown-nir", "wrong-birth-date"])
def test_wrong_identity_is_counted_then_cancels_the_invitation(people, pierre, send, case):
    pierre_nir = pierre.person.raw_identifier
    identifier, birth_date = {
        "other-nir": (people["responsible"].raw_identifier, PIERRE_BORN),  # someone else's NIR
        "unknown-nir": (typed(nir_for(sex="M", birth_date=PIERRE_BORN, birth_place_code="75112")), PIERRE_BORN),
        "wrong-birth-date": (pierre_nir, datetime.date(2008, 4, 13)),  # the right NIR, another birth date
    }[case]
    sent = send(member=pierre)
    invitation = opened(sent.code)
    for left in (4, 3, 2, 1):
        with pytest.raises(InvitationError) as error:
            invitation_prove(
                actor=VISITOR, invitation=invitation, identifier=parse_identifier(identifier), birth_date=birth_date
            )
        assert error.value.code == "wrong_identity"
        assert f"Il vous reste {left} essai" in error.value.message
    with pytest.raises(InvitationError) as error:
        invitation_prove(
            actor=VISITOR, invitation=invitation, identifier=parse_identifier(identifier), birth_date=birth_date
        )
    assert error.value.code == "too_many_attempts"
    invitation.refresh_from_db()
    assert invitation.cancel_reason == Invitation.CancelReason.ATTEMPTS
    # Even the right proof is refused now.
    with pytest.raises(InvitationError) as error:
        invitation_prove(
            actor=VISITOR, invitation=invitation, identifier=parse_identifier(pierre_nir), birth_date=PIERRE_BORN
        )
    assert error.value.code == "invalid"


def test_member_who_left_before_accepting(people, pierre, send):
    sent = send(member=pierre)
    invitation = opened(sent.code)
    Member.objects.filter(pk=pierre.pk).update(ended_on=datetime.date.today())
    with pytest.raises(InvitationError) as error:
        invitation_accept(actor=VISITOR, invitation=invitation, password=PASSWORD)
    assert error.value.code == "invalid"
    assert not Account.objects.filter(person=pierre.person).exists()


def test_member_who_got_an_account_meanwhile(people, pierre, send):
    from moncompte.accounts.services import account_create

    sent = send(member=pierre)
    invitation = opened(sent.code)
    account_create(actor=Actor.system(), person=pierre.person, password=PASSWORD)
    with pytest.raises(InvitationError) as error:
        invitation_accept(actor=VISITOR, invitation=invitation, password="Un autre mot de passe 2024")
    assert error.value.code == "account_exists" and error.value.message == ACCOUNT_EXISTS
