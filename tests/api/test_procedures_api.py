"""/api/v1/procedures/ (moncompte.api.v1.procedures): the types to start, the list, one
procedure, its steps (read, save with the version, conflicts, field errors), the submission, the
abandon and the receipt; the policy as on the pages (another member, a stranger: 404); the page
and the API reading and writing the same drafts (one engine)."""

import datetime
import re

import pytest
from django.test import Client

from moncompte.audit.models import JournalEntry
from moncompte.procedures.models import Procedure
from moncompte.procedures.registry import procedure_type, procedure_types
from moncompte.procedures.services import procedure_start, step_save
from moncompte.procedures.summary import procedure_summary
from tests.conftest import sign_in
from tests.factories import AccountFactory, api_token_for, bearer, make_household
from tests.procedures.helpers import HOUSING, acting

pytestmark = pytest.mark.django_db

BASE = "/api/v1/procedures/"
HOUSING_AID = "aide-au-logement"
# The housing aid's steps as the API sends them: the entry date as one ISO date.
LOGEMENT = {"status": "locataire", "kind": "appartement", "furnished": False, "entered_on": "2025-09-01"}
LOYER = {k: v for k, v in HOUSING["loyer"].items()}
IDENTITE = {"confirm": True}
RESSOURCES = dict(HOUSING["ressources"])


class Api:
    """A client of the API with the bearer token of one account."""

    def __init__(self, account):
        self.client = Client()
        self.headers = bearer(api_token_for(account)) if account is not None else {}

    def get(self, path, **extra):
        return self.client.get(path, **self.headers, **extra)

    def post(self, path, data=None):
        return self.client.post(path, data or {}, content_type="application/json", **self.headers)

    def put(self, path, data):
        return self.client.put(path, data, content_type="application/json", **self.headers)

    def step(self, procedure_id, slug):
        return self.get(f"{BASE}{procedure_id}/steps/{slug}/")

    def save(self, procedure_id, slug, values, version):
        return self.put(f"{BASE}{procedure_id}/steps/{slug}/", {"version": version, "values": values})

    def start(self, code=HOUSING_AID):
        return self.post(BASE, {"type": code})


def api(member) -> Api:
    return Api(member.account)


def assert_refused(response, status: int, code: str) -> dict:
    assert response.status_code == status, (response.status_code, response.content[:500])
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["code"] == code and body["message"]
    return body


def started(member, code=HOUSING_AID) -> Procedure:
    return procedure_start(actor=acting(member.person), type_code=code).procedure


def saved_by_engine(member, procedure, *slugs) -> Procedure:
    for slug in slugs:
        procedure = step_save(
            actor=acting(member.person),
            procedure=procedure,
            slug=slug,
            data=HOUSING[slug],
            base_version=procedure.version,
        ).procedure
    return procedure


def filled_through_api(client: Api, procedure_id: int) -> int:
    version = client.get(f"{BASE}{procedure_id}/").json()["version"]
    for slug, values in (("logement", LOGEMENT), ("loyer", LOYER), ("identite", IDENTITE), ("ressources", RESSOURCES)):
        response = client.save(procedure_id, slug, values, version)
        assert response.status_code == 200, response.json()
        version = response.json()["version"]
    return version


def urls_of(procedure_id: int) -> list[tuple[str, str]]:
    base = f"{BASE}{procedure_id}/"
    return [
        ("get", base),
        ("get", f"{base}steps/logement/"),
        ("put", f"{base}steps/logement/"),
        ("post", f"{base}submit/"),
        ("post", f"{base}cancel/"),
        ("get", f"{base}receipt/"),
    ]


def call(client: Api, method: str, url: str):
    if method == "get":
        return client.get(url)
    if method == "put":
        return client.put(url, {"version": 1, "values": LOGEMENT})
    return client.post(url, {"version": 1, "attested": True})


# No token, a token of another kind of account --------------------------------------------------


def test_without_a_token_every_endpoint_answers_401_in_json(family):
    procedure = started(family.responsible)
    anonymous = Api(None)
    for method, url in [("get", BASE), ("post", BASE), ("get", f"{BASE}types/"), *urls_of(procedure.pk)]:
        response = call(anonymous, method, url)
        body = assert_refused(response, 401, "not_authenticated")
        assert body["message"] == "Connectez-vous pour utiliser ce service."
        assert "no-store" in response["Cache-Control"] and "private" in response["Cache-Control"]
    wrong = Client().get(BASE, HTTP_AUTHORIZATION="Bearer pas-un-jeton")
    assert wrong.status_code == 401 and wrong.json()["code"] in ("not_authenticated", "authentication_failed")
    procedure.refresh_from_db()
    assert procedure.data == {} and procedure.version == 1


def test_an_account_without_a_validated_contact_is_refused_as_on_the_pages(family):
    account = AccountFactory(with_contact=False)
    assert_refused(Api(account).get(BASE), 403, "contact_required")


# The types and the list ------------------------------------------------------------------------


def test_the_types_are_those_the_actor_may_start_with_their_steps(family):
    responsible = api(family.responsible).get(f"{BASE}types/")
    assert responsible.status_code == 200 and "no-store" in responsible["Cache-Control"]
    rows = responsible.json()
    assert [row["code"] for row in rows] == [t.code for t in procedure_types()]
    housing = next(row for row in rows if row["code"] == HOUSING_AID)
    declared = procedure_type(HOUSING_AID)
    assert housing["label"] == declared.label and housing["concerning"] == "household"
    assert housing["steps"] == [{"slug": s.slug, "title": s.title} for s in declared.steps]
    assert housing["draft"] is None
    assert next(row for row in rows if row["code"] == "separation")["concerning"] == "author"
    # The spouse without the delegation may only declare the separation; the child nothing.
    assert [row["code"] for row in api(family.spouse).get(f"{BASE}types/").json()] == ["separation"]
    assert api(family.child).get(f"{BASE}types/").json() == []
    # A draft in progress of a type is offered to be resumed.
    procedure = started(family.responsible)
    rows = api(family.responsible).get(f"{BASE}types/").json()
    assert next(row for row in rows if row["code"] == HOUSING_AID)["draft"] == procedure.pk


def test_start_makes_a_draft_journaled_through_the_api_and_a_second_start_resumes_it(family):
    client = api(family.responsible)
    response = client.start()
    assert response.status_code == 201
    body = response.json()
    procedure = Procedure.objects.get(pk=body["id"])
    assert (body["state"], body["resumed"], body["type"]) == ("draft", False, HOUSING_AID)
    assert body["current_step"] == {"slug": "logement", "title": "Votre logement", "position": 1, "total": 4}
    assert body["missing"] == ["logement", "loyer", "identite", "ressources"] and not body["complete"]
    assert procedure.dossier == family.dossier and procedure.person == family.responsible.person
    entry = JournalEntry.objects.get(action="procedure.started")
    assert entry.channel == "api" and entry.detail == {"procedure": procedure.pk, "type": HOUSING_AID}
    again = client.start()
    assert again.status_code == 200 and again.json()["resumed"] is True and again.json()["id"] == procedure.pk
    assert Procedure.objects.count() == 1


def test_start_refusals_are_json(family):
    assert_refused(api(family.child).start(), 404, "not_found")
    assert_refused(api(family.responsible).start("pas-un-type"), 404, "not_found")
    missing = assert_refused(api(family.responsible).post(BASE, {}), 400, "invalid")
    assert missing["errors"] == {"type": ["Indiquez le type de démarche."]} and missing["field"] == "type"
    malformed = api(family.responsible).client.post(
        BASE, b"{pas du json", content_type="application/json", **api(family.responsible).headers
    )
    assert_refused(malformed, 400, "malformed")
    assert not Procedure.objects.exists()


def test_the_list_is_paginated_and_holds_what_the_actor_may_see(delegated_family):
    family = delegated_family
    household = started(family.responsible)
    separation = started(family.spouse, "separation")
    listing = api(family.responsible).get(BASE)
    assert listing.status_code == 200
    body = listing.json()
    assert body["count"] == 1 and [row["id"] for row in body["results"]] == [household.pk]
    row = body["results"][0]
    assert (row["state"], row["concerning"], row["version"]) == ("draft", "household", household.version)
    # The delegated spouse sees the household's draft and their own separation, the newest first.
    body = api(family.spouse).get(f"{BASE}?taille=1").json()
    assert body["count"] == 2 and [row["id"] for row in body["results"]] == [separation.pk]
    assert body["next"] and "page=2" in body["next"]
    second = api(family.spouse).get(f"{BASE}?taille=1&page=2").json()
    assert [row["id"] for row in second["results"]] == [household.pk]
    assert_refused(api(family.spouse).get(f"{BASE}?page=9"), 404, "not_found")


# The policy: who does not see a procedure gets 404, as on the pages ------------------------------


@pytest.mark.parametrize("who", ["spouse", "child", "stranger", "stranger_spouse"])
def test_who_may_not_see_a_procedure_gets_404_everywhere_and_changes_nothing(family, who):
    procedure = saved_by_engine(family.responsible, started(family.responsible), "logement")
    strangers = make_household(caf=family.caf, birth_name=family.responsible.person.birth_name, delegated=True)
    member = {
        "spouse": family.spouse,  # S: no delegation
        "child": family.child,  # M
        "stranger": strangers.responsible,  # R of another file of the same Caf, the same names
        "stranger_spouse": strangers.spouse,  # S+ of that other file
    }[who]
    client = api(member)
    for method, url in urls_of(procedure.pk):
        assert_refused(call(client, method, url), 404, "not_found")
    assert procedure.pk not in [row["id"] for row in client.get(BASE).json()["results"]]
    # Whatever is sent: not found before the body is read.
    assert_refused(client.put(f"{BASE}{procedure.pk}/steps/logement/", {"values": 1}), 404, "not_found")
    assert client.get(f"{BASE}{procedure.pk + 1000}/").status_code == 404
    before = procedure.version
    procedure.refresh_from_db()
    assert procedure.version == before and procedure.state == Procedure.State.DRAFT


def test_the_delegated_spouse_continues_the_households_draft_in_his_own_name(delegated_family):
    family = delegated_family
    procedure = started(family.responsible)
    response = api(family.spouse).save(procedure.pk, "logement", LOGEMENT, procedure.version)
    assert response.status_code == 200
    entry = JournalEntry.objects.filter(action="procedure.step_saved").latest("id")
    assert entry.actor_person == family.spouse.person and entry.channel == "api"
    history = api(family.responsible).get(f"{BASE}{procedure.pk}/").json()["history"]
    assert history[-1]["kind"] == "step_saved" and history[-1]["by"] == family.spouse.person.display_name
    assert history[0]["by"] == "vous"


def test_a_draft_is_gone_for_the_spouse_once_the_delegation_is_withdrawn(delegated_family):
    family = delegated_family
    procedure = started(family.responsible)
    client = api(family.spouse)
    assert client.get(f"{BASE}{procedure.pk}/").status_code == 200
    member = family.spouse.member
    member.delegation_granted_at = None
    member.save(update_fields=["delegation_granted_at"])
    assert_refused(client.get(f"{BASE}{procedure.pk}/"), 404, "not_found")


# A step ----------------------------------------------------------------------------------------


def test_a_step_gives_its_fields_in_order_with_a_date_as_one_value(family):
    procedure = started(family.responsible)
    response = api(family.responsible).step(procedure.pk, "logement")
    assert response.status_code == 200
    body = response.json()
    form = procedure_type(HOUSING_AID).step("logement").form()
    fields = {f["name"]: f for f in body["fields"]}
    assert list(fields) == ["status", "kind", "furnished", "entered_on"]
    assert [fields[name]["type"] for name in fields] == ["choice", "choice", "boolean", "date"]
    assert fields["status"]["label"] == form.fields["status"].label and fields["status"]["required"]
    assert fields["status"]["choices"] == [
        {"value": v, "label": str(label)} for v, label in form.fields["status"].choices
    ]
    assert not fields["furnished"]["required"] and fields["entered_on"]["label"] == "Date d'entrée dans le logement"
    assert (body["version"], body["saved"], body["values"], body["read_only"]) == (procedure.version, False, {}, False)
    assert (body["position"], body["total"], body["previous_step"], body["next_step"]) == (1, 4, None, "loyer")
    entry = JournalEntry.objects.get(action="procedure.viewed")
    assert entry.detail["what"] == "step:logement" and entry.channel == "api"


def test_a_step_saved_gives_the_new_version_and_reads_back_as_saved(family):
    client = api(family.responsible)
    procedure = started(family.responsible)
    response = client.save(procedure.pk, "logement", LOGEMENT, procedure.version)
    assert response.status_code == 200
    body = response.json()
    assert (body["version"], body["next_step"], body["merged"], body["complete"]) == (
        procedure.version + 1,
        "loyer",
        False,
        False,
    )
    procedure.refresh_from_db()
    assert procedure.version == body["version"]
    assert procedure.data["logement"]["clean"]["entered_on"] == "2025-09-01"
    assert procedure.data["logement"]["raw"]["entered_day"] == "01"
    read = client.step(procedure.pk, "logement").json()
    assert read["saved"] and read["values"] == LOGEMENT
    detail = client.get(f"{BASE}{procedure.pk}/").json()
    rows = {row["name"]: row["value"] for row in detail["sections"][0]["rows"]}
    assert rows["entered_on"] == "1er septembre 2025" and rows["status"] == "Locataire"
    assert detail["current_step"]["slug"] == "loyer" and detail["steps"][0]["done"]
    entry = JournalEntry.objects.get(action="procedure.step_saved")
    assert entry.channel == "api" and entry.detail["version"] == procedure.version


def test_invalid_values_answer_400_with_the_forms_french_messages_and_save_nothing(family):
    client = api(family.responsible)
    procedure = started(family.responsible)
    future = (datetime.date.today() + datetime.timedelta(days=40)).isoformat()
    response = client.save(procedure.pk, "logement", {"kind": "chateau", "entered_on": future}, procedure.version)
    body = assert_refused(response, 400, "invalid")
    assert body["errors"] == {
        "status": ["Indiquez si vous êtes locataire, colocataire, etc."],
        "kind": ["Choix non valide."],
        "entered_on": ["La date d'entrée dans le logement ne peut pas être dans le futur."],
    }
    assert body["field"] == "status" and body["message"] == "Le formulaire contient des erreurs."
    # What the API cannot read at all: a name the step does not have, a date not as AAAA-MM-JJ, an object.
    response = client.save(
        procedure.pk, "logement", {**LOGEMENT, "entered_on": "01/09/2025", "extra": "x", "kind": {"a": 1}}, 1
    )
    body = assert_refused(response, 400, "invalid")
    assert body["errors"] == {
        "entered_on": ["Saisissez la date au format AAAA-MM-JJ, par exemple 2026-09-01."],
        "extra": ["Ce champ n'existe pas à cette étape."],
        "kind": ["Cette valeur ne peut pas être lue : saisissez un texte, un nombre, vrai ou faux."],
    }
    missing = assert_refused(client.put(f"{BASE}{procedure.pk}/steps/logement/", {"values": LOGEMENT}), 400, "invalid")
    assert missing["errors"] == {"version": ["Indiquez la version de la démarche sur laquelle vous vous appuyez."]}
    procedure.refresh_from_db()
    assert procedure.data == {} and procedure.version == 1
    assert not JournalEntry.objects.filter(action="procedure.step_saved").exists()


def test_an_unknown_step_is_not_found_and_a_step_not_reached_says_which_to_fill(family):
    client = api(family.responsible)
    procedure = started(family.responsible)
    assert_refused(client.step(procedure.pk, "pas-une-etape"), 404, "not_found")
    body = assert_refused(client.save(procedure.pk, "loyer", LOYER, procedure.version), 409, "not_reached")
    assert body["step"] == "logement"
    assert assert_refused(client.step(procedure.pk, "ressources"), 409, "not_reached")["step"] == "logement"
    procedure.refresh_from_db()
    assert procedure.data == {}


def test_two_saves_from_the_same_version_the_second_gets_409_with_both_values(delegated_family):
    family = delegated_family
    procedure = saved_by_engine(family.responsible, started(family.responsible), "logement", "loyer")
    version = procedure.version
    first = api(family.responsible).save(procedure.pk, "loyer", {**LOYER, "rent": "700"}, version)
    assert first.status_code == 200
    second = api(family.spouse).save(procedure.pk, "loyer", {**LOYER, "rent": "720"}, version)
    body = assert_refused(second, 409, "conflict")
    assert body["current_version"] == first.json()["version"]
    assert body["saved_by"] == family.responsible.person.display_name
    assert body["conflicts"] == [
        {
            "name": "rent",
            "label": "Loyer mensuel, hors charges",
            "theirs": "700.00",
            "mine": "720.00",
            "theirs_display": "700,00 €",
            "mine_display": "720,00 €",
        }
    ]
    procedure.refresh_from_db()
    assert procedure.version == body["current_version"] and procedure.data["loyer"]["clean"]["rent"] == "700.00"
    # The spouse chooses their value, from the version now saved: recorded as a resolved conflict.
    resolved = api(family.spouse).put(
        f"{BASE}{procedure.pk}/steps/loyer/",
        {"version": body["current_version"], "values": {**LOYER, "rent": "720"}, "resolved": True},
    )
    assert resolved.status_code == 200
    procedure.refresh_from_db()
    assert procedure.data["loyer"]["clean"]["rent"] == "720.00"
    assert procedure.events.filter(kind="conflict_resolved").count() == 1


def test_a_stale_save_of_a_field_nobody_changed_is_merged(family):
    client = api(family.responsible)
    procedure = saved_by_engine(family.responsible, started(family.responsible), "logement", "loyer")
    version = procedure.version
    assert client.save(procedure.pk, "loyer", {**LOYER, "rent": "700"}, version).status_code == 200
    merged = client.save(procedure.pk, "loyer", {**LOYER, "rent": "700", "landlord": "Autre bailleur"}, version)
    assert merged.status_code == 200 and merged.json()["merged"] is True


# Submission, abandon, receipt ------------------------------------------------------------------


def test_submitting_an_incomplete_request_says_what_is_missing(family):
    client = api(family.responsible)
    procedure = saved_by_engine(family.responsible, started(family.responsible), "logement")
    body = assert_refused(
        client.post(f"{BASE}{procedure.pk}/submit/", {"version": procedure.version, "attested": True}),
        400,
        "incomplete",
    )
    assert body["step"] == "loyer" and body["missing"] == ["loyer", "identite", "ressources"]
    detail = client.get(f"{BASE}{procedure.pk}/").json()
    assert detail["missing"] == ["loyer", "identite", "ressources"]
    procedure.refresh_from_db()
    assert procedure.state == Procedure.State.DRAFT


def test_a_request_is_sent_attested_then_read_only_with_its_pdf_receipt(family):
    client = api(family.responsible)
    procedure_id = client.start().json()["id"]
    version = filled_through_api(client, procedure_id)
    unattested = client.post(f"{BASE}{procedure_id}/submit/", {"version": version, "attested": False})
    body = assert_refused(unattested, 400, "attestation")
    assert body["field"] == "attestation" and body["message"].startswith("Cochez la case pour certifier")
    stale = client.post(f"{BASE}{procedure_id}/submit/", {"version": version - 1, "attested": True})
    assert assert_refused(stale, 409, "conflict")["current_version"] == version
    assert_refused(client.get(f"{BASE}{procedure_id}/receipt/"), 404, "not_found")  # a draft has none

    sent = client.post(f"{BASE}{procedure_id}/submit/", {"version": version, "attested": True})
    assert sent.status_code == 200
    body = sent.json()
    procedure = Procedure.objects.get(pk=procedure_id)
    assert body["state"] == "submitted" and body["read_only"] and body["reference"] == procedure.reference
    assert body["submitted_by"] == "vous" and body["current_step"] is None and body["missing"] == []
    entry = JournalEntry.objects.get(action="procedure.submitted")
    assert entry.channel == "api" and entry.detail["reference"] == procedure.reference

    assert_refused(client.save(procedure_id, "loyer", LOYER, body["version"]), 409, "read_only")
    assert_refused(client.post(f"{BASE}{procedure_id}/cancel/"), 409, "read_only")
    again = client.post(f"{BASE}{procedure_id}/submit/", {"version": body["version"], "attested": True})
    assert_refused(again, 409, "read_only")
    read = client.step(procedure_id, "loyer").json()
    assert read["read_only"] and read["values"]["rent"] == "650.00"

    receipt = client.get(f"{BASE}{procedure_id}/receipt/", HTTP_ACCEPT="application/pdf")
    assert receipt.status_code == 200 and receipt["Content-Type"] == "application/pdf"
    assert receipt.content.startswith(b"%PDF")
    assert receipt["Content-Disposition"] == f'attachment; filename="accuse-de-reception-{procedure.reference}.pdf"'
    assert "no-store" in receipt["Cache-Control"] and "private" in receipt["Cache-Control"]
    assert JournalEntry.objects.filter(action="procedure.viewed", detail__what="receipt_pdf").exists()


def test_a_draft_is_abandoned_its_values_wiped_then_not_found(family):
    client = api(family.responsible)
    procedure = saved_by_engine(family.responsible, started(family.responsible), "logement")
    response = client.post(f"{BASE}{procedure.pk}/cancel/")
    assert response.status_code == 200
    assert response.json() == {
        "id": procedure.pk,
        "state": "cancelled",
        "message": "La démarche « Demande d'aide au logement » est abandonnée : ses réponses sont effacées.",
    }
    procedure.refresh_from_db()
    assert procedure.state == Procedure.State.CANCELLED and procedure.data == {}
    assert JournalEntry.objects.get(action="procedure.cancelled").channel == "api"
    assert_refused(client.get(f"{BASE}{procedure.pk}/"), 404, "not_found")


# One engine: the page and the API read and write the same drafts ---------------------------------


def test_a_draft_saved_on_the_page_reads_the_same_through_the_api_and_back(family):
    browser = Client()
    assert sign_in(browser, *family.responsible.credentials).status_code == 302
    procedure = started(family.responsible)
    page = browser.get(f"/mon-compte/demarches/{procedure.pk}/logement/")
    version = re.search(r'name="version" value="(\d+)"', page.content.decode()).group(1)
    posted = browser.post(
        f"/mon-compte/demarches/{procedure.pk}/logement/",
        {**HOUSING["logement"], "version": version, "action": "continuer"},
    )
    assert posted.status_code == 302
    client = api(family.responsible)
    read = client.step(procedure.pk, "logement").json()
    assert read["values"] == LOGEMENT
    procedure.refresh_from_db()
    detail = client.get(f"{BASE}{procedure.pk}/").json()
    assert [[(row["label"], row["value"]) for row in section["rows"]] for section in detail["sections"]] == [
        [(row.label, row.value) for row in section.rows] for section in procedure_summary(procedure)
    ]
    # Saved through the API, the page shows what was sent.
    assert client.save(procedure.pk, "loyer", {**LOYER, "rent": "812,40"}, read["version"]).status_code == 200
    shown = browser.get(f"/mon-compte/demarches/{procedure.pk}/loyer/").content.decode()
    assert 'value="812,40"' in shown


# The partners' data, as the page shows it (the partner simulator over HTTP) ---------------------

TAX = {
    "revenu_fiscal_de_reference": 21350,
    "nombre_de_parts": "2.5",
    "situation_familiale": "marie",
    "annee_des_revenus": datetime.date.today().year - 1,
}
TAX_LABEL = "Direction générale des Finances publiques (impôts)"


def test_a_prefilled_step_gives_the_partners_values_with_their_source_and_a_correction_is_kept(
    family, partner_simulator
):
    partner_simulator.person("impots", family.responsible.person.identifier.value, TAX)
    partner_simulator.person("drm", family.responsible.person.identifier.value, None)  # the DRM does not know her
    procedure = saved_by_engine(family.responsible, started(family.responsible), "logement", "loyer", "identite")
    client = api(family.responsible)
    body = client.step(procedure.pk, "ressources").json()
    fields = {f["name"]: f for f in body["fields"]}
    assert fields["reference_income"]["prefilled"]["value"] == "21350"
    assert fields["reference_income"]["prefilled"]["source"] == TAX_LABEL
    assert fields["tax_shares"]["prefilled"]["value"] == "2.5" and fields["last_quarter_resources"]["prefilled"] is None
    assert [shown["source"] for shown in body["partners_shown"]] == [TAX_LABEL]
    assert len(body["partners_missing"]) == 1 and "ne connaît pas votre situation" in body["partners_missing"][0]
    entry = JournalEntry.objects.filter(action="procedure.partner_data").latest("id")
    assert entry.channel == "api" and entry.detail["got"] == ["impots"]
    # She types another income: recorded as a correction, which the step and the summary say.
    typed = {"reference_income": "19000", "tax_shares": "2,5", "last_quarter_resources": "4500"}
    saved = client.save(procedure.pk, "ressources", typed, body["version"])
    assert saved.status_code == 200 and saved.json()["corrected"] == ["reference_income"]
    field = {f["name"]: f for f in client.step(procedure.pk, "ressources").json()["fields"]}["reference_income"]
    assert field["correction"] == {"source": TAX_LABEL, "partner_value": "21\u202f350,00 €"}
    rows = {row["name"]: row for row in client.get(f"{BASE}{procedure.pk}/").json()["sections"][-1]["rows"]}
    assert rows["reference_income"]["value"] == "19\u202f000,00 €"
    assert rows["reference_income"]["correction"] == {
        "source": TAX_LABEL,
        "partner_value": "21\u202f350,00 €",
        "by": "vous",
    }
