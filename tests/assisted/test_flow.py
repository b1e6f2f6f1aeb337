"""The assisted first connection, end to end, through the agent's page and the person's pages."""

import datetime
import io
import json
import re

import pytest
import time_machine
from django.contrib.sessions.models import Session
from django.core import mail
from django.core.management import call_command
from django.test import Client
from django.utils.html import escape

from moncompte.accounts.models import Account, AccountSession, AssistedFirstConnection, LegacyCredential
from moncompte.audit.actions import JournalAction
from moncompte.audit.models import JournalEntry
from tests.assisted.conftest import PASSWORD, TERMINAL_ADDRESS, open_service, shown_code, start_url
from tests.conftest import sign_in
from tests.factories import AccountFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("deliver_messages")]

CONTACT = "lea.assistee@example.fr"


class AgentScreen:
    """The agent's browser: every page it gets is kept, to look for what it must never show."""

    def __init__(self, client: Client):
        self.client = client
        self.pages: list[str] = []

    def get(self, url: str):
        return self._keep(self.client.get(url))

    def post(self, url: str, data=None):
        return self._keep(self.client.post(url, data or {}))

    def _keep(self, response):
        self.pages.append(response.content.decode())
        return response

    def state(self, service) -> str:
        page = self.get(start_url(service)).content.decode()
        return re.search(r'id="etat">([^<]+)<', page).group(1)


def _terminal() -> Client:
    return Client(REMOTE_ADDR=TERMINAL_ADDRESS)


def _last_code() -> str:
    return re.search(r"\b(\d{6})\b", mail.outbox[-1].body).group(1)


def test_the_whole_flow_from_the_agent_to_the_person_signed_in(household, agent):
    screen = AgentScreen(Client(REMOTE_ADDR="10.20.0.7"))
    responsible = household.responsible.person
    service, _ = open_service(agent, household.dossier, responsible, client=screen.client)

    page = screen.get(start_url(service))
    assert page.status_code == 200
    assert "Lancer la première connexion accompagnée" in page.content.decode()

    started = screen.post(start_url(service))
    assert started.status_code == 200
    code = shown_code(started.content.decode())
    assert "/premiere-connexion/accompagnee/" in started.content.decode()
    assert screen.state(service) == "En attente"
    # Shown once: the reloaded page has the state, not the code.
    assert code not in screen.pages[-1]

    terminal = _terminal()
    assert terminal.get("/premiere-connexion/accompagnee/").status_code == 200
    claimed = terminal.post("/premiere-connexion/accompagnee/", {"code": code.lower().replace("-", " ")})
    assert claimed["Location"] == "/premiere-connexion/accompagnee/mot-de-passe/"
    confirm = terminal.get("/premiere-connexion/accompagnee/mot-de-passe/").content.decode()
    assert f"Vous êtes bien {escape(responsible.display_name)} ?" in confirm
    assert screen.state(service) == "En attente"

    done = terminal.post(
        "/premiere-connexion/accompagnee/mot-de-passe/", {"password": PASSWORD, "password_confirm": PASSWORD}
    )
    assert done["Location"] == "/mon-compte/coordonnees/valider/"
    account = Account.objects.get(person=responsible)
    assert account.check_password(PASSWORD)
    assert screen.state(service) == "Mot de passe créé"
    # The old code no longer opens the file on the web, as after the person's own first connection.
    assert LegacyCredential.objects.get(dossier=household.dossier).retired_on_web_at is not None

    # The contact validation takes over, with the advice for a shared terminal.
    validation = terminal.get("/mon-compte/").url
    assert validation == "/mon-compte/coordonnees/valider/"
    page = terminal.get(validation).content.decode()
    assert "pensez à vous déconnecter à la fin" in page
    terminal.post(validation, {"action": "envoyer", "channel": "email", "email": CONTACT})
    terminal.post(validation, {"action": "valider", "code": _last_code()})
    assert screen.state(service) == "Moyen de contact validé"

    # Another browser signs in with the NIR and the password the person chose.
    elsewhere = Client()
    assert sign_in(elsewhere, household.responsible.identifier, PASSWORD).status_code == 302
    assert escape(responsible.display_name) in elsewhere.get("/mon-compte/", follow=True).content.decode()

    # Nothing the person typed reached the agent's screen: neither the password nor the contact.
    for agent_page in screen.pages:
        assert PASSWORD not in agent_page
        assert CONTACT not in agent_page

    assisted = AssistedFirstConnection.objects.get(person=responsible)
    started_entry = JournalEntry.objects.get(action=JournalAction.ASSISTED_STARTED)
    assert (started_entry.actor_agent_id, started_entry.subject_person_id) == (agent.pk, responsible.pk)
    assert started_entry.actor_person_id is None
    completed = JournalEntry.objects.get(action=JournalAction.ASSISTED_COMPLETED)
    assert (completed.actor_person_id, completed.actor_agent_id) == (responsible.pk, None)
    assert completed.detail == {"assisted": assisted.pk}
    assert completed.channel == "web"
    assert JournalEntry.objects.filter(action=JournalAction.ASSISTED_SIGNED_IN, actor_person=responsible).exists()


def test_the_password_and_the_code_are_kept_nowhere_but_in_the_account_hash(household, agent):
    screen = AgentScreen(Client())
    service, _ = open_service(agent, household.dossier, household.spouse.person, client=screen.client)
    code = shown_code(screen.post(start_url(service)).content.decode())
    terminal = _terminal()
    terminal.post("/premiere-connexion/accompagnee/", {"code": code})
    terminal.post("/premiere-connexion/accompagnee/mot-de-passe/", {"password": PASSWORD, "password_confirm": PASSWORD})
    assert Account.objects.filter(person=household.spouse.person).exists()

    database = io.StringIO()
    call_command("dumpdata", stdout=database)  # every row: the journal, the flow, the agents' sessions
    dumped = database.getvalue()
    assert PASSWORD not in dumped and json.dumps(PASSWORD)[1:-1] not in dumped
    assert code not in dumped and code.replace("-", "") not in dumped
    for session in Session.objects.all():
        decoded = json.dumps(session.get_decoded())
        assert PASSWORD not in decoded and code.replace("-", "") not in decoded
    row = AssistedFirstConnection.objects.get(person=household.spouse.person)
    assert PASSWORD not in str([getattr(row, f.attname) for f in row._meta.concrete_fields])


def test_a_child_gets_an_account_and_the_file_keeps_its_old_code(household, agent):
    screen = AgentScreen(Client())
    service, _ = open_service(agent, household.dossier, household.child.person, client=screen.client)
    code = shown_code(screen.post(start_url(service)).content.decode())
    terminal = _terminal()
    terminal.post("/premiere-connexion/accompagnee/", {"code": code})
    response = terminal.post(
        "/premiere-connexion/accompagnee/mot-de-passe/", {"password": PASSWORD, "password_confirm": PASSWORD}
    )
    assert response.status_code == 302
    assert Account.objects.filter(person=household.child.person).exists()
    # The old code is the responsible person's and the spouse's way in: a child's account leaves it.
    assert LegacyCredential.objects.get(dossier=household.dossier).retired_on_web_at is None


def test_a_weak_password_is_refused_on_the_persons_page_and_nothing_is_created(household, agent):
    screen = AgentScreen(Client())
    service, _ = open_service(agent, household.dossier, household.responsible.person, client=screen.client)
    code = shown_code(screen.post(start_url(service)).content.decode())
    terminal = _terminal()
    terminal.post("/premiere-connexion/accompagnee/", {"code": code})
    response = terminal.post(
        "/premiere-connexion/accompagnee/mot-de-passe/", {"password": "azerty123", "password_confirm": "azerty123"}
    )
    assert response.status_code == 400
    assert "fr-input-group--error" in response.content.decode()
    assert not Account.objects.filter(person=household.responsible.person).exists()
    assert screen.state(service) == "En attente"


def test_the_person_who_does_not_recognise_the_name_stops_it(household, agent):
    screen = AgentScreen(Client())
    service, _ = open_service(agent, household.dossier, household.responsible.person, client=screen.client)
    code = shown_code(screen.post(start_url(service)).content.decode())
    terminal = _terminal()
    terminal.post("/premiere-connexion/accompagnee/", {"code": code})
    response = terminal.post("/premiere-connexion/accompagnee/mot-de-passe/", {"action": "pas_moi"})
    assert "Aucun compte n'a été créé" in response.content.decode()
    assert screen.state(service) == "Annulée"
    assert escape("La personne ne s'est pas reconnue") in screen.pages[-1]
    assert (
        terminal.get("/premiere-connexion/accompagnee/mot-de-passe/")["Location"] == "/premiere-connexion/accompagnee/"
    )
    assert JournalEntry.objects.filter(action=JournalAction.ASSISTED_DECLINED).count() == 1
    # The agent may give a new code.
    assert "Donner un nouveau code" in screen.pages[-1]


def test_the_password_page_needs_a_claimed_code(household):
    response = _terminal().get("/premiere-connexion/accompagnee/mot-de-passe/")
    assert response["Location"] == "/premiere-connexion/accompagnee/"


def test_the_agents_page_tells_why_it_is_not_offered(household, agent):
    screen = AgentScreen(Client())
    AccountFactory(person=household.responsible.person)
    service, _ = open_service(agent, household.dossier, household.responsible.person, client=screen.client)
    page = screen.get(start_url(service)).content.decode()
    assert "Cette personne a déjà un compte Mon Compte" in page
    assert "Lancer la première connexion accompagnée" not in page
    refused = screen.post(start_url(service))
    assert refused.status_code == 409
    assert "Cette personne a déjà un compte Mon Compte" in refused.content.decode()
    assert not AssistedFirstConnection.objects.exists()


def test_the_claim_page_tells_what_is_wrong_with_the_code(household, agent, settings):
    screen = AgentScreen(Client())
    service, _ = open_service(agent, household.dossier, household.responsible.person, client=screen.client)
    code = shown_code(screen.post(start_url(service)).content.decode())
    terminal = _terminal()
    malformed = terminal.post("/premiere-connexion/accompagnee/", {"code": "ABC"})
    assert malformed.status_code == 400
    assert 'aria-describedby="id_code-aide id_code-erreur"' in malformed.content.decode()
    assert "sous la forme XXXX-XXXX" in malformed.content.decode()
    later = datetime.datetime.now(datetime.UTC) + datetime.timedelta(minutes=settings.MONCOMPTE_ASSISTED_MINUTES + 1)
    with time_machine.travel(later, tick=False):
        expired = terminal.post("/premiere-connexion/accompagnee/", {"code": code})
    assert expired.status_code == 410
    assert "Ce code a expiré. Demandez un nouveau code à l&#x27;agent d&#x27;accueil." in expired.content.decode()


def test_a_person_left_signed_in_on_the_terminal_is_signed_out_first(household, agent):
    someone = AccountFactory()
    terminal = _terminal()
    assert sign_in(terminal, someone.person.raw_identifier, someone.raw_password).status_code == 302
    screen = AgentScreen(Client())
    service, _ = open_service(agent, household.dossier, household.responsible.person, client=screen.client)
    code = shown_code(screen.post(start_url(service)).content.decode())
    terminal.post("/premiere-connexion/accompagnee/", {"code": code})
    assert "_auth_user_id" not in terminal.session
    assert not AccountSession.objects.filter(account=someone, ended_at__isnull=True).exists()
    terminal.post("/premiere-connexion/accompagnee/mot-de-passe/", {"password": PASSWORD, "password_confirm": PASSWORD})
    assert terminal.session["_auth_user_id"] == str(Account.objects.get(person=household.responsible.person).pk)
