"""The agents' sign-in: password then TOTP (or a recovery code), throttled like the usagers'.

Through the pages (/agents/connexion/, /agents/connexion/code/, /agents/connexion/code-de-secours/)
with the real database, django-otp's TOTP and the real throttling counters.
"""

import datetime
import html
import re

import pytest
import time_machine
from django.conf import settings
from django.contrib.auth.hashers import identify_hasher, make_password
from django.test import Client

from moncompte.access.agents import AgentRole
from moncompte.agents.models import Agent, AgentRecoveryCode, AgentSession, AgentTOTPDevice
from moncompte.agents.totp import recovery_codes_new
from moncompte.audit.actions import JournalAction
from moncompte.audit.models import JournalEntry
from tests.factories import AGENT_PASSWORD, AgentFactory, sign_in_agent, totp_now

pytestmark = pytest.mark.django_db

SIGNIN = "/agents/connexion/"
CODE = "/agents/connexion/code/"
RECOVERY = "/agents/connexion/code-de-secours/"
HOME = "/agents/"
WRONG = "Adresse électronique ou mot de passe incorrect."
CODE_WRONG = "Code incorrect ou expiré."
# A moment in the middle of a 30-second TOTP step: a test's requests stay in one step.
T0 = datetime.datetime(2026, 3, 2, 9, 0, 10, tzinfo=datetime.UTC)


def page(response) -> str:
    return html.unescape(response.content.decode())


def post_password(client, email, password, **extra):
    return client.post(SIGNIN, {"email": email, "password": password}, **extra)


def post_code(client, code, url=CODE):
    return client.post(url, {"code": code})


@pytest.fixture
def agent():
    return AgentFactory(roles=[AgentRole.COUNTER.value])


def test_password_alone_never_reaches_the_console(client, agent):
    with time_machine.travel(T0, tick=False):
        response = post_password(client, agent.email, AGENT_PASSWORD)
        assert response.status_code == 302
        assert response["Location"] == CODE
        # The session exists but is waiting for its second factor: the console sends it back.
        for url in (HOME, "/agents/gestion/", "/agents/codes-de-secours/"):
            answer = client.get(url, follow=True)
            assert answer.redirect_chain == [(SIGNIN, 302), (CODE, 302)], url
            assert "Code de votre application d'authentification" in page(answer)
        assert "Bonjour" in page(client.get(CODE))
        response = post_code(client, totp_now(agent))
        assert response.status_code == 302
        assert response["Location"] == HOME
        home = client.get(HOME)
    assert home.status_code == 200
    assert agent.display_name in page(home)
    session = AgentSession.objects.get(agent=agent)
    assert session.second_factor_at is not None
    actions = list(JournalEntry.objects.filter(actor_agent=agent).order_by("id").values_list("action", flat=True))
    assert actions == [JournalAction.AGENT_SIGNIN_PASSWORD, JournalAction.AGENT_SECOND_FACTOR_SUCCESS]


def test_the_email_is_case_insensitive(client, agent):
    response = post_password(client, f"  {agent.email.upper()} ", AGENT_PASSWORD)
    assert response.status_code == 302


def test_a_wrong_code_is_refused_then_throttled_by_django_otp(client, agent):
    with time_machine.travel(T0, tick=False) as traveller:
        post_password(client, agent.email, AGENT_PASSWORD)
        wrong = f"{(int(totp_now(agent)) + 1) % 1_000_000:06d}"
        response = post_code(client, wrong)
        assert response.status_code == 400
        assert CODE_WRONG in page(response)
        # Right after a failure, even the right code waits (django-otp: 1 s, 2 s, 4 s, ...).
        response = post_code(client, totp_now(agent))
        assert response.status_code == 429
        assert "Trop de codes incorrects. Réessayez dans 1 seconde." in page(response)
        assert AgentSession.objects.get(agent=agent).second_factor_at is None
        traveller.shift(1.5)
        response = post_code(client, wrong)
        assert response.status_code == 400
        response = post_code(client, totp_now(agent))
        assert response.status_code == 429
        assert "Réessayez dans 2 secondes." in page(response)
        traveller.shift(2.5)
        response = post_code(client, totp_now(agent))
        assert response.status_code == 302
    device = AgentTOTPDevice.objects.get(agent=agent)
    assert device.throttling_failure_count == 0
    failures = JournalEntry.objects.filter(action=JournalAction.AGENT_SECOND_FACTOR_FAILURE, actor_agent=agent)
    assert failures.count() == 4
    assert all(wrong not in str(entry.detail) for entry in failures)


def test_a_code_is_accepted_once(client, agent):
    with time_machine.travel(T0, tick=False):
        code = totp_now(agent)
        post_password(client, agent.email, AGENT_PASSWORD)
        assert post_code(client, code).status_code == 302
        # The same code in the same step, from another browser that knows the password.
        other = client.__class__()
        post_password(other, agent.email, AGENT_PASSWORD)
        response = post_code(other, code)
    assert response.status_code == 400
    assert CODE_WRONG in page(response)


def test_the_code_of_the_previous_step_is_accepted_within_tolerance(client, agent):
    with time_machine.travel(T0, tick=False):
        previous = totp_now(agent, offset_steps=-1)
        two_before = totp_now(agent, offset_steps=-2)
        post_password(client, agent.email, AGENT_PASSWORD)
        assert post_code(client, two_before).status_code == 400
    with time_machine.travel(T0 + datetime.timedelta(seconds=5), tick=False):
        assert post_code(client, previous).status_code == 302


def test_a_recovery_code_works_once_and_tells_how_many_remain(client, agent):
    codes = recovery_codes_new(agent)
    with time_machine.travel(T0, tick=False) as traveller:
        post_password(client, agent.email, AGENT_PASSWORD)
        response = post_code(client, codes[0].lower().replace("-", " "), url=RECOVERY)
        assert response.status_code == 302
        home = page(client.get(HOME, follow=True))
        assert "Code de secours accepté. Il vous en reste 9." in home
        client.post("/agents/deconnexion/")
        traveller.shift(60)
        post_password(client, agent.email, AGENT_PASSWORD)
        response = post_code(client, codes[0], url=RECOVERY)
        assert response.status_code == 400
        assert "Code de secours incorrect ou déjà utilisé." in page(response)
        traveller.shift(5)
        assert post_code(client, codes[1], url=RECOVERY).status_code == 302
    assert AgentRecoveryCode.objects.filter(agent=agent, used_at__isnull=True).count() == 8
    used = JournalEntry.objects.filter(action=JournalAction.AGENT_RECOVERY_CODE_USED, actor_agent=agent)
    assert [entry.detail for entry in used.order_by("id")] == [{"remaining": 9}, {"remaining": 8}]


def test_an_agent_without_a_confirmed_device_cannot_complete_the_sign_in(client):
    agent = AgentFactory(with_totp=False)
    response = post_password(client, agent.email, AGENT_PASSWORD)
    assert response.status_code == 403
    assert "Votre compte n'est pas encore activé" in page(response)
    assert not AgentSession.objects.filter(agent=agent).exists()
    # An unconfirmed device (an activation left halfway) is no second factor either.
    AgentTOTPDevice.objects.create(agent=agent, key="00" * 20)
    assert post_password(client, agent.email, AGENT_PASSWORD).status_code == 403
    assert not AgentSession.objects.filter(agent=agent).exists()


def test_a_session_whose_device_was_removed_cannot_give_a_code(client, agent):
    with time_machine.travel(T0, tick=False):
        post_password(client, agent.email, AGENT_PASSWORD)
        code = totp_now(agent)
        AgentTOTPDevice.objects.filter(agent=agent).delete()
        response = post_code(client, code)
    assert response.status_code == 403
    assert client.get(HOME).status_code == 302


def _page_text(response) -> str:
    # The page without the CSRF token and the CSP nonce, which differ on every answer.
    text = page(response)
    text = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", text)
    return re.sub(r'nonce="[^"]+"', "", text)


def test_an_unknown_email_answers_exactly_like_a_wrong_password(client, agent, settings):
    settings.MONCOMPTE_THROTTLE_FREE_FAILURES_PER_IDENTIFIER = 2
    answers = {}
    for label, email, password in (
        ("wrong password", agent.email, "Pas-le-bon-mot-2-passe"),
        ("unknown email", "personne@caf.example.fr", "Pas-le-bon-mot-2-passe"),
        ("deactivated", AgentFactory(is_active=False).email, AGENT_PASSWORD),
        ("no password yet", AgentFactory(password="", with_totp=False).email, AGENT_PASSWORD),
    ):
        statuses = [post_password(client, email, password, REMOTE_ADDR=f"10.0.0.{len(answers) + 1}") for _ in range(4)]
        answers[label] = [(r.status_code, _page_text(r).replace(email, "EMAIL")) for r in statuses]
    reference = answers["wrong password"]
    assert [status for status, _ in reference] == [401, 401, 401, 429]
    assert WRONG in reference[0][1]
    for label, answer in answers.items():
        assert answer == reference, label


def test_the_same_work_is_done_for_an_unknown_email(client, agent, monkeypatch):
    """One Argon2 verification whatever the email: the dummy hash of the usagers' sign-in."""
    from django.contrib.auth import hashers

    calls = []
    original = hashers.check_password

    def counting(password, encoded, *args, **kwargs):
        calls.append(identify_hasher(encoded).algorithm)
        return original(password, encoded, *args, **kwargs)

    monkeypatch.setattr(hashers, "check_password", counting)
    monkeypatch.setattr("moncompte.agents.services.check_password", counting)
    monkeypatch.setattr("moncompte.accounts.signin.check_password", counting)
    post_password(client, agent.email, "Pas-le-bon-mot-2-passe")
    post_password(client, "personne@caf.example.fr", "Pas-le-bon-mot-2-passe")
    assert calls == ["argon2", "argon2"]


def test_sign_in_is_throttled_per_email_with_growing_waits(client, agent, settings):
    free = settings.MONCOMPTE_THROTTLE_FREE_FAILURES_PER_IDENTIFIER
    with time_machine.travel(T0, tick=False) as traveller:
        for n in range(free + 1):
            # From a new address each time: the email's counter, not the address's, slows down.
            assert post_password(client, agent.email, "mauvais", REMOTE_ADDR=f"10.1.0.{n}").status_code == 401
        response = post_password(client, agent.email, AGENT_PASSWORD, REMOTE_ADDR="10.1.1.1")
        assert response.status_code == 429
        assert "Trop de tentatives de connexion. Réessayez dans 1 seconde." in page(response)
        traveller.shift(1)
        assert post_password(client, agent.email, "mauvais", REMOTE_ADDR="10.1.1.2").status_code == 401
        response = post_password(client, agent.email, AGENT_PASSWORD, REMOTE_ADDR="10.1.1.3")
        assert "Réessayez dans 2 secondes." in page(response)
        traveller.shift(2)
        assert post_password(client, agent.email, AGENT_PASSWORD, REMOTE_ADDR="10.1.1.4").status_code == 302
    assert JournalEntry.objects.filter(action=JournalAction.AGENT_SIGNIN_THROTTLED).count() == 2
    assert JournalEntry.objects.filter(action=JournalAction.AGENT_SIGNIN_FAILURE).count() == free + 2


def test_sign_in_is_throttled_per_address_across_emails(client, agent, settings):
    settings.MONCOMPTE_THROTTLE_FREE_FAILURES_PER_ADDRESS = 3
    with time_machine.travel(T0, tick=False):
        for n in range(4):
            assert post_password(client, f"inconnu{n}@caf.example.fr", "mauvais").status_code == 401
        # The right password of another email, from the same address: it waits too.
        assert post_password(client, agent.email, AGENT_PASSWORD).status_code == 429
        assert post_password(client, agent.email, AGENT_PASSWORD, REMOTE_ADDR="10.2.0.1").status_code == 302


def test_the_usagers_counters_are_not_the_agents(client, agent, settings, family):
    """A usager's failed sign-ins from an address do not slow an agent's (and back)."""
    settings.MONCOMPTE_THROTTLE_FREE_FAILURES_PER_ADDRESS = 1
    for _ in range(3):
        client.post("/connexion/", {"identifier": family.responsible.identifier, "password": "mauvais"})
    assert post_password(client, agent.email, AGENT_PASSWORD).status_code == 302


def test_a_password_hashed_with_older_parameters_is_rehashed(client, agent, settings):
    settings.MONCOMPTE_ARGON2_TIME_COST = 1
    Agent.objects.filter(pk=agent.pk).update(password=make_password(AGENT_PASSWORD))
    settings.MONCOMPTE_ARGON2_TIME_COST = 2
    assert post_password(client, agent.email, AGENT_PASSWORD).status_code == 302
    stored = Agent.objects.get(pk=agent.pk).password
    assert "t=2" in stored


def test_no_password_or_code_reaches_the_journal(client, agent):
    with time_machine.travel(T0, tick=False):
        post_password(client, agent.email, "Un-essai-123")
        post_password(client, agent.email, AGENT_PASSWORD)
        code = totp_now(agent)
        post_code(client, code)
    for entry in JournalEntry.objects.all():
        text = str(entry.detail)
        assert "Un-essai-123" not in text
        assert AGENT_PASSWORD not in text
        assert code not in text
        assert agent.email not in text


def test_the_signed_in_agent_is_sent_home_from_the_sign_in_page(client, agent):
    sign_in_agent(client, agent)
    response = client.get(SIGNIN)
    assert response.status_code == 302
    assert response["Location"] == HOME


def test_a_new_sign_in_ends_the_session_the_browser_had(client, agent):
    first = sign_in_agent(client, agent, second_factor=False)
    post_password(client, agent.email, AGENT_PASSWORD)
    first.refresh_from_db()
    assert first.ended_at is not None
    assert first.end_reason == "replaced"
    assert AgentSession.objects.filter(agent=agent, ended_at__isnull=True).count() == 1


def test_the_waiting_session_expires_if_the_code_never_comes(client, agent):
    with time_machine.travel(T0, tick=False) as traveller:
        post_password(client, agent.email, AGENT_PASSWORD)
        traveller.shift(settings.MONCOMPTE_AGENT_SECOND_FACTOR_SECONDS + 1)
        response = post_code(client, totp_now(agent))
    assert response.status_code == 302
    assert response["Location"] == SIGNIN
    assert AgentSession.objects.get(agent=agent).end_reason == "expired"


def test_recovery_code_failures_count_on_the_device(client, agent):
    recovery_codes_new(agent)
    with time_machine.travel(T0, tick=False):
        post_password(client, agent.email, AGENT_PASSWORD)
        assert post_code(client, "AAAAA-AAAAA", url=RECOVERY).status_code == 400
        response = post_code(client, totp_now(agent))
    assert response.status_code == 429
    assert AgentTOTPDevice.objects.get(agent=agent).throttling_failure_count == 1


def test_the_time_of_the_last_complete_sign_in_is_kept(client, agent):
    with time_machine.travel(T0, tick=False):
        post_password(client, agent.email, AGENT_PASSWORD)
        agent.refresh_from_db()
        assert agent.last_signin_at is None
        post_code(client, totp_now(agent))
    agent.refresh_from_db()
    assert agent.last_signin_at == T0


def test_recovery_codes_are_regenerated_after_the_password_only(client, agent):
    old = recovery_codes_new(agent)
    sign_in_agent(client, agent)
    response = client.get("/agents/codes-de-secours/")
    assert "Il vous reste 10 codes de secours non utilisés." in page(response)
    response = client.post("/agents/codes-de-secours/", {"password": "Pas-le-bon-123"})
    assert response.status_code == 400
    assert "Mot de passe incorrect." in page(response)
    assert AgentRecoveryCode.objects.filter(agent=agent).count() == 10
    assert JournalEntry.objects.filter(action=JournalAction.AGENT_REAUTH_FAILURE, actor_agent=agent).count() == 1
    response = client.post("/agents/codes-de-secours/", {"password": AGENT_PASSWORD})
    assert response.status_code == 200
    new = re.findall(r"<code>([A-Z0-9]{5}-[A-Z0-9]{5})</code>", page(response))
    assert len(new) == 10
    assert not set(new) & set(old)
    # The old ones are dead, the new ones work once.
    with time_machine.travel(T0, tick=False) as traveller:
        other = client.__class__()
        post_password(other, agent.email, AGENT_PASSWORD)
        assert post_code(other, old[0], url=RECOVERY).status_code == 400
        traveller.shift(2)
        assert post_code(other, new[0], url=RECOVERY).status_code == 302
    entry = JournalEntry.objects.get(action=JournalAction.AGENT_RECOVERY_CODES_REGENERATED)
    assert entry.actor_agent == agent
    assert all(code not in str(entry.detail) for code in new)


def test_regenerating_recovery_codes_is_throttled(client, agent, settings):
    settings.MONCOMPTE_THROTTLE_FREE_FAILURES_PER_IDENTIFIER = 1
    with time_machine.travel(T0, tick=False):
        sign_in_agent(client, agent)
        client.post("/agents/codes-de-secours/", {"password": "Pas-le-bon-123"})
        client.post("/agents/codes-de-secours/", {"password": "Pas-le-bon-123"})
        response = client.post("/agents/codes-de-secours/", {"password": AGENT_PASSWORD})
    assert response.status_code == 429
    assert "Trop de tentatives. Réessayez dans 1 seconde." in page(response)


@pytest.mark.parametrize("second_factor", ["totp", "recovery_code"])
def test_the_second_factor_gives_the_session_a_new_token(client, agent, second_factor):
    """A token seen while the session waited for its code (over a shoulder, in a proxy's log)
    must not become a full session once the agent types the code: the cookie changes, the old
    token opens nothing, and the journal still follows one session from password to console."""
    codes = recovery_codes_new(agent)
    with time_machine.travel(T0, tick=False):
        post_password(client, agent.email, AGENT_PASSWORD)
        seen = client.cookies[settings.MONCOMPTE_AGENT_SESSION_COOKIE].value
        if second_factor == "totp":
            response = post_code(client, totp_now(agent))
        else:
            response = post_code(client, codes[0], url=RECOVERY)
        assert response.status_code == 302 and response["Location"] == HOME
        renewed = response.cookies[settings.MONCOMPTE_AGENT_SESSION_COOKIE]
        assert renewed.value and renewed.value != seen
        assert renewed["path"] == "/agents/" and renewed["httponly"]
        copy = Client()
        copy.cookies[settings.MONCOMPTE_AGENT_SESSION_COOKIE] = seen
        copy.cookies[settings.MONCOMPTE_AGENT_SESSION_COOKIE]["path"] = "/agents/"
        assert copy.get(HOME)["Location"] == SIGNIN
        assert copy.get(CODE)["Location"] == SIGNIN
        assert client.get(HOME).status_code == 200
    assert AgentSession.objects.filter(agent=agent).count() == 1
    refs = set(JournalEntry.objects.filter(actor_agent=agent).values_list("session_ref", flat=True))
    assert len(refs) == 1 and "" not in refs
