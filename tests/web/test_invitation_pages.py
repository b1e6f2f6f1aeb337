"""Pages of the invitations: /mon-compte/foyer/inviter/ and the invitation page /invitation/
(the link /invitation/#CODE: the code is posted with the identity proof, never in a URL)."""

import datetime
import re

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone
from django.utils.html import escape

from moncompte.accounts.models import Account
from moncompte.audit.models import JournalEntry
from moncompte.households.invitations import (
    ACCOUNT_EXISTS,
    EXPIRED,
    INVALID_LINK,
    MALFORMED_CODE,
    invitation_code_new,
)
from moncompte.households.models import Invitation, Member, Role
from moncompte.web.invitations.views import NO_FLOW, OLD_LINK
from tests.conftest import sign_in
from tests.factories import PersonFactory
from tests.households.test_invitations import PIERRE_BORN
from tests.web.date_parts import date_parts

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
    """The link of the last message: /invitation/#XXXX-XXXX-XXXX-XXXX."""
    return re.search(r"https?://[^/\s]+(/invitation/#\S+)", mail.outbox[-1].body).group(1)


def _code() -> str:
    """The code of the last message, as shown by itself (typed without JavaScript)."""
    return re.search(r"code d'invitation, saisissez :\s+(\S+)", mail.outbox[-1].body).group(1)


def _escaped(message: str) -> str:
    return message.replace("'", "&#x27;")


def _proof(pierre, code=None, birth_date="12/04/2008", **data) -> dict:
    return {"code": code or _code(), "identifier": pierre.person.raw_identifier, **date_parts(birth_date), **data}


def _invited_client(claire, pierre) -> Client:
    """Pierre's browser, past the first step (code and identity proved)."""
    assert _invite(claire, pierre, email="pierre@example.fr").status_code == 302
    client = Client()
    response = client.post("/invitation/", _proof(pierre))
    assert response.status_code == 302 and response["Location"] == "/invitation/mot-de-passe/"
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
    response = Client().post("/invitation/", _proof(pierre))
    assert response.status_code == 400
    assert "peut-être déjà servi ou été annulée" in response.content.decode()


def test_the_invitation_page_asks_for_the_code_and_fills_it_from_the_fragment(family):
    response = Client().get("/invitation/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "Étape 1 sur 3" in page and "Code d&#x27;invitation" in page
    assert re.search(r'<input[^>]+name="code"[^>]+data-invitation-code', page)
    # The script is a file of the site (script-src 'self'), not inline: it reads the fragment.
    assert re.search(r'<script src="/static/web/invitation-code[^"]*\.js" defer></script>', page)
    assert "script-src 'self'" in response["Content-Security-Policy"]


def test_a_code_in_the_query_string_is_never_read(claire, pierre):
    _invite(claire, pierre, email="pierre@example.fr")
    page = Client().get("/invitation/", {"code": _code()}).content.decode()
    assert _code() not in page and _code().replace("-", "") not in page


def test_the_whole_acceptance(family, claire, pierre):
    _invite(claire, pierre, email="pierre@example.fr")
    invitation_code = _code()
    assert _link() == f"/invitation/#{invitation_code}"
    client = Client()
    page = client.get("/invitation/").content.decode()
    assert "Étape 1 sur 3" in page
    # Typed by hand from the message, in lower case with spaces: accepted.
    response = client.post("/invitation/", _proof(pierre, code=invitation_code.lower().replace("-", " ")))
    assert response.status_code == 302 and response["Location"] == "/invitation/mot-de-passe/"
    page = client.get("/invitation/mot-de-passe/").content.decode()
    assert f"Bonjour {name(pierre.person)}" in page
    assert f"Invitation de {name(family.responsible.person)}" in page
    assert invitation_code not in page
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
    assert response["Location"] == "/mon-compte/bienvenue/"  # the first-connection screens, once
    assert f"Bonjour {name(pierre.person)}" in client.get("/mon-compte/").content.decode()
    # Single use: the link now says plainly that the account exists.
    response = Client().post("/invitation/", _proof(pierre, code=invitation_code))
    assert response.status_code == 409
    assert _escaped(ACCOUNT_EXISTS) in response.content.decode()
    assert "<h1>Compte déjà créé</h1>" in response.content.decode()


def test_wrong_identity_is_refused_in_french_and_kept(claire, pierre):
    _invite(claire, pierre, email="pierre@example.fr")
    client = Client()
    response = client.post("/invitation/", _proof(pierre, birth_date="13/04/2008"))
    assert response.status_code == 400
    page = response.content.decode()
    assert "ne correspond pas à la personne invitée" in page and "Il vous reste 4 essais" in page
    assert 'value="13"' in page and 'value="04"' in page and 'value="2008"' in page
    assert f'value="{pierre.person.raw_identifier}"' in page
    response = client.post("/invitation/", _proof(pierre, identifier="1 08 04", birth_date="31/02/2008"))
    page = response.content.decode()
    assert response.status_code == 400
    assert "Cette date n&#x27;existe pas : vérifiez le jour et le mois." in page
    # Skipping the proof is not possible.
    assert client.get("/invitation/mot-de-passe/").status_code == 400


def test_a_malformed_or_unknown_code_is_refused_on_its_field(claire, pierre):
    _invite(claire, pierre, email="pierre@example.fr")
    response = Client().post("/invitation/", _proof(pierre, code="ABCD-1234"))
    assert response.status_code == 400
    assert re.search(r'id="id_code-erreur">' + re.escape(_escaped(MALFORMED_CODE)), response.content.decode())
    response = Client().post("/invitation/", _proof(pierre, code=invitation_code_new()))
    assert response.status_code == 400
    assert re.search(r'id="id_code-erreur">' + re.escape(_escaped(INVALID_LINK)), response.content.decode())
    assert Invitation.objects.get().failed_attempts == 0  # a wrong code is not a wrong identity


def test_wrong_codes_from_one_address_are_throttled(claire, pierre, settings):
    settings.MONCOMPTE_THROTTLE_FREE_FAILURES_PER_ADDRESS = 2
    _invite(claire, pierre, email="pierre@example.fr")
    prober = Client(REMOTE_ADDR="203.0.113.50")
    for _ in range(3):
        assert prober.post("/invitation/", _proof(pierre, code=invitation_code_new())).status_code == 400
    response = prober.post("/invitation/", _proof(pierre))
    assert response.status_code == 429
    assert "Réessayez dans" in response.content.decode()
    # Pierre, from his own connection, is not slowed down.
    assert Client(REMOTE_ADDR="198.51.100.20").post("/invitation/", _proof(pierre)).status_code == 302


def test_five_wrong_proofs_end_the_invitation(claire, pierre):
    _invite(claire, pierre, email="pierre@example.fr")
    client = Client()
    for _ in range(4):
        client.post("/invitation/", _proof(pierre, birth_date="01/01/2001"))
    response = client.post("/invitation/", _proof(pierre, birth_date="01/01/2001"))
    assert response.status_code == 403
    assert "cette invitation est annulée" in response.content.decode()
    response = client.post("/invitation/", _proof(pierre))
    assert response.status_code == 400 and not Account.objects.filter(person=pierre.person).exists()


def test_expired_invitation(claire, pierre):
    _invite(claire, pierre, email="pierre@example.fr")
    Invitation.objects.update(expires_at=timezone.now() - datetime.timedelta(minutes=1))
    response = Client().post("/invitation/", _proof(pierre))
    assert response.status_code == 410
    assert _escaped(EXPIRED) in response.content.decode()


@pytest.mark.parametrize(
    "path",
    ["/invitation/" + "A" * 43 + "/", "/invitation/{code}/", "/invitation/{code}", "/invitation/identite/"],
    ids=["old-token", "code-in-path", "code-in-path-no-slash", "old-identity-page"],
)
def test_a_secret_in_the_path_is_never_read(claire, pierre, path):
    _invite(claire, pierre, email="pierre@example.fr")
    response = Client().get(path.format(code=_code()))
    assert response.status_code == 410
    assert _escaped(OLD_LINK) in response.content.decode()
    # The invitation is untouched: neither opened nor counted.
    invitation = Invitation.objects.get()
    assert invitation.failed_attempts == 0 and invitation.cancelled_at is None
    assert not JournalEntry.objects.filter(action="invitation.opened").exists()


def test_no_flow(family):
    response = Client().get("/invitation/mot-de-passe/")
    assert response.status_code == 400
    assert _escaped(NO_FLOW) in response.content.decode()


def test_proving_renews_the_session_key(claire, pierre):
    _invite(claire, pierre, email="pierre@example.fr")
    client = Client()
    client.get("/connexion/")
    before = client.session.session_key
    client.post("/invitation/", _proof(pierre))
    assert client.session.session_key != before


def test_cancelled_while_choosing_the_password(claire, pierre):
    client = _invited_client(claire, pierre)
    claire.post(INVITE, {"action": "annuler", "invitation": Invitation.objects.get().pk})
    response = client.post("/invitation/mot-de-passe/", {"password": PASSWORD, "password_confirm": PASSWORD})
    assert response.status_code == 404
    assert not Account.objects.filter(person=pierre.person).exists()


def _routes(patterns, prefix=""):
    from django.urls import URLPattern, URLResolver

    for entry in patterns:
        if isinstance(entry, URLResolver):
            yield from _routes(entry.url_patterns, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern), entry


def test_no_url_of_the_project_takes_a_secret():
    """Only ids and the never-read path of old links are variable parts of a URL: no token, code,
    NIR or password can be asked for in a path (the query strings are checked by the views)."""
    from django.urls import get_resolver

    variable = {
        route: entry.name for route, entry in _routes(get_resolver().url_patterns) if entry.pattern.regex.groups
    }
    # Ids (<int:...>) and the names of procedure types and steps (<slug:code>, <slug:step>: words
    # of the code, declared in moncompte/procedures/types/) are the only variable parts, besides
    # the never-read path of old links (the API's version, "v1", is a fixed part).
    not_ids = {
        route: name
        for route, name in variable.items()
        if not re.fullmatch(r"[a-z0-9/.-]*(<(int:\w+|slug:code|slug:step)>[a-z/.-]*)+", route)
    }
    assert not_ids == {"^invitation/(?!mot-de-passe$)(?P<rest>.+)$": "invitation_old_link"}
    assert variable["mon-compte/appareils/<int:session_id>/fermer/"] == "session_end"
