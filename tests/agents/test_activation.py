"""The agents' activation: no default password; a single-use activation code (the command's or
an administrator's) with which the agent chooses a password, enrols TOTP and gets recovery codes."""

import base64
import binascii
import datetime
import html
import io
import re

import pytest
import time_machine
from django.conf import settings
from django.core.management import CommandError, call_command

from moncompte.access.agents import AgentRole
from moncompte.agents.models import Agent, AgentRecoveryCode, AgentTOTPDevice
from moncompte.agents.services import agent_second_factor_reset
from moncompte.agents.sessions import agent_actor
from moncompte.audit.actions import JournalAction
from moncompte.audit.models import JournalEntry
from tests.factories import AgentFactory, CafFactory, sign_in_agent, totp_now

pytestmark = pytest.mark.django_db

ACTIVATE = "/agents/activation/"
SIGNIN = "/agents/connexion/"
NEW_PASSWORD = "Quatre chevaux 42 au galop"
T0 = datetime.datetime(2026, 3, 2, 9, 0, 10, tzinfo=datetime.UTC)
REFUSED = "Adresse électronique ou code d'activation incorrect."


def page(response) -> str:
    return html.unescape(response.content.decode())


def create_by_command(caf, email="anne.durand@caf.example.fr", *roles) -> tuple[Agent, str, str]:
    out = io.StringIO()
    call_command(
        "agent_create",
        "--caf",
        caf.code,
        "--email",
        email,
        "--first-names",
        "Anne",
        "--last-name",
        "Durand",
        *[arg for role in roles or ("counter",) for arg in ("--role", role)],
        stdout=out,
    )
    printed = out.getvalue()
    code = re.search(r"Code d'activation \(affiché une seule fois, valable jusqu'au [^)]+\) : (\S+)", printed)[1]
    return Agent.objects.get(email=email.lower()), code, printed


def start(client, email, code, **extra):
    return client.post(ACTIVATE, {"email": email, "code": code}, **extra)


def choose_password(client, password=NEW_PASSWORD):
    return client.post(ACTIVATE, {"password": password, "password_confirm": password})


def activate(client, agent, code) -> list[str]:
    """The whole activation through the pages; returns the recovery codes shown."""
    assert start(client, agent.email, code).status_code == 302
    assert choose_password(client).status_code == 302
    response = client.post(ACTIVATE, {"code": totp_now(agent)})
    assert response.status_code == 200, page(response)
    return re.findall(r"<code>([A-Z0-9]{5}-[A-Z0-9]{5})</code>", page(response))


@pytest.fixture
def caf():
    return CafFactory()


def test_the_command_creates_an_agent_without_password_and_prints_a_working_code(client, caf):
    agent, code, printed = create_by_command(caf, "Anne.Durand@CAF.example.fr", "counter", "administrator")
    assert agent.email == "anne.durand@caf.example.fr"
    assert agent.caf == caf
    assert agent.roles == ["counter", "administrator"]
    assert agent.password == ""
    assert re.fullmatch(r"[A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4}", code)
    assert "/agents/activation/" in printed
    # Only the keyed hash is stored, and no journal entry holds the code.
    assert code.replace("-", "") not in agent.activation_digest
    assert all(code not in str(entry.detail) for entry in JournalEntry.objects.all())
    created = JournalEntry.objects.get(action=JournalAction.AGENT_CREATED)
    assert created.detail == {"agent": agent.pk, "caf": caf.code, "roles": ["counter", "administrator"]}
    # No default password: nothing signs in before the activation.
    for password in ("", "password", code, "Motdepasse123"):
        assert client.post(SIGNIN, {"email": agent.email, "password": password}).status_code in (400, 401)

    with time_machine.travel(T0, tick=False) as traveller:
        codes = activate(client, agent, code)
        assert len(codes) == 10
        assert len(set(codes)) == 10
        traveller.shift(30)  # the next TOTP step: the enrolment's code is spent
        response = client.post(SIGNIN, {"email": agent.email, "password": NEW_PASSWORD})
        assert response.status_code == 302
        assert client.post("/agents/connexion/code/", {"code": totp_now(agent)}).status_code == 302
        assert client.get("/agents/").status_code == 200
    actions = set(JournalEntry.objects.filter(actor_agent=agent).values_list("action", flat=True))
    assert {
        JournalAction.AGENT_ACTIVATION_STARTED,
        JournalAction.AGENT_PASSWORD_SET,
        JournalAction.AGENT_ACTIVATED,
    } <= actions


def test_the_command_refuses_an_unknown_caf_and_a_duplicate(caf):
    create_by_command(caf)
    with pytest.raises(CommandError, match="Un agent a déjà cette adresse électronique."):
        create_by_command(caf)
    with pytest.raises(CommandError, match="Aucune Caf n'a le code 999."):
        call_command(
            "agent_create",
            *("--caf", "999", "--email", "x@caf.fr", "--first-names", "X", "--last-name", "Y", "--role", "counter"),
            stdout=io.StringIO(),
        )


def test_the_enrolment_shows_the_secret_as_text_and_as_a_qr_code(client, caf):
    agent, code, _ = create_by_command(caf)
    start(client, agent.email, code)
    choose_password(client)
    response = client.get(ACTIVATE)
    text = page(response)
    device = AgentTOTPDevice.objects.get(agent=agent)
    assert device.confirmed_at is None
    secret = base64.b32encode(binascii.unhexlify(device.key)).decode().rstrip("=")
    shown = re.search(r'<code class="moncompte-totp-secret">([A-Z2-7 ]+)</code>', text)[1]
    assert shown.replace(" ", "") == secret
    assert "<svg" in text
    assert "<path" in text
    assert "QR code" in text


def test_the_activation_code_is_single_use(client, caf):
    agent, code, _ = create_by_command(caf)
    with time_machine.travel(T0, tick=False):
        activate(client, agent, code)
    other = client.__class__()
    response = start(other, agent.email, code)
    assert response.status_code == 400
    assert REFUSED in page(response)
    agent.refresh_from_db()
    assert agent.activation_digest == ""
    assert AgentRecoveryCode.objects.filter(agent=agent).count() == 10


def test_the_activation_code_expires(client, caf):
    agent, code, _ = create_by_command(caf)
    hours = settings.MONCOMPTE_AGENT_ACTIVATION_HOURS
    with time_machine.travel(agent.activation_expires_at + datetime.timedelta(seconds=1)):
        response = start(client, agent.email, code)
    assert response.status_code == 400
    assert "Ce code d'activation a expiré. Demandez-en un nouveau" in page(response)
    with time_machine.travel(
        agent.activation_expires_at - datetime.timedelta(hours=hours) + datetime.timedelta(hours=1)
    ):
        assert start(client, agent.email, code).status_code == 302


def test_an_activation_under_way_ends_when_the_code_expires(client, caf):
    agent, code, _ = create_by_command(caf)
    with time_machine.travel(T0, tick=False) as traveller:
        Agent.objects.filter(pk=agent.pk).update(activation_expires_at=T0 + datetime.timedelta(minutes=5))
        start(client, agent.email, code)
        traveller.shift(6 * 60)
        response = choose_password(client)
        assert response.status_code == 302
        assert "Cette activation n'est plus en cours" in page(client.get(response["Location"]))
    agent.refresh_from_db()
    assert agent.password == ""


def test_wrong_codes_are_throttled_per_email(client, caf, settings):
    agent, code, _ = create_by_command(caf)
    free = settings.MONCOMPTE_THROTTLE_FREE_FAILURES_PER_IDENTIFIER
    with time_machine.travel(T0, tick=False) as traveller:
        for n in range(free + 1):
            response = start(client, agent.email, "AAAA-BBBB-CCCC", REMOTE_ADDR=f"10.3.0.{n}")
            assert response.status_code == 400
            assert REFUSED in page(response)
        # The right code now waits as well.
        response = start(client, agent.email, code, REMOTE_ADDR="10.3.1.1")
        assert response.status_code == 429
        assert "Trop de tentatives d'activation. Réessayez dans 1 seconde." in page(response)
        traveller.shift(1)
        assert start(client, agent.email, code, REMOTE_ADDR="10.3.1.2").status_code == 302
    assert JournalEntry.objects.filter(action=JournalAction.AGENT_ACTIVATION_FAILURE).count() == free + 1
    assert JournalEntry.objects.filter(action=JournalAction.AGENT_ACTIVATION_THROTTLED).count() == 1


def test_wrong_codes_are_throttled_per_address(client, caf, settings):
    settings.MONCOMPTE_THROTTLE_FREE_FAILURES_PER_ADDRESS = 2
    agent, code, _ = create_by_command(caf)
    for n in range(3):
        assert start(client, f"inconnu{n}@caf.example.fr", "AAAA-BBBB-CCCC").status_code == 400
    assert start(client, agent.email, code).status_code == 429
    assert start(client, agent.email, code, REMOTE_ADDR="10.4.0.1").status_code == 302


def test_an_unknown_email_answers_like_a_wrong_code(client, caf):
    agent, _, _ = create_by_command(caf)
    wrong = start(client, agent.email, "AAAA-BBBB-CCCC", REMOTE_ADDR="10.5.0.1")
    unknown = start(client, "personne@caf.example.fr", "AAAA-BBBB-CCCC", REMOTE_ADDR="10.5.0.2")

    def shown(response):
        text = page(response)
        return re.sub(r'(name="csrfmiddlewaretoken" value|nonce)="[^"]+"', "", text).replace(agent.email, "E")

    assert shown(wrong) == shown(unknown).replace("personne@caf.example.fr", "E")
    assert wrong.status_code == unknown.status_code == 400


def test_the_password_follows_the_usagers_policy_and_not_the_agents_names(client, caf):
    agent, code, _ = create_by_command(caf)
    start(client, agent.email, code)
    for password, message in (
        ("court1", "Le mot de passe doit contenir au moins 12 caractères"),
        ("sansaucunchiffre", "Le mot de passe doit contenir au moins un chiffre."),
        ("azerty123456", "Ce mot de passe est trop courant"),
        ("Durand-2026-caf!", "Le mot de passe ne doit contenir ni vos prénoms ni vos noms"),
    ):
        response = choose_password(client, password)
        assert response.status_code == 400, password
        assert message in page(response), password
    response = client.post(ACTIVATE, {"password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD + "x"})
    assert "Les deux mots de passe ne sont pas identiques." in page(response)
    agent.refresh_from_db()
    assert agent.password == ""


def test_a_wrong_first_code_is_refused_and_the_device_stays_unconfirmed(client, caf):
    agent, code, _ = create_by_command(caf)
    with time_machine.travel(T0, tick=False) as traveller:
        start(client, agent.email, code)
        choose_password(client)
        wrong = f"{(int(totp_now(agent)) + 7) % 1_000_000:06d}"
        response = client.post(ACTIVATE, {"code": wrong})
        assert response.status_code == 400
        assert "Code incorrect ou expiré." in page(response)
        assert AgentTOTPDevice.objects.get(agent=agent).confirmed_at is None
        assert client.post(SIGNIN, {"email": agent.email, "password": NEW_PASSWORD}).status_code == 403
        traveller.shift(1)
        assert client.post(ACTIVATE, {"code": totp_now(agent)}).status_code == 200
    assert AgentTOTPDevice.objects.get(agent=agent).confirmed_at is not None


def test_a_second_factor_reset_gives_a_new_code_and_ends_the_old_activation(client, caf):
    admin = AgentFactory(caf=caf, roles=[AgentRole.ADMINISTRATOR.value])
    admin_actor = agent_actor(sign_in_agent(client.__class__(), admin))
    agent, first_code, _ = create_by_command(caf)
    start(client, agent.email, first_code)
    new_code = agent_second_factor_reset(actor=admin_actor, agent=agent)
    response = client.get(ACTIVATE, follow=True)
    assert "Cette activation n'est plus en cours" in page(response)
    assert start(client, agent.email, first_code).status_code == 400
    with time_machine.travel(T0, tick=False):
        assert len(activate(client, agent, new_code)) == 10


def test_restarting_the_activation_forgets_the_step(client, caf):
    agent, code, _ = create_by_command(caf)
    start(client, agent.email, code)
    assert "Choisissez votre mot de passe" in page(client.get(ACTIVATE))
    client.post(ACTIVATE, {"recommencer": "1"})
    assert "Saisissez votre adresse électronique professionnelle et le code" in page(client.get(ACTIVATE))
