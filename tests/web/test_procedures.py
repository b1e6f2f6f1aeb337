"""The procedure pages (/mon-compte/demarches/, moncompte.web.procedures): the list for every
role, the steps with their errors, the resume from another device, the conflict page, the
summary and the submission, the receipt and its PDF, the visitor's steps before the identity."""

import datetime
import html
import re

import pytest
from django.test import Client
from django.utils import timezone

from moncompte.audit.models import JournalEntry
from moncompte.households.services import separation_declare
from moncompte.procedures.models import Procedure, ProcedureEvent
from moncompte.procedures.services import procedure_start, step_save
from moncompte.web.templatetags.french import date_fr
from tests.conftest import sign_in
from tests.procedures.helpers import HOUSING, acting, visitor

pytestmark = pytest.mark.django_db

LIST = "/mon-compte/demarches/"
HOUSING_AID = "aide-au-logement"
VISITOR_KEY = "moncompte_procedure_visitor"


def signed_in(member) -> Client:
    client = Client()
    assert sign_in(client, *member.credentials).status_code == 302
    return client


def text_of(response) -> str:
    """The page's text, tags dropped and white space folded (for sentences split by markup)."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", response.content.decode())).split())


def step_url(procedure, slug: str) -> str:
    return f"{LIST}{procedure.pk}/{slug}/"


def urls_of(procedure) -> list[str]:
    base = f"{LIST}{procedure.pk}/"
    return [
        base,
        *(f"{base}{step.slug}/" for step in procedure.type.steps),
        f"{base}recapitulatif/",
        f"{base}accuse-de-reception/",
        f"{base}accuse-de-reception.pdf",
    ]


def version_of(response) -> str:
    return re.search(r'name="version" value="(\d+)"', response.content.decode()).group(1)


def post_step(client, procedure, slug, data=None, *, action="continuer", version=None):
    """The step's page opened, then sent with ``data`` (the version the page was built from)."""
    if version is None:
        page = client.get(step_url(procedure, slug))
        assert page.status_code == 200, page.status_code
        version = version_of(page)
    values = HOUSING[slug] if data is None else data
    return client.post(step_url(procedure, slug), {**values, "version": version, "action": action})


def started(member, type_code=HOUSING_AID) -> Procedure:
    return procedure_start(actor=acting(member.person), type_code=type_code).procedure


def fill(member, procedure, *slugs) -> Procedure:
    for slug in slugs:
        procedure = step_save(
            actor=acting(member.person),
            procedure=procedure,
            slug=slug,
            data=HOUSING[slug],
            base_version=procedure.version,
        ).procedure
    return procedure


def submitted(member, procedure=None) -> Procedure:
    from moncompte.procedures.services import procedure_submit

    procedure = fill(member, procedure or started(member), "logement", "loyer", "identite", "ressources")
    return procedure_submit(
        actor=acting(member.person), procedure=procedure, base_version=procedure.version, attested=True
    )


# The list, for every role -----------------------------------------------------------------------


def test_the_list_shows_the_households_drafts_with_their_step_who_saved_and_until_when(delegated_family):
    family = delegated_family
    procedure = fill(family.responsible, started(family.responsible), "logement")
    procedure = fill(family.spouse, procedure, "loyer")  # S+ continues it, in his own name
    response = signed_in(family.responsible).get(LIST)
    assert response.status_code == 200
    page = text_of(response)
    assert 'id="en-cours"' in response.content.decode()
    assert "Demande d'aide au logement" in page
    assert "Étape 3 sur 4 : Votre identité" in page
    assert f"par {str(family.spouse.person.display_name)}" in page
    assert f"Gardée jusqu'au {date_fr(timezone.localtime(procedure.expires_at), 'j F Y')}" in page
    # The same draft for the spouse with the delegation, who saved it last: "par vous".
    page = text_of(signed_in(family.spouse).get(LIST))
    assert "Étape 3 sur 4 : Votre identité" in page and "par vous" in page


def test_the_start_list_offers_to_resume_a_draft_of_a_type_instead_of_starting_one(family):
    client = signed_in(family.responsible)
    response = client.get(LIST)
    content = response.content.decode()
    assert 'id="commencer"' in content
    assert f'action="{LIST}commencer/{HOUSING_AID}/"' in content
    procedure = started(family.responsible)
    content = client.get(LIST).content.decode()
    assert f'action="{LIST}commencer/{HOUSING_AID}/"' not in content
    assert f'href="{LIST}{procedure.pk}/"' in content
    assert f'action="{LIST}commencer/changement-adresse/"' in content  # the other types still start


def test_the_list_shows_the_requests_sent_with_reference_date_and_receipt(family):
    procedure = submitted(family.responsible)
    response = signed_in(family.responsible).get(LIST)
    content, page = response.content.decode(), text_of(response)
    assert 'id="envoyees"' in content
    assert f"Référence {procedure.reference}" in page
    assert date_fr(timezone.localtime(procedure.submitted_at), "j F Y") in page
    assert f'href="{LIST}{procedure.pk}/accuse-de-reception/"' in content
    assert "Aucune démarche en instance." in page


def test_a_spouse_without_delegation_and_a_child_see_none_of_the_households_procedures(family):
    done = submitted(family.responsible)
    draft = fill(family.responsible, started(family.responsible), "logement")
    assert draft.pk != done.pk
    for member in (family.spouse, family.child):
        client = signed_in(member)
        page = text_of(client.get(LIST))
        assert "Aucune démarche en instance." in page and "Aucune demande envoyée." in page
        assert done.reference not in page
        for procedure in (draft, done):
            for url in urls_of(procedure):
                assert client.get(url).status_code == 404, (member, url)
            assert client.post(step_url(procedure, "loyer"), {**HOUSING["loyer"], "version": "9"}).status_code == 404
        assert client.post(f"{LIST}{draft.pk}/recapitulatif/", {"attestation": "on"}).status_code == 404
        # Nor may they start one for the household.
        assert client.post(f"{LIST}commencer/{HOUSING_AID}/").status_code == 404
    draft.refresh_from_db()
    assert set(draft.data) == {"logement"}


def test_a_former_spouse_loses_the_households_drafts_at_the_separation(delegated_family):
    family = delegated_family
    client = signed_in(family.spouse)
    procedure = fill(family.spouse, started(family.spouse), "logement")
    assert client.get(step_url(procedure, "loyer")).status_code == 200
    separation_declare(
        actor=acting(family.responsible.person),
        dossier=family.dossier,
        separated_on=datetime.date.today(),
        leaving_person=family.spouse.person,
        new_address={"address_line1": "1 rue Neuve", "postal_code": "69001", "city": "Lyon"},
    )
    for url in urls_of(procedure):
        assert client.get(url).status_code == 404, url
    assert "Demande d'aide au logement" not in text_of(client.get(LIST)).split("Commencer une démarche")[0]
    # The responsible person still continues it.
    assert signed_in(family.responsible).get(step_url(procedure, "loyer")).status_code == 200


# Start, steps, errors ---------------------------------------------------------------------------


def test_start_makes_a_draft_and_a_second_start_resumes_it(family):
    client = signed_in(family.responsible)
    response = client.post(f"{LIST}commencer/{HOUSING_AID}/")
    procedure = Procedure.objects.get(type_code=HOUSING_AID)
    assert response.status_code == 302 and response["Location"] == step_url(procedure, "logement")
    again = client.post(f"{LIST}commencer/{HOUSING_AID}/", follow=True)
    assert Procedure.objects.count() == 1
    assert "Cette démarche était déjà commencée" in text_of(again)
    assert client.post(f"{LIST}commencer/inconnue/").status_code == 404
    assert client.get(f"{LIST}commencer/{HOUSING_AID}/").status_code == 405


def test_a_step_with_errors_says_so_in_french_and_saves_nothing(family):
    client = signed_in(family.responsible)
    procedure = started(family.responsible)
    response = post_step(client, procedure, "logement", {})
    assert response.status_code == 400
    page = text_of(response)
    assert "Le formulaire contient des erreurs" in page
    assert "Indiquez si vous êtes locataire, colocataire, etc." in page
    assert "Indiquez le type de logement." in page
    assert "Saisissez la date d'entrée dans le logement : jour, mois et année." in page
    assert 'aria-invalid="true"' in response.content.decode()
    response = post_step(client, procedure, "logement", {**HOUSING["logement"], "entered_year": "2099"})
    assert response.status_code == 400
    assert "La date d'entrée dans le logement ne peut pas être dans le futur." in text_of(response)
    procedure.refresh_from_db()
    assert procedure.data == {} and procedure.version == 1
    # Valid: saved, on to the next step.
    response = post_step(client, procedure, "logement")
    assert response.status_code == 302 and response["Location"] == step_url(procedure, "loyer")
    response = post_step(client, procedure, "loyer", {**HOUSING["loyer"], "postal_code": "7501", "rent": "six cents"})
    assert response.status_code == 400
    page = text_of(response)
    assert "Le code postal comporte 5 chiffres." in page
    assert "Saisissez un montant en euros, par exemple 650 ou 650,50." in page
    # What was typed is shown again.
    assert 'value="Paris Habitat"' in response.content.decode()


def test_a_step_not_reached_yet_sends_to_the_first_step_to_fill(family):
    client = signed_in(family.responsible)
    procedure = started(family.responsible)
    for slug in ("loyer", "identite", "ressources"):
        response = client.get(step_url(procedure, slug))
        assert response.status_code == 302 and response["Location"] == step_url(procedure, "logement")
    response = client.post(step_url(procedure, "loyer"), {**HOUSING["loyer"], "version": "1"})
    assert response.status_code == 302 and response["Location"] == step_url(procedure, "logement")
    assert client.get(f"{LIST}{procedure.pk}/inconnue/").status_code == 404
    # The summary of an incomplete draft sends to its first step to fill.
    response = client.get(f"{LIST}{procedure.pk}/recapitulatif/")
    assert response.status_code == 302 and response["Location"] == step_url(procedure, "logement")


def test_the_step_page_has_the_stepper_the_version_the_buttons_and_a_previous_link(family):
    client = signed_in(family.responsible)
    procedure = fill(family.responsible, started(family.responsible), "logement")
    response = client.get(step_url(procedure, "loyer"))
    content, page = response.content.decode(), text_of(response)
    assert "Adresse et loyer Étape 2 sur 4" in page
    assert "Étape suivante : Votre identité" in page
    assert f'name="version" value="{procedure.version}"' in content
    assert 'name="action" value="continuer"' in content and "Enregistrer et continuer" in page
    assert 'name="action" value="quitter"' in content and "Enregistrer et reprendre plus tard" in page
    assert f'href="{step_url(procedure, "logement")}"' in content and "Précédent" in page
    assert "<script" not in content.split("</main>")[0].split('<main id="contenu"')[1]  # no JavaScript needed
    assert 'type="date"' not in content


def test_save_and_resume_later_goes_to_the_list_saying_until_when_it_is_kept(family):
    client = signed_in(family.responsible)
    procedure = started(family.responsible)
    response = post_step(client, procedure, "logement", action="quitter")
    assert response.status_code == 302 and response["Location"] == LIST
    procedure.refresh_from_db()
    page = text_of(client.get(LIST))
    assert f"Elle est gardée jusqu'au {date_fr(timezone.localtime(procedure.expires_at), 'j F Y')}" in page
    assert "Étape 2 sur 4 : Adresse et loyer" in page


def test_a_draft_resumes_on_another_device_at_the_step_left_with_the_same_data(family):
    first = signed_in(family.responsible)
    first.post(f"{LIST}commencer/{HOUSING_AID}/")
    procedure = Procedure.objects.get()
    post_step(first, procedure, "logement")
    post_step(first, procedure, "loyer", action="quitter")
    second = signed_in(family.responsible)  # another browser: another session
    response = second.get(f"{LIST}{procedure.pk}/")
    assert response.status_code == 302 and response["Location"] == step_url(procedure, "identite")
    content = second.get(step_url(procedure, "loyer")).content.decode()
    for value in ("12 rue des Lilas", "75011", "Paris", "650", "80,50", "Paris Habitat"):
        assert f'value="{value}"' in content
    content = second.get(step_url(procedure, "logement")).content.decode()
    assert 'value="locataire" checked' in content and 'value="appartement" checked' in content
    assert 'name="entered_year" value="2025"' in content


def test_the_identity_step_shows_the_persons_identity_above_the_confirmation(family):
    client = signed_in(family.responsible)
    procedure = fill(family.responsible, started(family.responsible), "logement", "loyer")
    response = client.get(step_url(procedure, "identite"))
    person = family.responsible.person
    page = text_of(response)
    assert str(person.first_names) in page and str(person.birth_name) in page
    assert date_fr(person.birth_date, "j F Y") in page
    assert person.identifier.masked() in page
    assert person.raw_identifier.replace(" ", "") not in response.content.decode().replace(" ", "")
    assert "Je confirme que cette demande est faite en mon nom" in page
    response = post_step(client, procedure, "identite", {})
    assert response.status_code == 400 and "Cochez la case pour confirmer votre identité." in text_of(response)
    response = post_step(client, procedure, "identite")
    assert response.status_code == 302 and response["Location"] == step_url(procedure, "ressources")


def test_every_look_at_a_drafts_content_is_journaled(family):
    client = signed_in(family.responsible)
    procedure = fill(family.responsible, started(family.responsible), "logement")
    client.get(step_url(procedure, "logement"))
    entry = JournalEntry.objects.filter(action="procedure.viewed").latest("id")
    assert entry.detail == {"procedure": procedure.pk, "type": HOUSING_AID, "what": "step:logement"}
    assert entry.dossier_id == family.dossier.pk


# Conflicts: two devices, nothing lost -----------------------------------------------------------


def test_two_devices_saving_the_same_step_differently_are_shown_both_values_and_choose(family):
    claire = family.responsible
    procedure = fill(claire, started(claire), "logement")
    phone, laptop = signed_in(claire), signed_in(claire)
    phone_version = version_of(phone.get(step_url(procedure, "loyer")))
    laptop_version = version_of(laptop.get(step_url(procedure, "loyer")))
    assert post_step(phone, procedure, "loyer", version=phone_version).status_code == 302  # rent 650
    response = post_step(laptop, procedure, "loyer", {**HOUSING["loyer"], "rent": "700"}, version=laptop_version)
    assert response.status_code == 409
    content, page = response.content.decode(), text_of(response)
    assert "Cette étape a été modifiée sur un autre appareil le" in page and "par vous" in page
    assert "Garder la valeur enregistrée : 650,00 €" in page
    assert "Garder ma saisie : 700,00 €" in page
    assert "checked" not in content.split('name="conflit"')[1]  # no side chosen beforehand
    # Both values survive until the person chooses: the saved one in the draft, hers in the page.
    procedure.refresh_from_db()
    assert procedure.data["loyer"]["clean"]["rent"] == "650.00"
    assert 'name="mine-rent" value="700"' in content
    assert 'name="mine-landlord" value="Paris Habitat"' in content
    new_version = version_of(response)
    assert int(new_version) == procedure.version
    # Sent without choosing: asked again, nothing written.
    fields = hidden_inputs(content)
    response = laptop.post(step_url(procedure, "loyer"), {**fields, "action": "resoudre"})
    assert response.status_code == 400
    assert "Choisissez la valeur à garder pour « Loyer mensuel, hors charges »." in text_of(response)
    procedure.refresh_from_db()
    assert procedure.data["loyer"]["clean"]["rent"] == "650.00"
    # She keeps hers: saved, on to the next step, and the history says it was a choice.
    response = laptop.post(
        step_url(procedure, "loyer"),
        {**hidden_inputs(response.content.decode()), "garder-rent": "saisie", "action": "resoudre"},
    )
    assert response.status_code == 302 and response["Location"] == step_url(procedure, "identite")
    procedure.refresh_from_db()
    assert procedure.data["loyer"]["clean"]["rent"] == "700.00"
    assert procedure.events.filter(kind=ProcedureEvent.Kind.CONFLICT_RESOLVED, step="loyer").count() == 1


def hidden_inputs(content: str) -> dict:
    """The hidden inputs of the conflict page's form (a key sent several times keeps a list)."""
    form = content.split('action="resoudre"')[0].rsplit("<form", 1)[1]
    fields: dict = {}
    for name, value in re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', form):
        fields.setdefault(name, []).append(value)
    return {k: v if len(v) > 1 else v[0] for k, v in fields.items()}


def test_keeping_the_saved_value_keeps_it_and_the_other_fields_typed_on_this_page(family):
    claire = family.responsible
    procedure = fill(claire, started(claire), "logement")
    phone, laptop = signed_in(claire), signed_in(claire)
    version = version_of(laptop.get(step_url(procedure, "loyer")))
    post_step(phone, procedure, "loyer", version=version)
    changed = {**HOUSING["loyer"], "rent": "700", "landlord": "Bailleur Social Lyonnais"}
    response = post_step(laptop, procedure, "loyer", changed, version=version)
    assert response.status_code == 409
    response = laptop.post(
        step_url(procedure, "loyer"),
        {
            **hidden_inputs(response.content.decode()),
            "garder-rent": "enregistree",
            "garder-landlord": "saisie",
            "action": "resoudre",
        },
    )
    assert response.status_code == 302
    procedure.refresh_from_db()
    clean = procedure.data["loyer"]["clean"]
    assert (clean["rent"], clean["landlord"], clean["city"]) == ("650.00", "Bailleur Social Lyonnais", "Paris")


def test_a_date_in_conflict_is_one_choice_and_keeping_the_saved_one_keeps_its_three_parts(family):
    claire = family.responsible
    procedure = started(claire)
    phone, laptop = signed_in(claire), signed_in(claire)
    version = version_of(laptop.get(step_url(procedure, "logement")))
    post_step(phone, procedure, "logement", version=version)  # 1 September 2025
    other = {**HOUSING["logement"], "entered_day": "15", "entered_month": "10"}
    response = post_step(laptop, procedure, "logement", other, version=version)
    assert response.status_code == 409
    page = text_of(response)
    assert "Garder la valeur enregistrée : 1er septembre 2025" in page
    assert "Garder ma saisie : 15 octobre 2025" in page
    assert "garder-entered_day" not in response.content.decode()
    response = laptop.post(
        step_url(procedure, "logement"),
        {**hidden_inputs(response.content.decode()), "garder-entered_on": "enregistree", "action": "resoudre"},
    )
    assert response.status_code == 302
    procedure.refresh_from_db()
    assert procedure.data["logement"]["clean"]["entered_on"] == "2025-09-01"
    assert procedure.data["logement"]["raw"]["entered_day"] == "01"


def test_a_further_change_on_the_other_device_while_choosing_shows_the_conflict_again(family):
    claire = family.responsible
    procedure = fill(claire, started(claire), "logement")
    phone, laptop = signed_in(claire), signed_in(claire)
    version = version_of(laptop.get(step_url(procedure, "loyer")))
    phone_version = version_of(phone.get(step_url(procedure, "loyer")))
    post_step(phone, procedure, "loyer", version=phone_version)  # 650
    response = post_step(laptop, procedure, "loyer", {**HOUSING["loyer"], "rent": "700"}, version=version)
    assert response.status_code == 409
    choice = hidden_inputs(response.content.decode())
    # Meanwhile the phone saves again, 800.
    phone_version = version_of(phone.get(step_url(procedure, "loyer")))
    post_step(phone, procedure, "loyer", {**HOUSING["loyer"], "rent": "800"}, version=phone_version)
    response = laptop.post(step_url(procedure, "loyer"), {**choice, "garder-rent": "saisie", "action": "resoudre"})
    assert response.status_code == 409
    page = text_of(response)
    assert "Garder la valeur enregistrée : 800,00 €" in page and "Garder ma saisie : 700,00 €" in page
    procedure.refresh_from_db()
    assert procedure.data["loyer"]["clean"]["rent"] == "800.00"
    # Chosen against the newest version: saved.
    response = laptop.post(
        step_url(procedure, "loyer"),
        {**hidden_inputs(response.content.decode()), "garder-rent": "saisie", "action": "resoudre"},
    )
    assert response.status_code == 302
    procedure.refresh_from_db()
    assert procedure.data["loyer"]["clean"]["rent"] == "700.00"


def test_the_conflict_page_names_the_other_person_who_saved(delegated_family):
    family = delegated_family
    procedure = fill(family.responsible, started(family.responsible), "logement")
    claire, marc = signed_in(family.responsible), signed_in(family.spouse)
    version = version_of(claire.get(step_url(procedure, "loyer")))
    post_step(marc, procedure, "loyer", {**HOUSING["loyer"], "rent": "690"})
    response = post_step(claire, procedure, "loyer", version=version)
    assert response.status_code == 409
    assert f"par {str(family.spouse.person.display_name)}" in text_of(response)


# Summary, submission, receipt -------------------------------------------------------------------


def test_the_summary_lists_every_step_with_a_link_to_change_it_and_needs_the_attestation(family):
    client = signed_in(family.responsible)
    procedure = fill(family.responsible, started(family.responsible), "logement", "loyer", "identite", "ressources")
    summary = f"{LIST}{procedure.pk}/recapitulatif/"
    # Every step done: the draft is taken up at its summary.
    response = client.get(f"{LIST}{procedure.pk}/")
    assert response.status_code == 302 and response["Location"] == summary
    assert "Toutes les étapes sont remplies" in text_of(client.get(LIST))
    response = client.get(summary)
    assert response.status_code == 200
    content, page = response.content.decode(), text_of(response)
    for step in procedure.type.steps:
        assert step.title in page
        assert f'href="{step_url(procedure, step.slug)}"' in content
    assert "Paris Habitat" in page and "650,00" in page and "1er septembre 2025" in page
    assert "Je certifie sur l'honneur l'exactitude des informations" in page
    response = client.post(summary, {"version": version_of(response)})
    assert response.status_code == 400
    assert "Cochez la case pour certifier l'exactitude des informations" in text_of(response)
    procedure.refresh_from_db()
    assert procedure.is_draft
    response = client.post(summary, {"version": version_of(response), "attestation": "on"})
    assert response.status_code == 302 and response["Location"] == f"{LIST}{procedure.pk}/accuse-de-reception/"
    procedure.refresh_from_db()
    assert procedure.state == Procedure.State.SUBMITTED and procedure.reference


def test_a_summary_read_before_a_change_on_another_device_is_not_sent(family):
    client = signed_in(family.responsible)
    procedure = fill(family.responsible, started(family.responsible), "logement", "loyer", "identite", "ressources")
    summary = f"{LIST}{procedure.pk}/recapitulatif/"
    old = version_of(client.get(summary))
    fill(family.responsible, procedure, "loyer")
    response = client.post(summary, {"version": old, "attestation": "on"})
    assert response.status_code == 409
    assert "modifiée sur un autre appareil" in text_of(response)
    procedure.refresh_from_db()
    assert procedure.is_draft and version_of(response) == str(procedure.version)


def test_a_request_sent_is_read_only(family):
    client = signed_in(family.responsible)
    procedure = submitted(family.responsible)
    data, version = procedure.data, procedure.version
    response = client.post(step_url(procedure, "loyer"), {**HOUSING["loyer"], "rent": "900", "version": version})
    assert response.status_code == 409
    assert "Cette demande a été envoyée" in text_of(response)
    procedure.refresh_from_db()
    assert procedure.data == data and procedure.version == version
    # Its pages open the receipt.
    for url in (step_url(procedure, "loyer"), f"{LIST}{procedure.pk}/", f"{LIST}{procedure.pk}/recapitulatif/"):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"] == f"{LIST}{procedure.pk}/accuse-de-reception/"
    response = client.post(f"{LIST}{procedure.pk}/recapitulatif/", {"version": version, "attestation": "on"})
    assert response.status_code == 302


def test_the_receipt_shows_the_reference_who_sent_it_the_answers_the_next_steps_and_the_history(delegated_family):
    family = delegated_family
    procedure = fill(family.spouse, started(family.responsible), "logement")
    procedure = submitted(family.responsible, procedure)
    response = signed_in(family.responsible).get(f"{LIST}{procedure.pk}/accuse-de-reception/")
    assert response.status_code == 200
    content, page = response.content.decode(), text_of(response)
    assert "Demande envoyée" in page and procedure.reference in page
    assert "par vous" in page
    assert date_fr(timezone.localtime(procedure.submitted_at), "j F Y à H:i") in page
    assert "Paris Habitat" in page and procedure.type.next_steps in page
    assert "Étape enregistrée : Votre logement" in page
    assert str(family.spouse.person.display_name) in page  # he saved the first step
    assert f'href="{LIST}{procedure.pk}/accuse-de-reception.pdf"' in content
    assert "Modifier" not in page
    # The spouse with the delegation sees it, sent by Claire.
    page = text_of(signed_in(family.spouse).get(f"{LIST}{procedure.pk}/accuse-de-reception/"))
    assert f"par {str(family.responsible.person.display_name)}" in page
    entry = JournalEntry.objects.filter(action="procedure.viewed").latest("id")
    assert entry.detail["what"] == "receipt"


def test_a_drafts_receipt_opens_its_resume_step(family):
    client = signed_in(family.responsible)
    procedure = fill(family.responsible, started(family.responsible), "logement")
    for url in (f"{LIST}{procedure.pk}/accuse-de-reception/", f"{LIST}{procedure.pk}/accuse-de-reception.pdf"):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"] == step_url(procedure, "loyer")


def test_the_receipt_pdf_is_a_download_named_after_the_reference(family):
    procedure = submitted(family.responsible)
    response = signed_in(family.responsible).get(f"{LIST}{procedure.pk}/accuse-de-reception.pdf")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == f'attachment; filename="accuse-de-reception-{procedure.reference}.pdf"'
    assert response.content.startswith(b"%PDF")
    assert JournalEntry.objects.filter(action="procedure.viewed").latest("id").detail["what"] == "receipt_pdf"


# The visitor: the steps before the identity, with the session's token -------------------------


def visitor_client(type_code=HOUSING_AID) -> tuple[Client, Procedure]:
    started = procedure_start(actor=visitor(), type_code=type_code)
    client = Client()
    session = client.session
    session[VISITOR_KEY] = {"token": started.visitor_token, "procedure": started.procedure.pk}
    session.save()
    return client, started.procedure


def test_a_visitor_fills_the_steps_before_the_identity_then_is_asked_who_makes_the_request():
    client, procedure = visitor_client()
    response = client.get(step_url(procedure, "logement"))
    assert response.status_code == 200
    content = response.content.decode()
    assert "Enregistrer et continuer" in content and 'value="quitter"' not in content
    assert post_step(client, procedure, "logement").status_code == 302
    assert post_step(client, procedure, "loyer")["Location"] == step_url(procedure, "identite")
    response = client.get(step_url(procedure, "identite"))
    assert response.status_code == 200
    assert "nous devons savoir qui fait la demande" in text_of(response)
    # Nothing later is reachable without an account; posting the identity step neither.
    assert "nous devons savoir qui fait la demande" in text_of(client.get(step_url(procedure, "ressources")))
    response = client.post(step_url(procedure, "identite"), {"confirm": "on", "version": "3"})
    assert "nous devons savoir qui fait la demande" in text_of(response)
    procedure.refresh_from_db()
    assert set(procedure.data) == {"logement", "loyer"} and procedure.person_id is None


def test_without_the_visitors_token_the_draft_is_not_found_or_asks_to_sign_in(family):
    _, procedure = visitor_client()
    other, _ = visitor_client()  # another visitor, with their own draft
    for url in urls_of(procedure)[:3]:
        assert other.get(url).status_code == 404, url
    assert other.post(step_url(procedure, "logement"), {**HOUSING["logement"], "version": "1"}).status_code == 404
    anonymous = Client()
    response = anonymous.get(step_url(procedure, "logement"))
    assert response.status_code == 302 and response["Location"].startswith("/connexion/?next=")
    # A signed-in member of a file does not open a visitor's draft either.
    assert signed_in(family.responsible).get(step_url(procedure, "logement")).status_code == 404
    procedure.refresh_from_db()
    assert procedure.data == {}


# Partner data, live (the partner simulator over HTTP) -------------------------------------------

TAX = {
    "revenu_fiscal_de_reference": 21350,
    "nombre_de_parts": "2.5",
    "situation_familiale": "marie",
    "annee_des_revenus": datetime.date.today().year - 1,
}
MONTHS = {
    "mois": [
        {"mois": "2026-08", "salaires_cents": 150000, "indemnites_chomage_cents": 0, "pensions_cents": 0},
        {"mois": "2026-09", "salaires_cents": 150000, "indemnites_chomage_cents": 20000, "pensions_cents": 0},
        {"mois": "2026-10", "salaires_cents": 162000, "indemnites_chomage_cents": 0, "pensions_cents": 1200},
    ]
}
QUARTER = "4832.00"  # the three months' salaries, benefits and pensions
TAX_LABEL = "Direction générale des Finances publiques (impôts)"


@pytest.fixture
def partners(partner_simulator, family):
    nir = family.responsible.person.identifier.value
    partner_simulator.person("impots", nir, TAX)
    partner_simulator.person("drm", nir, MONTHS)
    return partner_simulator


def at_resources(family):
    return fill(family.responsible, started(family.responsible), "logement", "loyer", "identite")


def told(procedure, source: str) -> str:
    """When the page says the partner's data was fetched."""
    procedure.refresh_from_db()
    fetched = datetime.datetime.fromisoformat(procedure.partner_data[source]["fetched_at"])
    return date_fr(timezone.localtime(fetched), "j F Y à H:i")


def input_value(content: str, name: str) -> str | None:
    found = re.search(rf'name="{name}"(?: value="([^"]*)")?', content)
    return found.group(1) if found else None


def test_a_prefilled_step_shows_the_partners_data_with_its_source_and_date(family, partners):
    client = signed_in(family.responsible)
    procedure = at_resources(family)
    response = client.get(step_url(procedure, "ressources"))
    assert response.status_code == 200
    content, page = response.content.decode(), text_of(response)
    drm_label = "Dispositif de ressources mensuelles"
    assert f"Informations transmises par {TAX_LABEL} le {told(procedure, 'impots')}." in page
    assert f"Informations transmises par {drm_label}" in page
    assert (input_value(content, "reference_income"), input_value(content, "tax_shares")) == ("21350", "2.5")
    assert input_value(content, "last_quarter_resources") == QUARTER
    assert page.count(f"Pré-rempli : {TAX_LABEL}") == 2 and "Pré-rempli : Dispositif de ressources mensuelles" in page
    assert "Saisissez-les vous-même." not in page
    # Journaled: which partners were shown, never what they said.
    entry = JournalEntry.objects.filter(action="procedure.partner_data").latest("id")
    assert entry.detail == {
        "procedure": procedure.pk,
        "type": HOUSING_AID,
        "step": "ressources",
        "got": ["drm", "impots"],
        "missing": [],
    }
    assert "21350" not in str(entry.detail) and entry.dossier_id == family.dossier.pk


def test_a_partner_that_does_not_answer_is_said_missing_and_its_fields_are_left_to_type(family, partners):
    partners.person("drm", family.responsible.person.identifier.value, None)  # the DRM does not know her
    partners.fail("impots", 10)
    client = signed_in(family.responsible)
    procedure = at_resources(family)
    response = client.get(step_url(procedure, "ressources"))
    assert response.status_code == 200
    content, page = response.content.decode(), text_of(response)
    assert "ne connaît pas votre situation. Saisissez-les vous-même." in page
    assert "est momentanément indisponible. Saisissez-les vous-même." in page
    assert "Informations transmises par" not in page and "Pré-rempli" not in page
    for name in ("reference_income", "tax_shares", "last_quarter_resources"):
        assert input_value(content, name) is None
    entry = JournalEntry.objects.filter(action="procedure.partner_data").latest("id")
    assert (entry.detail["got"], entry.detail["missing"]) == ([], ["drm", "impots"])
    # She types them: the step is saved as usual.
    assert post_step(client, procedure, "ressources").status_code == 302


def test_another_device_shows_the_partners_earlier_answer_when_the_partner_fails_now(family, partners):
    procedure = at_resources(family)
    signed_in(family.responsible).get(step_url(procedure, "ressources"))
    when = told(procedure, "impots")
    partners.fail("impots", 10)
    partners.fail("drm", 10)
    from django.core.cache import cache

    cache.clear()  # nothing from the partners' cache: the partners fail now
    response = signed_in(family.responsible).get(step_url(procedure, "ressources"))
    page = text_of(response)
    assert f"Informations transmises par {TAX_LABEL} le {when}." in page
    assert input_value(response.content.decode(), "reference_income") == "21350"


def test_a_partner_value_corrected_is_kept_and_the_summary_says_so(family, partners):
    client = signed_in(family.responsible)
    procedure = at_resources(family)
    typed = {"reference_income": "19000", "tax_shares": "2.5", "last_quarter_resources": QUARTER}
    response = post_step(client, procedure, "ressources", {**typed, "tax_shares": "0", "reference_income": ""})
    assert response.status_code == 400
    page = text_of(response)
    assert "Au moins 1 part." in page and 'id="id_reference_income-erreur"' in response.content.decode()
    assert f"Informations transmises par {TAX_LABEL}" in page  # the partners' data still said
    response = post_step(client, procedure, "ressources", typed)
    assert response.status_code == 302 and response["Location"] == f"{LIST}{procedure.pk}/recapitulatif/"
    procedure.refresh_from_db()
    assert procedure.data["ressources"]["clean"]["reference_income"] == "19000.00"
    assert sorted(procedure.corrections) == ["reference_income"]
    page = text_of(client.get(f"{LIST}{procedure.pk}/recapitulatif/"))
    assert f"19 000,00 € — corrigé par vous (valeur transmise : 21 350,00 €, par {TAX_LABEL})" in page
    # The step shows what she typed, not the partner's value, and says it was corrected.
    response = client.get(step_url(procedure, "ressources"))
    assert input_value(response.content.decode(), "reference_income") == "19000"
    assert f"Valeur transmise par {TAX_LABEL} : 21" in text_of(response)


def test_a_partner_value_kept_as_it_was_is_no_correction(family, partners):
    client = signed_in(family.responsible)
    procedure = at_resources(family)
    version = version_of(client.get(step_url(procedure, "ressources")))
    typed = {"reference_income": "21350", "tax_shares": "2.5", "last_quarter_resources": QUARTER}
    assert post_step(client, procedure, "ressources", typed, version=version).status_code == 302
    procedure.refresh_from_db()
    assert procedure.corrections == {}
