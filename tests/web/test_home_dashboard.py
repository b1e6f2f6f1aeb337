"""The home page as a dashboard (issue 10, point 6): at the top, what the person can do now
(the drafts they may continue, the Caf's requests waiting for their answer, the last payment if
they may see the file, a button to start a procedure), then the detail sections; in a number of
queries that does not grow with what is in progress."""

import datetime
import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django.utils.html import escape

from moncompte.caf_requests.selectors import caf_requests_waiting
from moncompte.households.models import Payment
from moncompte.procedures.models import Procedure
from moncompte.procedures.selectors import drafts_in_progress
from moncompte.procedures.services import procedure_start, step_save
from moncompte.web.templatetags.money import euros
from tests.conftest import sign_in
from tests.factories import CafRequestFactory, PaymentFactory, PersonFactory, make_household
from tests.procedures.helpers import HOUSING, acting

pytestmark = pytest.mark.django_db

HOME = "/mon-compte/"


def home(member) -> str:
    client = Client()
    assert sign_in(client, *member.credentials).status_code == 302
    response = client.get(HOME)
    assert response.status_code == 200
    return response.content.decode()


def dashboard(body: str) -> str:
    """The "Ce que vous pouvez faire" section only."""
    match = re.search(r'<section[^>]*aria-labelledby="titre-a-faire">(.*?)</section>', body, re.S)
    assert match, "no dashboard on the home page"
    return match.group(1)


def draft(member, *slugs):
    actor = acting(member.person)
    procedure = procedure_start(actor=actor, type_code="aide-au-logement").procedure
    for slug in slugs:
        procedure = step_save(
            actor=actor, procedure=procedure, slug=slug, data=HOUSING[slug], base_version=procedure.version
        ).procedure
    return procedure


def more_drafts(family, count: int) -> list[Procedure]:
    """Drafts of the household made straight in the table (the engine gives one per type and file)."""
    now = timezone.now()
    return [
        Procedure.objects.create(
            type_code="aide-au-logement",
            dossier=family.dossier,
            person=family.responsible.person,
            step_reached="logement",
            updated_at=now - datetime.timedelta(days=10 + i),
            expires_at=now + datetime.timedelta(days=50 - i),
        )
        for i in range(count)
    ]


# What is shown, to whom -------------------------------------------------------------------------


def test_the_dashboard_comes_first_with_the_draft_to_resume_and_the_button_to_start():
    family = make_household(delegated=True)
    procedure = draft(family.spouse, "logement")  # started by the spouse S+, for the household
    body = home(family.responsible)
    assert body.index("Ce que vous pouvez faire") < body.index("Mon identité")
    top = dashboard(body)
    assert "Demande d&#x27;aide au logement" in top or "Demande d'aide au logement" in top
    assert "Étape 2 sur 4 : Adresse et loyer" in top
    assert f'href="/mon-compte/demarches/{procedure.pk}/"' in top and ">Reprendre<" in top
    assert 'href="/mon-compte/demarches/"' in top and "Voir toutes mes démarches" in top
    assert 'href="/mon-compte/demarches/#commencer"' in top and "Commencer une démarche" in top


def test_at_most_three_drafts_the_last_saved_first_and_how_many_in_all():
    family = make_household()
    newest = draft(family.responsible, "logement", "loyer")
    older = more_drafts(family, 4)
    top = dashboard(home(family.responsible))
    shown = [int(pk) for pk in re.findall(r'href="/mon-compte/demarches/(\d+)/"', top)]
    assert shown == [newest.pk, older[0].pk, older[1].pk]
    assert "5 démarches en cours en tout" in top
    assert "Étape 3 sur 4 : Votre identité" in top


def test_who_may_not_continue_a_draft_does_not_see_it_on_the_dashboard():
    family = make_household()  # S without delegation
    procedure = draft(family.responsible, "logement")
    for member in (family.spouse, family.child):
        top = dashboard(home(member))
        assert f"/mon-compte/demarches/{procedure.pk}/" not in top
        assert "Aucune démarche en cours." in top
    stranger = make_household()
    assert f"/mon-compte/demarches/{procedure.pk}/" not in dashboard(home(stranger.responsible))
    # Nor once expired or sent.
    Procedure.objects.filter(pk=procedure.pk).update(state=Procedure.State.EXPIRED)
    assert "Aucune démarche en cours." in dashboard(home(family.responsible))


def test_the_cafs_requests_waiting_for_an_answer_are_listed_with_their_due_date():
    family = make_household()
    waiting = CafRequestFactory(dossier=family.dossier, title="Quittance de loyer d'octobre")
    late = CafRequestFactory(dossier=family.dossier, title="Attestation employeur", late=True)
    CafRequestFactory(dossier=family.dossier, title="Déjà répondue", answered=True)
    to_child = CafRequestFactory(
        dossier=family.dossier, title="Certificat de scolarité", addressed_to=family.child.person
    )
    top = dashboard(home(family.responsible))
    assert (
        escape("Quittance de loyer d'octobre") in top and f'href="/mon-compte/demandes-de-la-caf/{waiting.pk}/"' in top
    )
    assert "Attestation employeur" in top and "En retard" in top
    assert "Déjà répondue" not in top
    assert "3 demandes attendent votre réponse." in top
    assert 'href="/mon-compte/demandes-de-la-caf/"' in top
    # The policy's own part: the child sees the one addressed to them only; S none of the household's.
    child = dashboard(home(family.child))
    assert f"/mon-compte/demandes-de-la-caf/{to_child.pk}/" in child and "Une demande attend votre réponse." in child
    assert f"/mon-compte/demandes-de-la-caf/{late.pk}/" not in child
    assert "Aucune demande de la Caf" in dashboard(home(family.spouse))


def test_the_last_payment_is_shown_only_to_who_may_see_the_file():
    family = make_household()
    benefit = Payment.objects.filter(dossier=family.dossier).first().benefit
    latest = PaymentFactory(
        benefit=benefit, paid_on=datetime.date.today() + datetime.timedelta(days=3), amount_cents=123456
    )
    top = dashboard(home(family.responsible))
    assert "Dernier paiement" in top and escape(euros(latest.amount_cents)) in top
    assert escape(benefit.label) in top
    for member in (family.spouse, family.child):
        top = dashboard(home(member))
        assert "Dernier paiement" not in top and escape(euros(latest.amount_cents)) not in top


# Light: the queries -----------------------------------------------------------------------------


def queries(client) -> int:
    with CaptureQueriesContext(connection) as context:
        assert client.get(HOME).status_code == 200
    return len(context.captured_queries)


def test_the_home_page_makes_as_many_queries_with_requests_in_progress_as_without():
    family = make_household(delegated=True)
    client = Client()
    assert sign_in(client, *family.responsible.credentials).status_code == 302
    client.get(HOME)  # warm: first-request work (session touch) out of the way
    empty = queries(client)
    draft(family.responsible, "logement")
    CafRequestFactory(dossier=family.dossier)
    one = queries(client)
    more_drafts(family, 6)
    for _ in range(6):
        CafRequestFactory(dossier=family.dossier)
    many = queries(client)
    assert empty == one == many, (empty, one, many)


def test_the_dashboard_reads_cost_a_few_queries_whatever_is_in_progress():
    family = make_household(delegated=True)
    draft(family.responsible, "logement")
    more_drafts(family, 6)
    actor = acting(family.spouse.person)
    with CaptureQueriesContext(connection) as context:
        drafts, count = drafts_in_progress(actor=actor, limit=3)
    # The spouse's standings, then the drafts of the file: two queries for 7 drafts.
    assert len(context.captured_queries) == 2 and len(drafts) == 3 and count == 7
    for _ in range(5):
        CafRequestFactory(dossier=family.dossier)
    with CaptureQueriesContext(connection) as context:
        assert len(caf_requests_waiting(actor=actor)) == 5
    assert len(context.captured_queries) == 2  # the dashboard adds four queries to the home page, no more
    assert drafts_in_progress(actor=acting(PersonFactory())) == ([], 0)
