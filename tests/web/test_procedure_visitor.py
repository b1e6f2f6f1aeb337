"""A new beneficiary's request without an account (issue 10, point 3; docs/signup.md).

The visitor starts the housing aid from its public page, fills the first two steps, meets the
identity step, creates their account through the real sign-up pages (the codes read from the
outbox) or signs in, claims the draft and finds what they typed; then confirms, fills the
resources and submits. The token stays in the server-side session only; another browser cannot
open the draft; a spouse without the delegation cannot take it; the account-creation page
promises to resume a request only when one is in progress.
"""

import re
from urllib.parse import quote

import pytest
from django.conf import settings
from django.core import mail
from django.test import Client

from moncompte.audit.models import JournalEntry
from moncompte.identity.models import IdentityCheck
from moncompte.procedures.models import Procedure, ProcedureEvent
from moncompte.web.procedure_visitor.state import VISITOR_KEY
from tests.conftest import sign_in
from tests.factories import AccountFactory
from tests.procedures.helpers import HOUSING
from tests.web.test_signup_pages import PASSWORD, identity_data

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("deliver_messages")]

PUBLIC = "/demarches/aide-au-logement/"
START = "/demarches/aide-au-logement/commencer/"
CLAIM = "/mon-compte/demarches/reprendre/"
PROMISE = "vous reprendrez ensuite votre demande là où vous l'aviez laissée"
ASK_WHO = "Pour continuer, nous devons savoir qui fait la demande"
SIGNIN_TO_CLAIM = "/connexion/?next=" + quote(CLAIM, safe="")


def step_url(pk: int, slug: str) -> str:
    return f"/mon-compte/demarches/{pk}/{slug}/"


def _last_code(address: str) -> str:
    bodies = [m.body for m in mail.outbox if address in m.to]
    assert bodies, f"no message to {address}"
    return re.search(r"\b(\d{6})\b", bodies[-1]).group(1)


def start(client: Client) -> Procedure:
    """The visitor presses "Commencer ma demande" on the public page: the draft and its first step."""
    page = client.get(PUBLIC)
    assert page.status_code == 200
    assert f'action="{START}"' in page.content.decode()
    response = client.post(START)
    assert response.status_code == 302, response.content.decode()[:500]
    procedure = Procedure.objects.get(pk=client.session[VISITOR_KEY]["procedure"])
    assert response["Location"] == step_url(procedure.pk, "logement")
    return procedure


def save(client: Client, procedure: Procedure, slug: str, data: dict, *, expect: str | None = None):
    """Post a step as its page does (the draft's version the page was built from)."""
    procedure.refresh_from_db()
    response = client.post(step_url(procedure.pk, slug), {**data, "version": procedure.version, "action": "continuer"})
    assert response.status_code == 302, (response.status_code, response.content.decode()[:2000])
    if expect is not None:
        assert response["Location"] == expect
    return response


def fill_first_two_steps(client: Client, procedure: Procedure) -> None:
    save(client, procedure, "logement", HOUSING["logement"], expect=step_url(procedure.pk, "loyer"))
    save(client, procedure, "loyer", HOUSING["loyer"], expect=step_url(procedure.pk, "identite"))


def visitor_with_draft() -> tuple[Client, Procedure]:
    client = Client()
    procedure = start(client)
    fill_first_two_steps(client, procedure)
    return client, procedure


def signup_inside_the_request(client: Client, email: str = "ines@example.fr", **identity) -> list:
    """The real sign-up pages from the identity step's "Créer mon compte"; each answer returned."""
    answers = [client.get("/creer-mon-compte/?depuis=demande")]
    answers.append(client.post("/creer-mon-compte/", {**identity_data(**identity), "depuis": "demande"}))
    assert answers[-1]["Location"] == "/creer-mon-compte/coordonnees/"
    answers.append(client.get("/creer-mon-compte/coordonnees/"))
    answers.append(
        client.post("/creer-mon-compte/coordonnees/", {"action": "envoyer", "channel": "email", "email": email})
    )
    answers.append(client.post("/creer-mon-compte/coordonnees/", {"action": "valider", "code": _last_code(email)}))
    assert answers[-1]["Location"] == "/creer-mon-compte/mot-de-passe/"
    answers.append(client.get("/creer-mon-compte/mot-de-passe/"))
    answers.append(client.post("/creer-mon-compte/mot-de-passe/", {"password": PASSWORD, "password_confirm": PASSWORD}))
    assert answers[-1]["Location"] == "/creer-mon-compte/identifiant/", answers[-1].content.decode()[:2000]
    return answers


def _text_of(response) -> str:
    parts = [response.content.decode(errors="replace"), response.get("Location", "")]
    parts += [f"{morsel.key}={morsel.value}" for morsel in response.cookies.values()]
    return "\n".join(parts)


# The whole request, from the public page to the receipt ------------------------------------


def test_a_new_beneficiary_starts_without_an_account_creates_it_inside_the_request_and_submits(client):
    seen = []
    before = client.get(PUBLIC)
    seen.append(before)
    body = before.content.decode()
    assert "Commencer ma demande" in body and "Ce qu'il vous faut" in body
    planted = client.session.session_key

    procedure = start(client)
    held = client.session[VISITOR_KEY]
    token = held["token"]
    assert held == {"token": token, "procedure": procedure.pk} and len(token) >= 32
    # A new session key once it holds the token; the draft is nobody's yet, its token hashed.
    assert client.session.session_key != planted
    assert procedure.person_id is None and procedure.dossier_id is None and procedure.visitor_digest
    assert token not in procedure.visitor_digest

    seen.append(client.get(step_url(procedure.pk, "logement")))
    assert seen[-1].status_code == 200
    fill_first_two_steps(client, procedure)

    # The identity step asks who makes the request.
    identity_page = client.get(step_url(procedure.pk, "identite"))
    seen.append(identity_page)
    assert identity_page.status_code == 200
    page = identity_page.content.decode()
    assert ASK_WHO in page
    assert 'href="/creer-mon-compte/?depuis=demande"' in page
    assert f'href="{SIGNIN_TO_CLAIM}"' in page
    # The later step is not open before the account exists.
    later = client.get(step_url(procedure.pk, "ressources"))
    assert later.status_code == 200 and ASK_WHO in later.content.decode()

    answers = signup_inside_the_request(client)
    seen += answers
    # The promise along the flow, since a request is in progress.
    for answer in (answers[0], answers[2], answers[5]):
        assert PROMISE in answer.content.decode(), answer.request["PATH_INFO"]
    # The draft's key survived the flow's cycle_key() calls and the sign-in.
    assert client.session[VISITOR_KEY] == held
    assert client.session["_auth_user_id"]
    person = IdentityCheck.objects.latest("pk").person

    provisional = client.get("/creer-mon-compte/identifiant/")
    seen.append(provisional)
    text = provisional.content.decode()
    assert person.identifier.display() in text
    assert f'<a class="fr-btn" href="{CLAIM}">J\'ai noté mon identifiant : reprendre ma demande</a>' in text
    assert 'href="/creer-mon-compte/justificatif/"' in text  # the document stays reachable
    # The identifier is shown once; the page then leads back to the request.
    again = client.get("/creer-mon-compte/identifiant/")
    assert again.status_code == 302 and again["Location"] == CLAIM
    document = client.get("/creer-mon-compte/justificatif/")
    assert document.status_code == 200 and f'href="{CLAIM}"' in document.content.decode()

    claimed = client.get(CLAIM)
    seen.append(claimed)
    assert claimed.status_code == 302 and claimed["Location"] == step_url(procedure.pk, "identite")
    assert VISITOR_KEY not in client.session
    procedure.refresh_from_db()
    assert procedure.person == person and procedure.dossier_id is None and procedure.visitor_digest == ""
    assert ProcedureEvent.objects.filter(procedure=procedure, kind=ProcedureEvent.Kind.CLAIMED, person=person).exists()
    assert JournalEntry.objects.filter(action="procedure.claimed").exists()

    # Back at the identity step, now the identity confirmation of the signed-in person.
    confirm = client.get(step_url(procedure.pk, "identite"))
    seen.append(confirm)
    assert confirm.status_code == 200
    body = confirm.content.decode()
    assert ASK_WHO not in body and 'name="confirm"' in body and person.first_names in body
    # What they typed before the account is there.
    rent = client.get(step_url(procedure.pk, "loyer")).content.decode()
    assert 'value="12 rue des Lilas"' in rent and 'value="Paris Habitat"' in rent
    assert procedure.data["logement"]["raw"]["entered_year"] == "2025"

    save(client, procedure, "identite", HOUSING["identite"], expect=step_url(procedure.pk, "ressources"))
    save(
        client,
        procedure,
        "ressources",
        HOUSING["ressources"],
        expect=f"/mon-compte/demarches/{procedure.pk}/recapitulatif/",
    )
    procedure.refresh_from_db()
    sent = client.post(
        f"/mon-compte/demarches/{procedure.pk}/recapitulatif/", {"attestation": "on", "version": procedure.version}
    )
    assert sent.status_code == 302 and sent["Location"] == f"/mon-compte/demarches/{procedure.pk}/accuse-de-reception/"
    procedure.refresh_from_db()
    assert procedure.state == Procedure.State.SUBMITTED and procedure.submitted_by == person
    receipt = client.get(sent["Location"])
    seen.append(receipt)
    assert receipt.status_code == 200 and procedure.reference in receipt.content.decode()

    # The token never left the server: in no page, redirect or cookie of ours.
    for response in seen:
        assert token not in _text_of(response)


def test_the_session_keeps_the_draft_through_every_renewal_of_its_key():
    """cycle_key() at the flow's start and at the contact's proof, login() from a visitor's
    session: Django keeps the data each time (a flush would lose the request)."""
    client, procedure = visitor_with_draft()
    held = client.session[VISITOR_KEY]
    keys = [client.session.session_key]
    client.get("/creer-mon-compte/?depuis=demande")
    client.post("/creer-mon-compte/", {**identity_data(), "depuis": "demande"})
    keys.append(client.session.session_key)
    assert client.session[VISITOR_KEY] == held
    client.post("/creer-mon-compte/coordonnees/", {"action": "envoyer", "channel": "email", "email": "c@example.fr"})
    client.post("/creer-mon-compte/coordonnees/", {"action": "valider", "code": _last_code("c@example.fr")})
    keys.append(client.session.session_key)
    assert client.session[VISITOR_KEY] == held
    client.post("/creer-mon-compte/mot-de-passe/", {"password": PASSWORD, "password_confirm": PASSWORD})
    keys.append(client.session.session_key)
    assert client.session[VISITOR_KEY] == held
    assert len(set(keys)) == 4  # renewed each time, the request kept each time


# Another browser ---------------------------------------------------------------------------


def _every_url(pk: int) -> list[str]:
    steps = [step_url(pk, slug) for slug in ("logement", "loyer", "identite", "ressources")]
    return [
        f"/mon-compte/demarches/{pk}/",
        *steps,
        f"/mon-compte/demarches/{pk}/recapitulatif/",
        f"/mon-compte/demarches/{pk}/accuse-de-reception/",
    ]


def test_another_browser_with_the_draft_number_finds_nothing(family):
    client, procedure = visitor_with_draft()
    # Another visitor, with a draft of their own (so a token in their session): 404 on every page.
    other = Client()
    start(other)
    for url in _every_url(procedure.pk):
        answer = other.get(url)
        if url.endswith(("/recapitulatif/", "/accuse-de-reception/")):
            # Pages for an account only: a visitor is asked to sign in first, and shown nothing.
            assert answer.status_code == 302 and answer["Location"].startswith("/connexion/"), url
            continue
        assert answer.status_code == 404, url
        if url.count("/") == 5:  # a step: its POST too
            assert other.post(url, {**HOUSING["logement"], "version": 99}).status_code == 404, url
    # Signed in as someone else: 404 too, and the claim of another session's draft is impossible.
    stranger = Client()
    sign_in(stranger, *family.responsible.credentials)
    for url in _every_url(procedure.pk):
        assert stranger.get(url).status_code == 404, url
    assert stranger.get(CLAIM)["Location"] == "/mon-compte/demarches/"
    # A browser with no draft at all is asked to sign in, and sees nothing of it.
    nobody = Client()
    answer = nobody.get(step_url(procedure.pk, "logement"))
    assert answer.status_code == 302 and answer["Location"].startswith("/connexion/")
    # Nothing changed; the visitor still has it.
    procedure.refresh_from_db()
    assert procedure.person_id is None and procedure.data["loyer"]["raw"]["landlord"] == "Paris Habitat"
    assert client.get(step_url(procedure.pk, "loyer")).status_code == 200


# The claim ---------------------------------------------------------------------------------


def test_the_claim_without_a_draft_in_the_session_goes_to_the_list(family):
    client = Client()
    sign_in(client, *family.responsible.credentials)
    response = client.get(CLAIM)
    assert response.status_code == 302 and response["Location"] == "/mon-compte/demarches/"
    assert client.post(CLAIM)["Location"] == "/mon-compte/demarches/"
    # Not signed in: the sign-in first, coming back here.
    anonymous = Client().get(CLAIM)
    assert anonymous.status_code == 302 and anonymous["Location"] == "/connexion/?next=" + CLAIM


def test_a_draft_expired_meanwhile_is_not_claimed_and_the_person_is_told():
    client, procedure = visitor_with_draft()
    Procedure.objects.filter(pk=procedure.pk).update(state=Procedure.State.EXPIRED)
    account = AccountFactory()
    sign_in(client, account.person.raw_identifier, account.raw_password)
    response = client.get(CLAIM)
    assert response.status_code == 302 and response["Location"] == "/mon-compte/demarches/"
    assert VISITOR_KEY not in client.session
    procedure.refresh_from_db()
    assert procedure.person_id is None


def test_signing_in_with_an_existing_account_instead_claims_the_draft():
    client, procedure = visitor_with_draft()
    account = AccountFactory()  # a person of no file: a new beneficiary with an account already
    page = client.get(SIGNIN_TO_CLAIM)
    assert page.status_code == 200 and f'name="next" value="{CLAIM}"' in page.content.decode()
    response = client.post(
        "/connexion/", {"identifier": account.person.raw_identifier, "password": account.raw_password, "next": CLAIM}
    )
    assert response.status_code == 302 and response["Location"] == CLAIM
    assert client.session[VISITOR_KEY]["procedure"] == procedure.pk  # kept through the sign-in
    response = client.get(CLAIM)
    assert response["Location"] == step_url(procedure.pk, "identite")
    procedure.refresh_from_db()
    assert procedure.person == account.person
    assert procedure.data["logement"]["raw"] == HOUSING["logement"]


def test_the_responsible_person_of_a_file_signing_in_makes_it_the_households(family):
    client, procedure = visitor_with_draft()
    client.post("/connexion/", {**_credentials(family.responsible), "next": CLAIM})
    assert client.get(CLAIM)["Location"] == step_url(procedure.pk, "identite")
    procedure.refresh_from_db()
    assert procedure.person == family.responsible.person and procedure.dossier == family.dossier


def test_a_spouse_without_the_delegation_cannot_claim_it_and_is_told_why(family):
    client, procedure = visitor_with_draft()
    response = client.post("/connexion/", {**_credentials(family.spouse), "next": CLAIM})
    assert response["Location"] == CLAIM
    refused = client.get(CLAIM)
    assert refused.status_code == 403
    body = refused.content.decode()
    assert "Vous ne pouvez pas reprendre cette demande avec votre compte" in body
    assert "responsable du dossier" in body and "autorisation de gérer le dossier" in body
    assert refused["Content-Type"].startswith("text/html")
    # Nothing attached to anyone; no claim in the history or the journal.
    procedure.refresh_from_db()
    assert procedure.person_id is None and procedure.dossier_id is None and procedure.visitor_digest
    assert not ProcedureEvent.objects.filter(procedure=procedure, kind=ProcedureEvent.Kind.CLAIMED).exists()
    assert not JournalEntry.objects.filter(action="procedure.claimed").exists()
    # The same page again (a reload, the identity step), never a 500.
    assert client.post(CLAIM).status_code == 403
    step = client.get(step_url(procedure.pk, "identite"))
    assert step.status_code == 200 and f'href="{CLAIM}">Reprendre ma demande avec mon compte' in step.content.decode()
    procedure.refresh_from_db()
    assert procedure.person_id is None


def _credentials(member) -> dict:
    return {"identifier": member.identifier, "password": member.password}


# The promise of the account-creation page --------------------------------------------------


def test_the_promise_is_made_only_with_a_request_in_progress():
    # No request: no promise, with or without "depuis=demande".
    nobody = Client()
    assert PROMISE not in nobody.get("/creer-mon-compte/").content.decode()
    assert PROMISE not in nobody.get("/creer-mon-compte/?depuis=demande").content.decode()
    nobody.post("/creer-mon-compte/", {**identity_data(), "depuis": "demande"})
    assert PROMISE not in nobody.get("/creer-mon-compte/coordonnees/").content.decode()

    # A request in progress, but the sign-up not started from it: no promise either.
    client, procedure = visitor_with_draft()
    assert PROMISE not in client.get("/creer-mon-compte/").content.decode()
    # From its identity step: the promise, along the flow.
    assert PROMISE in client.get("/creer-mon-compte/?depuis=demande").content.decode()
    client.post("/creer-mon-compte/", {**identity_data(), "depuis": "demande"})
    assert PROMISE in client.get("/creer-mon-compte/coordonnees/").content.decode()
    identity = client.get("/creer-mon-compte/").content.decode()
    assert f'href="{SIGNIN_TO_CLAIM}"' in identity  # "Connectez-vous" comes back to the request

    # The draft gone (expired): the promise goes with it.
    Procedure.objects.filter(pk=procedure.pk).update(state=Procedure.State.EXPIRED)
    assert PROMISE not in client.get("/creer-mon-compte/coordonnees/").content.decode()


def test_without_a_request_the_pages_after_the_creation_are_unchanged():
    client = Client()
    client.post("/creer-mon-compte/", identity_data())
    client.post("/creer-mon-compte/coordonnees/", {"action": "envoyer", "channel": "email", "email": "d@example.fr"})
    client.post("/creer-mon-compte/coordonnees/", {"action": "valider", "code": _last_code("d@example.fr")})
    client.post("/creer-mon-compte/mot-de-passe/", {"password": PASSWORD, "password_confirm": PASSWORD})
    body = client.get("/creer-mon-compte/identifiant/").content.decode()
    assert CLAIM not in body and "reprendre ma demande" not in body
    assert "J'ai noté mon identifiant : envoyer ma pièce d'identité" in body


# The public page and its start -------------------------------------------------------------


def test_the_public_page_is_linked_from_the_sign_in_page_and_opens_without_an_account(client):
    signin = client.get("/connexion/").content.decode()
    assert f'href="{PUBLIC}"' in signin
    page = client.get(PUBLIC)
    assert page.status_code == 200 and "private" in page["Cache-Control"]
    assert VISITOR_KEY not in client.session  # nothing kept before "Commencer"


def test_pressing_start_again_resumes_the_same_draft():
    client, procedure = visitor_with_draft()
    assert "Reprendre ma demande" in client.get(PUBLIC).content.decode()
    again = client.post(START)
    assert again["Location"] == step_url(procedure.pk, "identite")
    assert Procedure.objects.count() == 1


def test_only_a_type_open_to_newcomers_starts_from_the_public_page(client):
    assert client.post("/demarches/prime-d-activite/commencer/").status_code == 404
    assert client.post("/demarches/pas-un-type/commencer/").status_code == 404
    assert client.get(START).status_code == 405
    assert not Procedure.objects.exists() and VISITOR_KEY not in client.session


def test_a_signed_in_person_starts_it_as_from_their_list(family):
    responsible = Client()
    sign_in(responsible, *family.responsible.credentials)
    response = responsible.post(START)
    procedure = Procedure.objects.get()
    assert response["Location"] == step_url(procedure.pk, "logement")
    assert procedure.dossier == family.dossier and procedure.person == family.responsible.person
    assert VISITOR_KEY not in responsible.session
    # The spouse without the delegation may not: sent to the procedures they may start.
    spouse = Client()
    sign_in(spouse, *family.spouse.credentials)
    refused = spouse.post(START)
    assert refused.status_code == 302 and refused["Location"] == "/mon-compte/demarches/#commencer"
    assert Procedure.objects.count() == 1


def test_the_visitor_draft_lives_only_the_visitors_time():
    client, procedure = visitor_with_draft()
    procedure.refresh_from_db()
    lifetime = procedure.expires_at - procedure.updated_at
    assert lifetime.total_seconds() == settings.MONCOMPTE_PROCEDURE_VISITOR_DRAFT_HOURS * 3600


def test_the_session_cookie_is_the_only_cookie_set_by_the_start(client):
    client.get(PUBLIC)
    response = client.post(START)
    assert set(response.cookies) <= {settings.SESSION_COOKIE_NAME, settings.CSRF_COOKIE_NAME}
