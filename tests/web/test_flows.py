"""The multi-step flows' shared helpers (moncompte.web.flows): every flow's state dies at the end
of its lifetime, and the contact step answers a refused send the same way in every flow."""

import re

import pytest
from django.core import mail
from django.test import Client

from moncompte.core.actors import Actor, Channel, ContactChannel
from moncompte.households.invitations import invitation_send
from moncompte.households.models import Role
from moncompte.web import flows
from moncompte.web.invitations.views import NO_FLOW
from tests.conftest import sign_in
from tests.factories import make_household
from tests.factories.households import MemberFactory
from tests.web.date_parts import date_parts
from tests.web.test_signup_pages import identity_data

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("deliver_messages")]

MINUTE = 60


class _Clock:
    def __init__(self, now: float):
        self.now = now

    def time(self) -> float:
        return self.now

    # flows.answer_no_sooner's clock: the pages' minimum durations are 0 here (``_fast``).
    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock(monkeypatch):
    import time

    fake = _Clock(time.time())
    monkeypatch.setattr(flows, "time", fake)
    return fake


@pytest.fixture(autouse=True)
def _fast(settings):
    settings.MONCOMPTE_PASSWORD_RESET_MIN_SECONDS = 0


# Each case: (how the flow starts, the next step's page, its lifetime, where an expired one goes)


def _first_connection(client):
    family = make_household(accounts=False, legacy_code="12345678")
    data = {"place": family.caf.departement, "numero": family.dossier.numero, "code": "12345678"}
    response = client.post("/premiere-connexion/dossier/", data)
    assert response["Location"] == "/premiere-connexion/numero-securite-sociale/"


def _signup(client):
    response = client.post("/creer-mon-compte/", identity_data())
    assert response["Location"] == "/creer-mon-compte/coordonnees/"


def _invitation(client):
    family = make_household()
    member = MemberFactory(dossier=family.dossier, role=Role.ENFANT, person__age=17)
    inviter = Actor.visitor(channel=Channel.WEB).signed_in_as(family.responsible.account, session_key=None)
    sent = invitation_send(actor=inviter, member=member, channel=ContactChannel.EMAIL, destination="m@example.fr")
    proof = {"code": sent.code, "identifier": member.person.raw_identifier, **date_parts(member.person.birth_date)}
    assert client.post("/invitation/", proof)["Location"] == "/invitation/mot-de-passe/"


def _reset_code(client):
    family = make_household()
    response = client.post("/mot-de-passe-oublie/", {"identifier": family.responsible.identifier})
    assert response["Location"] == "/mot-de-passe-oublie/code/"
    return family


def _reset_password(client):
    family = _reset_code(client)
    address = family.responsible.account.contacts.get().value
    code = re.search(r"\b(\d{6})\b", [m.body for m in mail.outbox if m.to == [address]][-1]).group(1)
    response = client.post("/mot-de-passe-oublie/code/", {"code": code})
    assert response["Location"] == "/mot-de-passe-oublie/nouveau/"


FLOWS = {
    "first-connection": (_first_connection, "/premiere-connexion/numero-securite-sociale/", 30, 302),
    "signup": (_signup, "/creer-mon-compte/coordonnees/", 45, 302),
    "invitation": (_invitation, "/invitation/mot-de-passe/", 30, 400),
    "reset-code": (_reset_code, "/mot-de-passe-oublie/code/", 30, 302),
    "reset-password": (_reset_password, "/mot-de-passe-oublie/nouveau/", 15, 302),
}


@pytest.mark.parametrize("name", FLOWS)
def test_a_flow_state_lives_its_lifetime_and_no_longer(clock, name):
    start, page, minutes, expired_status = FLOWS[name]
    client = Client()
    start(client)
    clock.now += minutes * MINUTE - 5
    assert client.get(page).status_code == 200
    clock.now += 10
    response = client.get(page)
    assert response.status_code == expired_status
    if expired_status == 400:
        assert NO_FLOW.replace("'", "&#x27;") in response.content.decode()
    # Dropped, not only refused: going back in time does not revive it.
    clock.now -= 10
    assert client.get(page).status_code == expired_status


def test_the_signup_keeps_its_start_across_steps(clock):
    client = Client()
    _signup(client)
    clock.now += 40 * MINUTE
    client.post("/creer-mon-compte/coordonnees/", {"action": "envoyer", "channel": "email", "email": "a@example.fr"})
    clock.now += 6 * MINUTE  # 46 minutes after the start, 6 after the last step
    assert client.get("/creer-mon-compte/coordonnees/")["Location"] == "/creer-mon-compte/"


TOO_MANY = "Trop de codes ont été envoyés à ce destinataire."


def test_a_refused_send_answers_429_in_the_signup(settings):
    settings.MONCOMPTE_CODE_MAX_SENDS_PER_DESTINATION_PER_HOUR = 1
    client = Client()
    _signup(client)
    page = "/creer-mon-compte/coordonnees/"
    choice = {"action": "envoyer", "channel": "email", "email": "a@example.fr"}
    assert client.post(page, choice).status_code == 302
    assert client.post(page, {"action": "changer"}).status_code == 302
    response = client.post(page, choice)
    assert response.status_code == 429 and TOO_MANY in response.content.decode()


def test_a_refused_send_answers_429_on_the_contact_page(settings):
    settings.MONCOMPTE_CODE_MAX_SENDS_PER_DESTINATION_PER_HOUR = 1
    family = make_household()
    client = Client()
    sign_in(client, *family.responsible.credentials)
    page = "/mon-compte/coordonnees/valider/"
    choice = {
        "action": "envoyer",
        "channel": "email",
        "email": "nouvelle@example.fr",
        "current_password": family.responsible.password,
    }
    assert client.post(page, choice).status_code == 302
    assert client.post(page, {"action": "changer"}).status_code == 302
    response = client.post(page, choice)
    assert response.status_code == 429 and TOO_MANY in response.content.decode()
