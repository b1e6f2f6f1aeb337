"""The checkers' decisions: accept (the account opens, the person is told), refuse with a reason
(the person is told what to do and may send a new document, which opens a new check); a decided
check is never decided again; every decision is journaled with the agent."""

import html as html_module

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from moncompte.accounts.models import Account
from moncompte.accounts.signup import (
    CHECK_DECIDED,
    NUMBER_TAKEN,
    identity_check_reject,
    identity_check_reopen,
    pending_identity_check,
)
from moncompte.audit.models import JournalEntry
from moncompte.core.errors import NotAllowed
from moncompte.identity.identifiers import parse_identifier
from moncompte.identity.models import IdentityCheck, IdentityCheckState, IdentityDocument
from moncompte.notifications.models import Message
from tests.accounts.test_signup import _png, identity_of, nir
from tests.conftest import sign_in
from tests.factories import make_household
from tests.identity_checks.helpers import PASSWORD, console, document_for, owner, signup

pytestmark = pytest.mark.django_db

QUEUE = "/agents/verifications-identite/"
HOME = "/mon-compte/"


def page(client, path, **kwargs) -> str:
    return html_module.unescape(client.get(path, **kwargs).content.decode())


def decide(agent_client, check, **data):
    return agent_client.post(f"{QUEUE}{check.pk}/", data)


def told(recipient: str, template: str) -> list[Message]:
    return list(Message.objects.filter(recipient=recipient, template=template).order_by("pk"))


def test_an_accepted_check_opens_the_account_with_the_claimed_number(lyon, checker, media):
    claimed = nir("2 91 05 69 383 017")
    result = signup(identifier=claimed, email="ines@example.fr")
    document_for(result.identity_check)
    person = Client()
    # Before: the NIR signs nobody in; the provisional identifier shows the person's own page only.
    assert sign_in(person, claimed.display(), PASSWORD).status_code == 401
    assert sign_in(person, result.provisional_identifier.display(), PASSWORD).status_code == 302
    assert "Vérification de votre identité en cours" in page(person, HOME)

    agents = console(checker)
    response = decide(agents, result.identity_check, decision="accept")
    assert response.status_code == 302 and response["Location"] == QUEUE
    assert "Vérification d'identité acceptée : le compte est ouvert et la personne est prévenue." in page(agents, QUEUE)

    check = IdentityCheck.objects.get(pk=result.identity_check.pk)
    assert check.state == IdentityCheckState.VERIFIED and check.decided_at is not None
    assert (check.decided_by, check.decided_by_agent) == ("Nadia Benali", checker)
    entry = JournalEntry.objects.get(action="identity.check_accepted")
    assert (entry.actor_agent, entry.subject_person_id, entry.detail) == (
        checker,
        result.person.pk,
        {"check": check.pk, "bound": True},
    )
    # Told at the validated contact.
    [message] = told("ines@example.fr", "identity_check_accepted")
    assert "Un agent de la Caf a vérifié votre identité" in message.get_body()
    # After: the NIR signs in, and nothing waits any more.
    after = Client()
    assert sign_in(after, claimed.display(), PASSWORD).status_code == 302
    home = page(after, HOME)
    assert "Vérification de votre identité en cours" not in home and "n'a pas pu être vérifiée" not in home
    # The queue no longer lists it.
    assert f"{QUEUE}{check.pk}/" not in page(agents, QUEUE)


def test_a_member_who_signed_up_alone_sees_her_place_in_the_file_after_the_acceptance(lyon, checker):
    family = make_household(caf=lyon)
    Account.objects.filter(person=family.child.person).delete()
    child = family.child
    result = signup(
        identifier=parse_identifier(child.identifier),
        email="enfant@example.fr",
        **{k: v for k, v in vars(identity_of(child.person)).items() if k not in ("postal_code", "city")},
    )
    before = Client()
    assert sign_in(before, result.provisional_identifier.display(), PASSWORD).status_code == 302
    assert "Mon rattachement" not in page(before, HOME)

    assert decide(console(checker), result.identity_check, decision="accept").status_code == 302

    after = Client()
    assert sign_in(after, child.identifier, PASSWORD).status_code == 302
    home = page(after, HOME)
    # What the policy lets a child see: her own place in the file, not the file's payments.
    assert "Mon rattachement" in home and "Caf du Rhône" in home
    assert "Derniers paiements" not in home and family.dossier.numero not in home
    assert told("enfant@example.fr", "identity_check_attached")
    assert JournalEntry.objects.get(action="identity.check_attached").actor_agent == checker


def test_a_refused_check_tells_the_person_what_to_do_and_a_new_document_opens_a_new_check(lyon, checker, media):
    claimed = nir("2 91 05 69 383 017")
    result = signup(identifier=claimed, email="ines@example.fr")
    document_for(result.identity_check)
    agents = console(checker)
    path = f"{QUEUE}{result.identity_check.pk}/"

    # The reason is required, and "Autre motif" needs the agent's words.
    refused = decide(agents, result.identity_check, decision="reject")
    assert refused.status_code == 400 and "Choisissez le motif du refus." in html_module.unescape(
        refused.content.decode()
    )
    refused = decide(agents, result.identity_check, **{"decision": "reject", "refus-reason": "other"})
    assert refused.status_code == 400
    assert "Avec « Autre motif », écrivez le motif du refus pour la personne." in html_module.unescape(
        refused.content.decode()
    )
    assert pending_identity_check(result.person) == result.identity_check

    response = decide(
        agents,
        result.identity_check,
        **{"decision": "reject", "refus-reason": "illegible", "refus-details": "La photo est floue."},
    )
    assert response.status_code == 302 and response["Location"] == QUEUE
    check = IdentityCheck.objects.get(pk=result.identity_check.pk)
    assert check.state == IdentityCheckState.REJECTED
    assert (check.reason, check.decided_by_agent) == ("Document illisible. La photo est floue.", checker)
    entry = JournalEntry.objects.get(action="identity.check_rejected")
    assert (entry.actor_agent, entry.subject_person_id, entry.detail) == (
        checker,
        result.person.pk,
        {"check": check.pk},
    )
    assert "floue" not in str(entry.detail)

    # Told what to do: a new document from Mon Compte, or the counter.
    [message] = told("ines@example.fr", "identity_check_rejected")
    body = message.get_body()
    assert "Motif : Document illisible. La photo est floue." in body
    assert "envoyer un nouveau justificatif" in body and "venir à l'accueil de votre Caf" in body
    assert not told("ines@example.fr", "identity_check_accepted")
    assert "Vérification refusée" in page(agents, path)

    # The person sees it at home and on the document page, and sends a new document.
    person = Client()
    assert sign_in(person, result.provisional_identifier.display(), PASSWORD).status_code == 302
    home = page(person, HOME)
    assert "Votre identité n'a pas pu être vérifiée" in home and "Motif : Document illisible" in home
    assert "Votre précédent justificatif n'a pas été accepté" in page(person, "/creer-mon-compte/justificatif/")
    assert pending_identity_check(result.person) is None  # a visit opens nothing
    sent = person.post(
        "/creer-mon-compte/justificatif/", {"kind": "passport", "document": SimpleUploadedFile("p.png", _png())}
    )
    assert sent.status_code == 302 and sent["Location"] == "/creer-mon-compte/justificatif/envoye/"
    new = pending_identity_check(result.person)
    assert new is not None and new.pk != check.pk
    assert new.claimed_identifier == claimed and (new.postal_code, new.city) == ("69003", "Lyon")
    assert [d.kind for d in IdentityDocument.objects.filter(identity_check=new)] == ["passport"]
    assert JournalEntry.objects.get(action="identity.check_reopened").detail == {"check": new.pk, "previous": check.pk}
    # The new check waits in the checkers' queue.
    assert f"{QUEUE}{new.pk}/" in page(agents, QUEUE)


@pytest.mark.parametrize("first", ["accept", "reject"])
def test_a_decided_check_is_not_decided_again(lyon, checker, first):
    result = signup(email="ines@example.fr")
    agents = console(checker)
    assert decide(agents, result.identity_check, decision=first, **{"refus-reason": "expired"}).status_code == 302
    decided = IdentityCheck.objects.get(pk=result.identity_check.pk)
    messages_before = Message.objects.count()
    for again in ("accept", "reject"):
        response = decide(agents, result.identity_check, decision=again, **{"refus-reason": "illegible"})
        assert response.status_code == 409 and CHECK_DECIDED in html_module.unescape(response.content.decode())
    after = IdentityCheck.objects.get(pk=result.identity_check.pk)
    assert (after.state, after.decided_at, after.reason) == (decided.state, decided.decided_at, decided.reason)
    assert Message.objects.count() == messages_before
    assert JournalEntry.objects.filter(action__in=["identity.check_accepted", "identity.check_rejected"]).count() == 1
    with pytest.raises(Exception, match="déjà été traitée"):
        identity_check_reject(actor=owner(after), check=after, reason="Document expiré")


def test_an_acceptance_the_claim_forbids_is_shown_to_the_checker_and_journaled(lyon, checker, family):
    # The number of a person who has an account: the acceptance is refused, the check stays.
    responsible = family.responsible.person
    declared = {k: v for k, v in vars(identity_of(responsible)).items() if k not in ("postal_code", "city")}
    result = signup(identifier=parse_identifier(family.responsible.identifier), **declared)
    response = decide(console(checker), result.identity_check, decision="accept")
    assert response.status_code == 409
    assert NUMBER_TAKEN in html_module.unescape(response.content.decode())
    assert pending_identity_check(result.person) == result.identity_check
    refused = JournalEntry.objects.get(action="identity.check_bind_refused")
    assert refused.actor_agent == checker and refused.detail == {"check": result.identity_check.pk, "code": "taken"}


def test_only_a_refused_check_is_followed_by_a_new_one(lyon, checker):
    result = signup()
    actor = owner(result.identity_check)
    assert identity_check_reopen(actor=actor, person=result.person) == result.identity_check  # still pending
    assert decide(console(checker), result.identity_check, decision="accept").status_code == 302
    with pytest.raises(NotAllowed):
        identity_check_reopen(actor=actor, person=result.person)
    assert not IdentityCheck.objects.filter(person=result.person, state=IdentityCheckState.TO_VERIFY).exists()
