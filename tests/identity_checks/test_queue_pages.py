"""The queue and a check's page in the console: the checks of the checker's Caf and those whose
Caf is not determined, oldest first, 25 a page; another Caf's check is not found; every page of
a check is journaled with the agent; the possible duplicate and the masked claimed number."""

import datetime
import html as html_module
import re

import pytest
import time_machine
from django.test import Client

from moncompte.access.agents import AgentRole
from moncompte.audit.models import JournalEntry
from moncompte.identity.models import IdentityCheck, IdentityCheckState
from tests.accounts.test_signup import identity_of, nir
from tests.factories import AgentFactory, PersonFactory, sign_in_agent
from tests.identity_checks.helpers import console, document_for, signup

pytestmark = pytest.mark.django_db

QUEUE = "/agents/verifications-identite/"
T0 = datetime.datetime(2026, 3, 2, 9, 0, tzinfo=datetime.UTC)


def pending(first_names: str, postal_code: str, at: datetime.datetime) -> IdentityCheck:
    with time_machine.travel(at, tick=False):
        person = PersonFactory(provisional=True, first_names=first_names, birth_name="Queue")
        return IdentityCheck.objects.create(person=person, postal_code=postal_code, city="Quelque part")


def names_listed(html: str) -> list[str]:
    return re.findall(r"<td>(\w+) QUEUE</td>", html)


def test_the_queue_lists_the_checks_of_the_caf_and_those_of_no_caf_oldest_first(lyon, paris, checker):
    pending("Bertrand", "69007", T0 + datetime.timedelta(days=2))
    pending("Alice", "69003", T0)
    pending("Paul", "75011", T0 - datetime.timedelta(days=1))  # another Caf's
    pending("Zoé", "", T0 + datetime.timedelta(days=1))  # no Caf determined: every checker's
    decided = pending("Denis", "69001", T0 - datetime.timedelta(days=3))
    IdentityCheck.objects.filter(pk=decided.pk).update(state=IdentityCheckState.VERIFIED)

    response = console(checker).get(QUEUE)
    html = response.content.decode()
    assert response.status_code == 200
    assert names_listed(html) == ["Alice", "Zoé", "Bertrand"]
    assert "<strong>3</strong> vérifications en attente" in html
    assert "dont 1 sans Caf déterminée" in html and html.count("Caf non déterminée</p>") == 1
    assert "<h1>Vérifications d'identité</h1>" in html and "<caption>" in html
    # The checker of the other Caf sees theirs and the undetermined one.
    other = AgentFactory(caf=paris, roles=[AgentRole.IDENTITY_CHECKER.value])
    assert names_listed(console(other).get(QUEUE).content.decode()) == ["Paul", "Zoé"]


def test_the_queue_shows_25_checks_a_page(lyon, checker):
    for n in range(26):
        pending(f"Personne{n:02d}", "69003", T0 + datetime.timedelta(minutes=n))
    client = console(checker)
    first = names_listed(client.get(QUEUE).content.decode())
    second = names_listed(client.get(QUEUE, {"page": 2}).content.decode())
    assert first == [f"Personne{n:02d}" for n in range(25)] and second == ["Personne25"]


def test_the_agents_who_may_not_decide_checks_and_the_usagers_never_see_them(lyon, paris, counter_agent, family):
    check = pending("Alice", "69003", T0)
    paths = [QUEUE, f"{QUEUE}{check.pk}/", "/agents/identifiants/"]
    for agent in (counter_agent, AgentFactory(caf=lyon, roles=[AgentRole.ADMINISTRATOR.value])):
        client = console(agent)
        assert [client.get(path).status_code for path in paths] == [404, 404, 404]
        assert client.post(f"{QUEUE}{check.pk}/", {"decision": "accept"}).status_code == 404
    # A checker who did not give their second factor is sent to the sign-in.
    halfway = Client()
    sign_in_agent(halfway, AgentFactory(caf=lyon, roles=[AgentRole.IDENTITY_CHECKER.value]), second_factor=False)
    assert halfway.get(QUEUE)["Location"] == "/agents/connexion/"
    # A usager signed in on the site has no agent session: the console's sign-in, nothing else.
    usager = Client()
    assert (
        usager.post(
            "/connexion/", {"identifier": family.responsible.identifier, "password": family.responsible.password}
        ).status_code
        == 302
    )
    for path in paths:
        response = usager.get(path)
        assert response.status_code == 302 and response["Location"] == "/agents/connexion/"
    check.refresh_from_db()
    assert check.state == IdentityCheckState.TO_VERIFY
    assert not JournalEntry.objects.filter(action="identity.check_viewed").exists()


def test_another_cafs_check_is_not_found(lyon, paris, checker):
    check = pending("Paul", "75011", T0)
    client = console(checker)
    assert client.get(f"{QUEUE}{check.pk}/").status_code == 404
    assert client.post(f"{QUEUE}{check.pk}/", {"decision": "accept"}).status_code == 404
    assert client.post(f"{QUEUE}{check.pk}/", {"decision": "reject", "refus-reason": "illegible"}).status_code == 404
    check.refresh_from_db()
    assert check.state == IdentityCheckState.TO_VERIFY and check.decided_by_agent is None
    assert not JournalEntry.objects.filter(action__startswith="identity.check_").exists()


def test_the_page_of_a_check_shows_the_declaration_and_is_journaled(lyon, checker, media):
    claimed = nir("2 91 05 69 383 017")
    result = signup(
        identifier=claimed,
        first_names="Inès Marie",
        birth_place_label="Lyon 3e arrondissement",
        address_line1="3 rue Garibaldi",
        address_line2="Bâtiment B",
    )
    document_for(result.identity_check)
    response = console(checker).get(f"{QUEUE}{result.identity_check.pk}/")
    html = html_module.unescape(response.content.decode())
    assert response.status_code == 200
    assert html.count("<h1") == 1 and "Vérification d'identité de Inès LEFÈVRE" in html
    shown = ["Inès Marie", "LEFÈVRE", "17 mai 1991", "Femme", "Lyon 3e arrondissement", "3 rue Garibaldi"]
    shown += ["Bâtiment B", "69003 Lyon", "Caf du Rhône", "Carte nationale d'identité", "Voir le document"]
    for text in shown:
        assert text in html, text
    # The claimed number: only its last four characters.
    display = claimed.display()
    assert display not in html and claimed.value not in html and claimed.value[:7] not in html
    assert f'se terminant par <span class="fr-text--bold">• •• •• •• ••• •{display[-5:]}</span>' in html
    assert "Accepter la vérification" in html and "Refuser la vérification" in html
    assert "Doublon possible" not in html
    entry = JournalEntry.objects.get(action="identity.check_viewed")
    assert entry.actor_agent == checker and entry.subject_person == result.person
    assert entry.detail == {"check": result.identity_check.pk}


def test_a_possible_duplicate_is_shown_as_a_warning(lyon, checker):
    known = PersonFactory(birth_place_code="69383")
    result = signup(**{k: v for k, v in vars(identity_of(known)).items() if k != "postal_code"})
    assert result.identity_check.match_outcome == "one"
    html = html_module.unescape(console(checker).get(f"{QUEUE}{result.identity_check.pk}/").content.decode())
    assert 'id="doublon"' in html and "Une personne connue de la Caf a la même identité" in html
    assert known.first_names in html
