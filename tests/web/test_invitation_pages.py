"""Pages of the invitations: /mon-compte/foyer/inviter/ and the link /invitation/<token>/."""

import datetime
import re

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone
from django.utils.html import escape

from moncompte.accounts.models import Account
from moncompte.households.invitations import EXPIRED, INVALID_LINK
from moncompte.households.models import Invitation, Member, Role
from moncompte.web.invitations.views import NO_FLOW
from tests.conftest import sign_in
from tests.factories import PersonFactory
from tests.households.test_invitations import PIERRE_BORN

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("deliver_messages")]

INVITE = "/mon-compte/foyer/inviter/"
PASSWORD = "Quatre saisons 2024 au jardin"


@pytest.fixture
def family(family):
    """The usual family, no two members (nor Pierre) with the same first name: the pages are
    checked for the absence of a name."""
    seen = {"Pierre"}
    for n, member in enumerate(family.people):
        person = member.person
        if person.first_names.split()[0] in seen:
            person.first_names = f"{person.first_names.split()[0]}-{'ABCD'[n]}"
            person.save(update_fields=["first_names"])
        seen.add(person.first_names.split()[0])
    return family


def name(person) -> str:
    return escape(person.display_name)


@pytest.fixture
def pierre(family):
    """A member over 15 of the family's file, without an account: the one to invite."""
    person = PersonFactory(
        first_names="Pierre", birth_name=family.responsible.person.birth_name, birth_date=PIERRE_BORN, sex="M"
    )
    return Member.objects.create(
        dossier=family.dossier, person=person, role=Role.AUTRE, joined_on=datetime.date(2015, 1, 1)
    )


@pytest.fixture
def claire(family):
    """The responsible person's browser, signed in."""
    client = Client()
    assert sign_in(client, *family.responsible.credentials).status_code == 302
    return client


def _invite(client, member, **data):
    prefix = f"membre-{member.pk}"
    post = {"action": "inviter", "membre": member.pk, f"{prefix}-channel": "email"}
    post.update({f"{prefix}-{name}": value for name, value in data.items()})
    return client.post(INVITE, post)


def _link() -> str:
    return re.search(r"https?://[^/\s]+(/invitation/[A-Za-z0-9_-]{43}/)", mail.outbox[-1].body).group(1)


def _invited_client(claire, pierre) -> Client:
    assert _invite(claire, pierre, email="pierre@example.fr").status_code == 302
    client = Client()
    response = client.get(_link())
    assert response.status_code == 302 and response["Location"] == "/invitation/identite/"
    return client


def test_the_responsible_person_sees_who_she_may_invite(family, claire, pierre):
    page = claire.get(INVITE).content.decode()
    assert "Inviter un membre du foyer" in page
    assert name(pierre.person) in page
    assert name(family.young_child.person) not in page  # 10 years old
    assert name(family.child.person) not in page  # has an account
    assert "Aucune invitation en cours" in page


@pytest.mark.parametrize("who", ["spouse", "child"], ids=["spouse-without-delegation", "child"])
def test_others_get_not_found(family, pierre, who):
    client = Client()
    assert sign_in(client, *getattr(family, who).credentials).status_code == 302
    assert client.get(INVITE).status_code == 404
    assert _invite(client, pierre, email="pierre@example.fr").status_code == 404
    assert mail.outbox == []


def test_anonymous_is_sent_to_sign_in(family):
    response = Client().get(INVITE)
    assert response.status_code == 302 and response["Location"].startswith("/connexion/")


def test_bad_email_is_refused_in_french_and_kept(claire, pierre):
    response = _invite(claire, pierre, email="pierre@exemple")
    assert response.status_code == 400
    page = response.content.decode()
    assert "Saisissez une adresse électronique valide" in page
    assert 'value="pierre@exemple"' in page
    response = _invite(claire, pierre, email="")
    assert "Saisissez l&#x27;adresse électronique de la personne invitée." in response.content.decode()
    assert Invitation.objects.count() == 0


def test_bad_mobile_is_refused_in_french(claire, pierre):
    prefix = f"membre-{pierre.pk}"
    response = claire.post(
        INVITE, {"action": "inviter", "membre": pierre.pk, f"{prefix}-channel": "phone", f"{prefix}-phone": "01 44"}
    )
    assert response.status_code == 400
    assert "Ce numéro de téléphone n&#x27;est pas valide" in response.content.decode()


def test_a_member_not_invitable_answers_not_found(claire, family):
    tom = family.young_child.member
    assert _invite(claire, tom, email="tom@example.fr").status_code == 404


def test_send_then_cancel(claire, pierre):
    response = _invite(claire, pierre, email="pierre@example.fr")
    assert response.status_code == 302 and response["Location"] == INVITE
    page = claire.get(INVITE).content.decode()
    assert f"Invitation envoyée à {name(pierre.person)} par courriel (p•••@e•••.fr)" in page
    assert f"Annuler l'invitation de {name(pierre.person)}" in page
    assert mail.outbox[-1].to == ["pierre@example.fr"]
    invitation = Invitation.objects.get()
    assert claire.post(INVITE, {"action": "annuler", "invitation": invitation.pk + 99}).status_code == 404
    assert claire.post(INVITE, {"action": "annuler", "invitation": "x"}).status_code == 404
    response = claire.post(INVITE, {"action": "annuler", "invitation": invitation.pk})
    assert response.status_code == 302
    assert "est annulée" in claire.get(INVITE).content.decode()
    invitation.refresh_from_db()
    assert invitation.cancelled_at is not None
    response = Client().get(_link())
    assert response.status_code == 404
    assert "il a peut-être déjà servi ou été annulé" in response.content.decode()


def test_the_whole_acceptance(family, claire, pierre):
    client = _invited_client(claire, pierre)
    token = _link().split("/")[2]
    page = client.get("/invitation/identite/").content.decode()
    assert f"{name(family.responsible.person)} vous invite" in page and "Étape 1 sur 3" in page
    assert token not in page
    response = client.post(
        "/invitation/identite/", {"identifier": pierre.person.raw_identifier, "birth_date": "12/04/2008"}
    )
    assert response.status_code == 302 and response["Location"] == "/invitation/mot-de-passe/"
    page = client.get("/invitation/mot-de-passe/").content.decode()
    assert f"Bonjour {name(pierre.person)}" in page
    response = client.post("/invitation/mot-de-passe/", {"password": "azerty", "password_confirm": "azerty"})
    assert response.status_code == 400
    response = client.post("/invitation/mot-de-passe/", {"password": PASSWORD, "password_confirm": PASSWORD})
    assert response.status_code == 302 and response["Location"] == "/mon-compte/coordonnees/valider/"
    account = Account.objects.get(person=pierre.person)
    assert account.check_password(PASSWORD)
    # Signed in, but nothing is usable before a contact of his own is validated.
    assert client.get("/mon-compte/")["Location"].startswith("/mon-compte/coordonnees/valider/")
    client.post("/mon-compte/coordonnees/valider/", {"action": "envoyer", "channel": "email", "email": "p@example.fr"})
    code = re.search(r"\b(\d{6})\b", mail.outbox[-1].body).group(1)
    response = client.post("/mon-compte/coordonnees/valider/", {"action": "valider", "code": code})
    assert response["Location"] == "/mon-compte/"
    assert f"Bonjour {name(pierre.person)}" in client.get("/mon-compte/").content.decode()
    # Single use.
    response = Client().get(f"/invitation/{token}/")
    assert response.status_code == 404
    assert INVALID_LINK.replace("'", "&#x27;") in response.content.decode()


def test_wrong_identity_is_refused_in_french_and_kept(claire, pierre):
    client = _invited_client(claire, pierre)
    response = client.post(
        "/invitation/identite/", {"identifier": pierre.person.raw_identifier, "birth_date": "13/04/2008"}
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "ne correspond pas à la personne invitée" in page and "Il vous reste 4 essais" in page
    assert 'value="2008-04-13"' in page
    assert f'value="{pierre.person.raw_identifier}"' in page
    response = client.post("/invitation/identite/", {"identifier": "1 08 04", "birth_date": "31/02/2008"})
    page = response.content.decode()
    assert response.status_code == 400
    assert "Cette date n&#x27;est pas valide" in page
    # Skipping the proof is not possible.
    assert client.get("/invitation/mot-de-passe/")["Location"] == "/invitation/identite/"


def test_five_wrong_proofs_end_the_invitation(claire, pierre):
    client = _invited_client(claire, pierre)
    for _ in range(4):
        client.post("/invitation/identite/", {"identifier": pierre.person.raw_identifier, "birth_date": "2001-01-01"})
    response = client.post(
        "/invitation/identite/", {"identifier": pierre.person.raw_identifier, "birth_date": "2001-01-01"}
    )
    assert response.status_code == 403
    assert "cette invitation est annulée" in response.content.decode()
    assert client.get("/invitation/identite/").status_code == 400


def test_expired_link(claire, pierre):
    _invite(claire, pierre, email="pierre@example.fr")
    Invitation.objects.update(expires_at=timezone.now() - datetime.timedelta(minutes=1))
    response = Client().get(_link())
    assert response.status_code == 410
    assert EXPIRED.replace("'", "&#x27;") in response.content.decode()


def test_unknown_link_and_no_flow(family):
    response = Client().get("/invitation/" + "A" * 43 + "/")
    assert response.status_code == 404
    assert INVALID_LINK.replace("'", "&#x27;") in response.content.decode()
    response = Client().get("/invitation/identite/")
    assert response.status_code == 400
    assert NO_FLOW.replace("'", "&#x27;") in response.content.decode()


def test_opening_the_link_renews_the_session_key(claire, pierre):
    _invite(claire, pierre, email="pierre@example.fr")
    client = Client()
    client.get("/connexion/")
    before = client.session.session_key
    client.get(_link())
    assert client.session.session_key != before


def test_cancelled_while_proving(claire, pierre):
    client = _invited_client(claire, pierre)
    claire.post(INVITE, {"action": "annuler", "invitation": Invitation.objects.get().pk})
    response = client.post(
        "/invitation/identite/", {"identifier": pierre.person.raw_identifier, "birth_date": "2008-04-12"}
    )
    assert response.status_code == 404
    assert not Account.objects.filter(person=pierre.person).exists()
