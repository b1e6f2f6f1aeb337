"""Account creation without probe or squat (issue 8): a typed NIR is a claim until the identity check.

The sign-up answers the same whoever holds the typed number (nothing is looked up to decide it),
binds the number to nobody, and never stands in the real holder's way; the check's acceptance
binds it after checking again that nobody holds it by then.
"""

import datetime
import re

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext

from moncompte.accounts.first_connection import (
    first_connection_complete,
    first_connection_person,
    legacy_code_verify,
)
from moncompte.accounts.models import Account
from moncompte.accounts.signin import credentials_check
from moncompte.accounts.signup import (
    IdentityCheckError,
    SignupState,
    identity_check_accept,
    signup_claim_review,
)
from moncompte.audit.models import JournalEntry
from moncompte.core.actors import Actor, Channel
from moncompte.households.invitations import invitation_accept, invitation_prove, invitation_send
from moncompte.households.models import Member, Role
from moncompte.identity.identifiers import parse_identifier
from moncompte.identity.models import FormerIdentifier, IdentityCheck, IdentityCheckState, Person
from moncompte.identity.protection import generate_hmac_key
from moncompte.identity.services import person_create, person_rekey
from moncompte.notifications.models import Message
from moncompte.notifications.rendering import message_render
from tests.accounts.test_signup import NEW_NIR, OTHER_FIRST_NAME, PASSWORD, complete, identity, identity_of, nir
from tests.factories import AccountFactory, DossierFactory, MemberFactory, make_household

pytestmark = pytest.mark.django_db

AGENT = Actor.system()
PROVISIONAL = re.compile(r"P-[0-9A-Z]{5}-[0-9A-Z]{5}")


def holders(identifier) -> list[Person]:
    return list(Person.objects.with_identifier(identifier.value).order_by("pk"))


def requester_messages(recipient="ines@example.fr") -> list[tuple[str, str, str]]:
    """(template, subject, body) of the messages the asker got, the provisional identifier masked."""
    return [
        (m.template, m.subject, PROVISIONAL.sub("P-•", m.get_body()))
        for m in Message.objects.filter(recipient=recipient).order_by("pk")
    ]


def known_holder(**overrides) -> Person:
    """The holder of NEW_NIR, of the identity the tests type, without an account."""
    ident = identity(**overrides)
    return person_create(
        identifier=nir(NEW_NIR),
        first_names=ident.first_names,
        birth_name=ident.birth_name,
        birth_date=ident.birth_date,
        sex=ident.sex,
        birth_place_code=ident.birth_place_code,
    )


# The claim ----------------------------------------------------------------------------------


def test_a_typed_nir_is_a_sealed_claim_on_the_check_never_the_persons_identifier(family):
    result = complete(identifier=nir(NEW_NIR))
    assert result.state is SignupState.TO_VERIFY and result.claimed
    person, check = result.person, result.identity_check
    # The person holds a provisional identifier; nobody holds the number.
    assert person.identifier_type == "provisional" and person.identifier == result.provisional_identifier
    assert holders(nir(NEW_NIR)) == []
    assert not FormerIdentifier.objects.with_identifier(nir(NEW_NIR).value).exists()
    # The claim: typed, sealed (a keyed digest and a ciphertext), found by its digest.
    assert check.claimed_identifier_type == "nir" and check.claimed_identifier == nir(NEW_NIR)
    assert nir(NEW_NIR).value not in check.claimed_identifier_encrypted + check.claimed_identifier_digest
    assert list(IdentityCheck.objects.claiming(nir(NEW_NIR).value)) == [check]
    # The NIR does not sign in before the check; the provisional identifier does.
    assert not credentials_check(actor=AGENT, identifier=nir(NEW_NIR), password=PASSWORD).succeeded
    assert credentials_check(actor=AGENT, identifier=result.provisional_identifier, password=PASSWORD).succeeded


def test_a_provisional_number_nnp_is_claimed_as_such(family):
    result = complete(identifier=parse_identifier("7 21 75 123 456 78"))
    assert result.identity_check.claimed_identifier_type == "nnp"
    assert result.person.identifier_type == "provisional"


def test_without_nir_there_is_no_claim(family):
    result = complete()
    assert not result.claimed and result.identity_check.claimed_identifier is None


def _cases(family) -> dict:
    """Who holds NEW_NIR, for each case, made just before the sign-up; the typed identity is the same."""

    def unknown():
        return None

    def with_account():
        holder = known_holder()
        AccountFactory(person=holder, password="Autre mot de passe 2024")
        return holder

    def responsible_without_account():
        holder = known_holder()
        MemberFactory(dossier=DossierFactory(caf=family.caf), person=holder, role=Role.RESPONSABLE)
        return holder

    def member_without_account():
        holder = known_holder()
        MemberFactory(dossier=DossierFactory(caf=family.caf), person=holder, role=Role.ENFANT)
        return holder

    def another_identity():
        return known_holder(first_names=OTHER_FIRST_NAME)

    return {
        "unknown": unknown,
        "with_account": with_account,
        "responsible_without_account": responsible_without_account,
        "member_without_account": member_without_account,
        "another_identity": another_identity,
    }


def _statement_shapes(queries) -> list[str]:
    """The SQL statements run, literals and ids masked: what work was done, not on which rows."""
    shapes = []
    for query in queries:
        sql = re.sub(r'"s\d+_x\d+"', "?", re.sub(r"'[^']*'", "?", query["sql"]))  # savepoint names
        shapes.append(re.sub(r"\b\d+\b", "?", sql))
    return shapes


def test_the_final_step_does_the_same_whoever_holds_the_number(family, django_capture_on_commit_callbacks):
    """Same result, same message to the asker, same journal, and the same SQL statements (no
    look-up of the number, no early return) for an unknown number and for each kind of holder."""
    seen = {}
    for name, make_holder in _cases(family).items():
        holder = make_holder()
        before = (holder.identifier_digest, holder.identifier_type) if holder else None
        Message.objects.filter(recipient="ines@example.fr").delete()
        with CaptureQueriesContext(connection) as queries:
            result = complete(identifier=nir(NEW_NIR))
        assert result.state is SignupState.TO_VERIFY and result.person != holder, name
        assert result.person.identifier_type == "provisional", name
        assert result.identity_check.claimed_identifier == nir(NEW_NIR), name
        if holder is not None:
            # The holder is untouched: the same identifier, and the only person holding it.
            holder.refresh_from_db()
            assert (holder.identifier_digest, holder.identifier_type) == before, name
            assert holders(nir(NEW_NIR)) == [holder], name
        else:
            assert holders(nir(NEW_NIR)) == [], name
        entry = JournalEntry.objects.filter(action="signup.account_created").latest("pk")
        seen[name] = (
            requester_messages(),
            entry.detail,
            _statement_shapes(queries.captured_queries),
        )
        # The next case starts from a number nobody holds again.
        if holder is not None:
            Account.objects.filter(person=holder).delete()
            Member.objects.filter(person=holder).delete()
            holder.delete()
    reference = seen.pop("unknown")
    assert reference[0] and reference[0][0][0] == "signup_claim_received"
    for name, answer in seen.items():
        assert answer == reference, name


def test_the_holder_with_an_account_is_told_at_their_own_contacts_only(family, django_capture_on_commit_callbacks):
    responsible = family.responsible
    contacts = sorted(responsible.account.contacts.filter(verified_at__isnull=False).values_list("value", flat=True))
    assert contacts
    with django_capture_on_commit_callbacks(execute=True):
        complete(ident=identity_of(responsible.person), identifier=parse_identifier(responsible.identifier))
    notices = Message.objects.filter(template="signup_claim_holder_notice")
    assert sorted(notices.values_list("recipient", flat=True)) == contacts
    assert {n.account for n in notices} == {responsible.account}
    delivered = [m for m in mail.outbox if m.to == [contacts[0]]]
    assert len(delivered) == 1 and "Vous avez déjà un compte" in delivered[0].body
    # The asker got the one message every asker gets, nothing about the holder.
    assert list(Message.objects.filter(recipient="ines@example.fr").values_list("template", flat=True)) == [
        "signup_claim_received"
    ]
    assert not Message.objects.filter(recipient="ines@example.fr", template="signup_claim_holder_notice").exists()


def test_nobody_is_told_for_an_unknown_number_or_a_holder_without_account(family, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        complete(identifier=nir(NEW_NIR))
    known_holder()
    with django_capture_on_commit_callbacks(execute=True):
        complete(identifier=nir(NEW_NIR), contact_destination="ines2@example.fr")
    assert not Message.objects.filter(template="signup_claim_holder_notice").exists()


def test_the_review_of_a_decided_or_unknown_check_tells_nobody(family):
    responsible = family.responsible
    check = complete(
        ident=identity_of(responsible.person), identifier=parse_identifier(responsible.identifier)
    ).identity_check
    IdentityCheck.objects.filter(pk=check.pk).update(state=IdentityCheckState.REJECTED)
    assert signup_claim_review.call(check.pk) == 0
    assert signup_claim_review.call(check.pk + 1000) == 0
    IdentityCheck.objects.filter(pk=check.pk).update(state=IdentityCheckState.TO_VERIFY)
    assert signup_claim_review.call(check.pk) == responsible.account.contacts.filter(verified_at__isnull=False).count()


# A pending claim never blocks the real holder -------------------------------------------------


def test_the_real_allocataire_does_the_first_connection_after_a_squat_attempt(db):
    household = make_household(accounts=False, legacy_code="40506070")
    real = household.responsible
    squat = complete(ident=identity_of(real.person), identifier=parse_identifier(real.identifier))
    assert squat.person != real.person and holders(parse_identifier(real.identifier)) == [real.person]

    visitor = Actor.visitor(channel=Channel.WEB, client_address="203.0.113.50", session_key="f" * 32)
    dossier = legacy_code_verify(actor=visitor, caf=household.caf, numero=household.dossier.numero, code="40506070")
    person = first_connection_person(actor=visitor, dossier=dossier, identifier=parse_identifier(real.identifier))
    account = first_connection_complete(
        actor=visitor, dossier_id=dossier.pk, person_id=person.pk, password="Charonne et 30 tilleuls"
    )
    assert account.person == real.person
    # The squatter's pending account holds nothing of the file and signs in with its own identifier only.
    assert Account.objects.get(person=squat.person).person.identifier_type == "provisional"
    assert not Member.objects.filter(person=squat.person).exists()


def test_the_real_member_accepts_an_invitation_after_a_squat_attempt(family, django_capture_on_commit_callbacks):
    child = family.child
    Account.objects.filter(person=child.person).delete()
    complete(ident=identity_of(child.person), identifier=parse_identifier(child.identifier))

    with django_capture_on_commit_callbacks(execute=True):
        sent = invitation_send(
            actor=Actor(channel=Channel.WEB, account=family.responsible.account),
            member=child.member,
            channel="email",
            destination="enfant@example.fr",
        )
    visitor = Actor.visitor(channel=Channel.WEB, client_address="203.0.113.51", session_key="i" * 32)
    person = invitation_prove(
        actor=visitor,
        invitation=sent.invitation,
        identifier=parse_identifier(child.identifier),
        birth_date=child.person.birth_date,
    )
    account = invitation_accept(actor=visitor, invitation=sent.invitation, password="Charonne et 30 tilleuls")
    assert person == child.person and account.person == child.person


def test_the_real_holder_signs_up_too_and_only_the_checks_decide(family):
    squat = complete(identifier=nir(NEW_NIR), contact_destination="squat@example.fr")
    real = complete(identifier=nir(NEW_NIR), contact_destination="ines@example.fr")
    assert list(IdentityCheck.objects.claiming(nir(NEW_NIR).value).order_by("pk")) == [
        squat.identity_check,
        real.identity_check,
    ]
    # The agent accepts the real holder's check: the number is bound to them.
    identity_check_accept(actor=AGENT, check=real.identity_check, decided_by="Agent Durand")
    assert holders(nir(NEW_NIR)) == [real.person]
    # The squatter's check cannot bind it any more: refused cleanly, nothing changed.
    with pytest.raises(IdentityCheckError) as error:
        identity_check_accept(actor=AGENT, check=squat.identity_check, decided_by="Agent Durand")
    assert error.value.code == "taken" and "déjà attribué à une autre personne" in error.value.message
    squat.identity_check.refresh_from_db()
    squat.person.refresh_from_db()
    assert squat.identity_check.state == IdentityCheckState.TO_VERIFY
    assert squat.person.identifier_type == "provisional"
    assert JournalEntry.objects.filter(action="identity.check_bind_refused", subject_person=squat.person).exists()


# The acceptance ------------------------------------------------------------------------------


def test_the_acceptance_binds_the_claim_and_tells_the_person(family, django_capture_on_commit_callbacks):
    result = complete(identifier=nir(NEW_NIR))
    provisional = result.provisional_identifier
    with django_capture_on_commit_callbacks(execute=True):
        check = identity_check_accept(actor=AGENT, check=result.identity_check, decided_by="Agent Durand", reason="CNI")
    assert (check.state, check.decided_by, check.reason) == (IdentityCheckState.VERIFIED, "Agent Durand", "CNI")
    assert check.decided_at is not None
    person = Person.objects.get(pk=result.person.pk)
    assert person.identifier == nir(NEW_NIR) and person.identifier_type == "nir"
    assert holders(nir(NEW_NIR)) == [person]
    # The provisional identifier becomes a former one: it tells its holder the new one.
    assert FormerIdentifier.objects.with_identifier(provisional.value).get().person == person
    assert credentials_check(actor=AGENT, identifier=nir(NEW_NIR), password=PASSWORD).succeeded
    assert JournalEntry.objects.get(action="identity.check_accepted").detail == {"check": check.pk, "bound": True}
    told = Message.objects.get(template="identity_check_accepted")
    assert told.recipient == "ines@example.fr" and told.account == Account.objects.get(person=person)
    assert "maintenant rattaché à votre compte" in mail.outbox[-1].body and mail.outbox[-1].to == ["ines@example.fr"]
    # Decided once.
    with pytest.raises(IdentityCheckError) as error:
        identity_check_accept(actor=AGENT, check=check, decided_by="Agent Durand")
    assert error.value.code == "closed"


def test_the_acceptance_without_a_claim_keeps_the_provisional_identifier(family):
    result = complete()
    identity_check_accept(actor=AGENT, check=result.identity_check, decided_by="Agent Durand")
    person = Person.objects.get(pk=result.person.pk)
    assert person.identifier == result.provisional_identifier
    assert JournalEntry.objects.get(action="identity.check_accepted").detail["bound"] is False


def test_the_acceptance_refuses_a_number_recorded_meanwhile(family):
    """The legacy import (or any writer) records the real holder, who gets an account, after the
    claim: the claim loses (a holder without an account is attached to instead: below)."""
    result = complete(identifier=nir(NEW_NIR))
    real = known_holder()
    AccountFactory(person=real)
    with pytest.raises(IdentityCheckError) as error:
        identity_check_accept(actor=AGENT, check=result.identity_check, decided_by="Agent Durand")
    assert error.value.code == "taken" and error.value.status == 409
    assert holders(nir(NEW_NIR)) == [real]
    result.identity_check.refresh_from_db()
    assert result.identity_check.state == IdentityCheckState.TO_VERIFY
    assert Person.objects.get(pk=result.person.pk).identifier == result.provisional_identifier
    assert not JournalEntry.objects.filter(action="identity.check_accepted").exists()
    assert JournalEntry.objects.filter(action="identity.check_bind_refused").count() == 1


def test_the_acceptance_looks_for_a_holder_under_every_key(family, settings):
    """During a key rotation a holder recorded under the old HMAC key has another digest: the
    unique constraint cannot see them, the re-check must."""
    real = known_holder()
    AccountFactory(person=real)
    settings.MONCOMPTE_IDENTIFIER_HMAC_KEYS = [generate_hmac_key("next"), *settings.MONCOMPTE_IDENTIFIER_HMAC_KEYS]
    result = complete(identifier=nir(NEW_NIR))
    with pytest.raises(IdentityCheckError) as error:
        identity_check_accept(actor=AGENT, check=result.identity_check, decided_by="Agent Durand")
    assert error.value.code == "taken"
    assert holders(nir(NEW_NIR)) == [real]


def test_the_acceptance_refuses_a_former_identifier(family):
    """A number its holder was re-keyed away from still names them for a while: never bound to another."""
    someone = known_holder()
    person_rekey(actor=AGENT, person=someone, new_identifier=nir("2 91 05 69 383 025"))
    assert holders(nir(NEW_NIR)) == []
    result = complete(identifier=nir(NEW_NIR))
    with pytest.raises(IdentityCheckError) as error:
        identity_check_accept(actor=AGENT, check=result.identity_check, decided_by="Agent Durand")
    assert error.value.code == "taken"


def test_the_acceptance_refuses_a_former_identifier_recorded_under_the_old_key(family, settings):
    """During a key rotation a number its holder was re-keyed away from has its digest under the
    old key: the re-key's own check (current key) cannot see it, the acceptance's must."""
    someone = known_holder()
    person_rekey(actor=AGENT, person=someone, new_identifier=nir("2 91 05 69 383 025"))
    settings.MONCOMPTE_IDENTIFIER_HMAC_KEYS = [generate_hmac_key("next"), *settings.MONCOMPTE_IDENTIFIER_HMAC_KEYS]
    result = complete(identifier=nir(NEW_NIR))
    with pytest.raises(IdentityCheckError) as error:
        identity_check_accept(actor=AGENT, check=result.identity_check, decided_by="Agent Durand")
    assert error.value.code == "taken"
    assert holders(nir(NEW_NIR)) == []


def test_a_holder_written_between_the_recheck_and_the_binding_is_refused_cleanly(family):
    """The race, provoked deterministically: right before the binding's UPDATE reaches the
    database, another writer records the number (here in the same transaction, as a concurrent
    commit would be seen by the unique digest). The acceptance is refused, not a 500."""
    result = complete(identifier=nir(NEW_NIR))
    done = []

    def concurrent_import(execute, sql, params, many, context):
        if not done and sql.lstrip().upper().startswith('UPDATE "IDENTITY_PERSON"'):
            done.append(True)
            known_holder()
        return execute(sql, params, many, context)

    with connection.execute_wrapper(concurrent_import):
        with pytest.raises(IdentityCheckError) as error:
            identity_check_accept(actor=AGENT, check=result.identity_check, decided_by="Agent Durand")
    assert done and error.value.code == "taken"
    result.identity_check.refresh_from_db()
    assert result.identity_check.state == IdentityCheckState.TO_VERIFY
    assert JournalEntry.objects.filter(action="identity.check_bind_refused").count() == 1


# The messages --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "template, context",
    [
        ("signup_claim_received", {"identifier": "P-7K3M9-QX2T4"}),
        ("signup_claim_holder_notice", {"asked_at": datetime.datetime(2021, 10, 10, 20, 30, tzinfo=datetime.UTC)}),
        ("identity_check_accepted", {"bound": True}),
        ("identity_check_accepted", {"bound": False}),
        ("identity_check_attached", {}),
    ],
)
def test_the_new_messages_fit_an_sms_and_name_no_number(template, context):
    gsm7 = set(
        "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿"
        "abcdefghijklmnopqrstuvwxyzäöñüà"
    )
    sms = message_render(channel="sms", template=template, context=context)
    assert len(sms.body) <= 160 and set(sms.body) <= gsm7, (sms.body, len(sms.body), set(sms.body) - gsm7)
    mail = message_render(channel="email", template=template, context=context)
    assert mail.subject and "\n" not in mail.subject and "{{" not in mail.body
    assert "09 69 32 52 52" in mail.body
