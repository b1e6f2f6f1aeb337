"""An agent changes their own password (/agents/mot-de-passe/): the current one typed again,
throttled with every re-typing of the agent's password (``agent-reauth``), the activation's
policy for the new one; the agent's other sessions end, this one stays; journaled."""

import datetime
import html

import pytest
import time_machine
from django.conf import settings
from django.contrib.auth.hashers import check_password
from django.test import Client

from moncompte.access.agents import AgentRole
from moncompte.accounts.recovery import PasswordRefused
from moncompte.agents.models import Agent, AgentSession
from moncompte.agents.services import agent_password_change
from moncompte.agents.sessions import agent_actor
from moncompte.audit.actions import JournalAction
from moncompte.audit.models import JournalEntry
from moncompte.core.errors import NotAllowed
from tests.factories import AGENT_PASSWORD, AgentFactory, sign_in_agent, totp_now

pytestmark = pytest.mark.django_db

URL = "/agents/mot-de-passe/"
HOME = "/agents/"
SIGNIN = "/agents/connexion/"
NEW_PASSWORD = "Trois hiboux 57 dans la nuit"
T0 = datetime.datetime(2026, 3, 2, 9, 0, 10, tzinfo=datetime.UTC)


def page(response) -> str:
    return html.unescape(response.content.decode())


def change(client, current=AGENT_PASSWORD, new=NEW_PASSWORD, confirm=None):
    return client.post(
        URL, {"current_password": current, "password": new, "password_confirm": new if confirm is None else confirm}
    )


@pytest.fixture
def agent():
    return AgentFactory(roles=[AgentRole.COUNTER.value], first_names="Bérénice", last_name="Lafleur")


@pytest.fixture
def client(agent):
    client = Client()
    client.agent_session = sign_in_agent(client, agent)
    return client


def signs_in(email, password) -> bool:
    return Client().post(SIGNIN, {"email": email, "password": password}).status_code == 302


def test_the_home_page_links_to_the_page(client):
    assert f'href="{URL}"' in page(client.get(HOME))
    response = client.get(URL)
    assert response.status_code == 200
    text = page(response)
    assert text.count("<h1") == 1
    assert 'autocomplete="current-password"' in text


def test_the_page_needs_a_signed_in_agent_with_their_second_factor(agent):
    anonymous = Client()
    response = anonymous.post(URL, {"current_password": AGENT_PASSWORD, "password": NEW_PASSWORD})
    assert response.status_code == 302 and response["Location"] == SIGNIN
    half = Client()
    sign_in_agent(half, agent, second_factor=False)
    response = half.post(
        URL, {"current_password": AGENT_PASSWORD, "password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD}
    )
    assert response.status_code == 302 and response["Location"] == SIGNIN
    agent.refresh_from_db()
    assert check_password(AGENT_PASSWORD, agent.password)


def test_the_password_changes_the_other_sessions_end_and_this_one_stays(client, agent):
    other_browser = Client()
    other = sign_in_agent(other_browser, agent)
    waiting = sign_in_agent(Client(), agent, second_factor=False)
    with time_machine.travel(T0, tick=False):
        response = change(client)
        assert response.status_code == 302 and response["Location"] == HOME
        home = client.get(HOME)
    assert home.status_code == 200
    assert "Votre mot de passe a été modifié. Vos 2 autres sessions ouvertes ont été fermées." in page(home)
    agent.refresh_from_db()
    assert check_password(NEW_PASSWORD, agent.password)
    assert agent.password_changed_at == T0
    assert AgentSession.objects.get(pk=client.agent_session.pk).ended_at is None
    for session in (other, waiting):
        session = AgentSession.objects.get(pk=session.pk)
        assert session.ended_at is not None and session.end_reason == "password_changed"
    assert other_browser.get(HOME).status_code == 302
    # The old password opens nothing any more; the new one does.
    assert not signs_in(agent.email, AGENT_PASSWORD)
    assert signs_in(agent.email, NEW_PASSWORD)


def test_the_change_is_journaled_without_the_passwords(client, agent):
    sign_in_agent(Client(), agent)
    change(client)
    entry = JournalEntry.objects.get(action=JournalAction.AGENT_PASSWORD_CHANGED)
    assert entry.actor_agent == agent
    assert entry.detail == {"agent": agent.pk, "sessions_ended": 1}
    ended = JournalEntry.objects.get(action=JournalAction.AGENT_SESSION_END_ALL)
    assert ended.actor_agent == agent
    assert ended.detail == {"agent": agent.pk, "reason": "password_changed", "sessions": 1}
    for journal in JournalEntry.objects.all():
        assert NEW_PASSWORD not in str(journal.detail)
        assert AGENT_PASSWORD not in str(journal.detail)


def test_alone_signed_in_the_message_says_only_that_the_password_changed(client, agent):
    change(client)
    text = page(client.get(HOME))
    assert "Votre mot de passe a été modifié." in text
    assert "autre session" not in text
    assert JournalEntry.objects.get(action=JournalAction.AGENT_PASSWORD_CHANGED).detail["sessions_ended"] == 0


def test_a_wrong_current_password_changes_nothing_and_is_journaled(client, agent):
    other = sign_in_agent(Client(), agent)
    response = change(client, current="Pas-le-bon-123")
    assert response.status_code == 400
    assert "Votre mot de passe actuel est incorrect." in page(response)
    agent.refresh_from_db()
    assert check_password(AGENT_PASSWORD, agent.password)
    assert AgentSession.objects.get(pk=other.pk).ended_at is None
    assert JournalEntry.objects.filter(action=JournalAction.AGENT_REAUTH_FAILURE, actor_agent=agent).count() == 1
    assert not JournalEntry.objects.filter(action=JournalAction.AGENT_PASSWORD_CHANGED).exists()


def test_the_current_password_is_throttled_with_every_retyping_of_it(client, agent, settings):
    """One counter per agent for every form that asks the password again: failures on the
    recovery codes' page count here, and the waits stop even the right password."""
    settings.MONCOMPTE_THROTTLE_FREE_FAILURES_PER_IDENTIFIER = 1
    with time_machine.travel(T0, tick=False):
        client.post("/agents/codes-de-secours/", {"password": "Pas-le-bon-123"})
        change(client, current="Pas-le-bon-456")
        response = change(client)
    assert response.status_code == 429
    assert "Trop de tentatives. Réessayez dans 1 seconde." in page(response)
    agent.refresh_from_db()
    assert check_password(AGENT_PASSWORD, agent.password)
    with time_machine.travel(T0 + datetime.timedelta(seconds=5), tick=False):
        assert change(client).status_code == 302
    agent.refresh_from_db()
    assert check_password(NEW_PASSWORD, agent.password)


def test_failures_here_slow_down_the_recovery_codes_page(client, agent, settings):
    settings.MONCOMPTE_THROTTLE_FREE_FAILURES_PER_IDENTIFIER = 1
    with time_machine.travel(T0, tick=False):
        change(client, current="Pas-le-bon-123")
        change(client, current="Pas-le-bon-456")
        response = client.post("/agents/codes-de-secours/", {"password": AGENT_PASSWORD})
    assert response.status_code == 429


NAMES = "Le mot de passe ne doit contenir ni vos prénoms ni vos noms"


@pytest.mark.parametrize(
    ("new", "message"),
    [
        ("court1", "Le mot de passe doit contenir au moins 12 caractères : il en a 6."),
        ("Lafleur-2026-xyz", NAMES),
        ("Berenice-2026-xyz", NAMES),
        ("seulementdeslettres", "Le mot de passe doit contenir au moins un chiffre."),
        ("motdepasse123456", "Ce mot de passe est trop courant"),
    ],
)
def test_the_new_password_follows_the_activations_policy(client, agent, new, message):
    response = change(client, new=new)
    assert response.status_code == 400
    assert message in page(response)
    agent.refresh_from_db()
    assert check_password(AGENT_PASSWORD, agent.password)


def test_the_policy_is_the_services_whatever_the_form(client, agent):
    actor = agent_actor(client.agent_session)
    with pytest.raises(PasswordRefused, match=NAMES) as refused:
        agent_password_change(
            actor=actor, session=client.agent_session, current_password=AGENT_PASSWORD, new_password="Lafleur-2026-xyz"
        )
    assert refused.value.code == "weak"
    agent.refresh_from_db()
    assert check_password(AGENT_PASSWORD, agent.password)


def test_the_new_password_must_differ_and_be_typed_twice_alike(client, agent):
    response = change(client, new=AGENT_PASSWORD)
    assert response.status_code == 400
    assert "Le nouveau mot de passe doit être différent de votre mot de passe actuel." in page(response)
    response = change(client, confirm=NEW_PASSWORD + "x")
    assert response.status_code == 400
    assert "Les deux mots de passe ne sont pas identiques." in page(response)
    agent.refresh_from_db()
    assert check_password(AGENT_PASSWORD, agent.password)


def test_an_agent_changes_their_own_password_only(client, agent):
    """The service acts on the actor's agent, with the actor's own session kept: another agent's
    session is refused (it would have been the one left open)."""
    colleague = AgentFactory(caf=agent.caf)
    theirs = sign_in_agent(Client(), colleague)
    with pytest.raises(NotAllowed):
        agent_password_change(
            actor=agent_actor(client.agent_session),
            session=theirs,
            current_password=AGENT_PASSWORD,
            new_password=NEW_PASSWORD,
        )
    agent.refresh_from_db()
    assert check_password(AGENT_PASSWORD, agent.password)


def test_the_new_password_signs_in_with_the_second_factor(client, agent):
    change(client)
    other = Client()
    with time_machine.travel(T0, tick=False):
        assert (
            other.post(SIGNIN, {"email": agent.email, "password": NEW_PASSWORD})["Location"]
            == "/agents/connexion/code/"
        )
        assert other.get(HOME).status_code == 302
        assert other.post("/agents/connexion/code/", {"code": totp_now(agent)}).status_code == 302
        assert other.get(HOME).status_code == 200
    assert Agent.objects.get(pk=agent.pk).password.startswith("argon2")


def test_the_session_kept_open_gets_a_new_token(client, agent):
    """The session that changed the password stays open, but not under the token it had: a copy
    of the cookie taken before the change goes with the old password."""
    before = client.cookies[settings.MONCOMPTE_AGENT_SESSION_COOKIE].value
    response = change(client)
    assert response.status_code == 302 and response["Location"] == HOME
    after = response.cookies[settings.MONCOMPTE_AGENT_SESSION_COOKIE].value
    assert after and after != before
    copy = Client()
    copy.cookies[settings.MONCOMPTE_AGENT_SESSION_COOKIE] = before
    copy.cookies[settings.MONCOMPTE_AGENT_SESSION_COOKIE]["path"] = "/agents/"
    assert copy.get(HOME)["Location"] == SIGNIN
    assert client.get(HOME).status_code == 200
    assert AgentSession.objects.get(pk=client.agent_session.pk).ended_at is None
