"""The agents' sessions: short (idle and absolute limits), ended by sign-out and deactivation,
and apart from the usagers' (their own cookie, for /agents/ only)."""

import datetime
import html

import pytest
import time_machine
from django.conf import settings
from django.test import Client

from moncompte.access.agents import AgentRole
from moncompte.agents.models import AgentSession
from moncompte.agents.services import agent_deactivate
from moncompte.agents.sessions import agent_actor
from moncompte.audit.actions import JournalAction
from moncompte.audit.models import JournalEntry
from tests.conftest import sign_in
from tests.factories import AGENT_PASSWORD, AgentFactory, sign_in_agent, totp_now

pytestmark = pytest.mark.django_db

HOME = "/agents/"
SIGNIN = "/agents/connexion/"
EXPIRED = "Votre session a expiré. Merci de vous connecter à nouveau."
T0 = datetime.datetime(2026, 3, 2, 9, 0, 10, tzinfo=datetime.UTC)
COOKIE = settings.MONCOMPTE_AGENT_SESSION_COOKIE


def page(response) -> str:
    return html.unescape(response.content.decode())


@pytest.fixture
def agent():
    return AgentFactory(roles=[AgentRole.COUNTER.value])


def test_an_idle_session_expires(client, agent):
    idle = settings.MONCOMPTE_AGENT_SESSION_IDLE_SECONDS
    with time_machine.travel(T0, tick=False) as traveller:
        session = sign_in_agent(client, agent)
        traveller.shift(idle - 60)
        assert client.get(HOME).status_code == 200  # activity: the idle time starts again
        traveller.shift(idle - 60)
        assert client.get(HOME).status_code == 200
        traveller.shift(idle + 1)
        response = client.get(HOME, follow=True)
    assert response.redirect_chain[0] == (SIGNIN, 302)
    assert EXPIRED in page(response)
    session.refresh_from_db()
    assert session.end_reason == "expired"
    assert JournalEntry.objects.filter(action=JournalAction.AGENT_SESSION_END, detail__reason="expired").count() == 1


def test_a_session_ends_at_its_absolute_limit_however_active(client, agent):
    absolute = settings.MONCOMPTE_AGENT_SESSION_ABSOLUTE_SECONDS
    step = settings.MONCOMPTE_AGENT_SESSION_IDLE_SECONDS // 2
    with time_machine.travel(T0, tick=False) as traveller:
        session = sign_in_agent(client, agent)
        elapsed = 0
        while elapsed + step <= absolute:
            traveller.shift(step)
            elapsed += step
            assert client.get(HOME).status_code == 200, elapsed
        traveller.shift(step)
        response = client.get(HOME)
    assert response.status_code == 302
    assert response["Location"] == SIGNIN
    session.refresh_from_db()
    assert session.end_reason == "expired"


def test_sign_out_ends_the_session_and_clears_the_cookie(client, agent):
    session = sign_in_agent(client, agent)
    assert client.get("/agents/deconnexion/").status_code == 405  # POST only
    response = client.post("/agents/deconnexion/")
    assert response.status_code == 302
    assert response["Location"] == SIGNIN
    cookie = response.cookies[COOKIE]
    assert cookie.value == ""
    assert cookie["path"] == "/agents/"
    assert cookie["max-age"] == 0
    session.refresh_from_db()
    assert session.end_reason == "signed_out"
    # The token, even if a copy was kept, opens nothing any more.
    assert client.get(HOME).status_code == 302
    entry = JournalEntry.objects.get(action=JournalAction.AGENT_SESSION_END)
    assert entry.actor_agent == agent
    assert entry.detail == {"reason": "signed_out"}


def test_deactivation_ends_every_session_of_the_agent(agent):
    admin = AgentFactory(caf=agent.caf, roles=[AgentRole.ADMINISTRATOR.value])
    browsers = [Client(), Client()]
    for browser in browsers:
        sign_in_agent(browser, agent)
        assert browser.get(HOME).status_code == 200
    admin_session = sign_in_agent(Client(), admin)
    agent_deactivate(actor=agent_actor(admin_session), agent=agent)
    for browser in browsers:
        assert browser.get(HOME).status_code == 302
    assert set(AgentSession.objects.filter(agent=agent).values_list("end_reason", flat=True)) == {"agent_deactivated"}
    # And the password no longer opens a session.
    response = Client().post(SIGNIN, {"email": agent.email, "password": AGENT_PASSWORD})
    assert response.status_code == 401


def test_the_agent_cookie_is_scoped_http_only_and_strict(client, agent):
    with time_machine.travel(T0, tick=False):
        response = client.post(SIGNIN, {"email": agent.email, "password": AGENT_PASSWORD})
        cookie = response.cookies[COOKIE]
        assert cookie["path"] == "/agents/"
        assert cookie["httponly"] is True
        assert cookie["samesite"] == "Strict"
        assert cookie["max-age"] == ""  # a browser session, bounded by the server's limits
        # The cookie holds a random token; the database, its digest only.
        assert not AgentSession.objects.filter(token_digest=cookie.value).exists()
        assert client.post("/agents/connexion/code/", {"code": totp_now(agent)}).status_code == 302


def test_a_usagers_session_never_opens_the_console(client, family):
    response = sign_in(client, *family.responsible.credentials)
    assert response.status_code == 302
    assert client.get("/mon-compte/").status_code == 200
    response = client.get(HOME)
    assert response.status_code == 302
    assert response["Location"] == SIGNIN
    # Nor does the usager's session key handed over as the agents' cookie.
    client.cookies[COOKIE] = client.cookies[settings.SESSION_COOKIE_NAME].value
    client.cookies[COOKIE]["path"] = "/agents/"
    assert client.get(HOME).status_code == 302


def test_an_agents_token_never_opens_a_usagers_page(agent):
    client = Client()
    sign_in_agent(client, agent)
    token = client.cookies[COOKIE].value
    client.cookies[settings.SESSION_COOKIE_NAME] = token
    response = client.get("/mon-compte/")
    assert response.status_code == 302
    assert response["Location"].startswith("/connexion/")


def test_a_session_waiting_for_its_code_ends_after_the_allowed_time(client, agent):
    with time_machine.travel(T0, tick=False) as traveller:
        session = sign_in_agent(client, agent, second_factor=False)
        traveller.shift(settings.MONCOMPTE_AGENT_SECOND_FACTOR_SECONDS + 1)
        assert client.get("/agents/connexion/code/").status_code == 302
    session.refresh_from_db()
    assert session.end_reason == "expired"
