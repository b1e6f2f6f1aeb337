"""The receipt of a submitted request as a PDF (moncompte.procedures.receipts): it opens, and it
carries what the person needs to keep: the reference, the type, what they typed, the amounts."""

import io

import pytest
from pypdf import PdfReader

from moncompte.core.errors import NotAllowed
from moncompte.procedures.receipts import pdf_text, receipt_pdf
from moncompte.procedures.services import procedure_history, procedure_start, procedure_submit, step_save
from tests.factories import PersonFactory, make_household
from tests.procedures.helpers import HOUSING, acting

pytestmark = pytest.mark.django_db

LANDLORD = "Office public de l'habitat « Les Églantiers » à Besançon"


def _filled(actor, procedure, values):
    for slug in ("logement", "loyer", "identite", "ressources"):
        procedure = step_save(
            actor=actor, procedure=procedure, slug=slug, data=values[slug], base_version=procedure.version
        ).procedure
    return procedure


def _submitted(actor, **loyer):
    values = {**HOUSING, "loyer": {**HOUSING["loyer"], **loyer}}
    procedure = _filled(actor, procedure_start(actor=actor, type_code="aide-au-logement").procedure, values)
    return procedure_submit(actor=actor, procedure=procedure, base_version=procedure.version, attested=True)


def _text(pdf: bytes) -> tuple[PdfReader, str]:
    reader = PdfReader(io.BytesIO(pdf))
    return reader, "\n".join(page.extract_text() for page in reader.pages)


def test_the_receipt_opens_and_carries_the_reference_the_type_what_was_typed_and_the_amounts():
    family = make_household()
    claire = acting(family.responsible.person)
    submitted = _submitted(claire, landlord=LANDLORD, rent="1234,5")
    pdf = receipt_pdf(submitted, procedure_history(actor=claire, procedure=submitted))
    assert pdf.startswith(b"%PDF-")
    reader, text = _text(pdf)
    assert reader.metadata.title == f"Accusé de réception {submitted.reference}"
    assert reader.pages[0].mediabox.width == pytest.approx(595.28, abs=0.5)  # A4
    assert "Accusé de réception" in text
    assert submitted.reference in text
    assert "Demande d'aide au logement" in text
    assert family.dossier.caf.name in text
    assert f"Dossier n° {family.dossier.numero}" in text
    assert LANDLORD in " ".join(text.split())  # accents, guillemets, apostrophe; wrapped lines joined
    # Amounts as French writes them (the narrow no-break space becomes a plain one in the PDF).
    assert "1 234,50 €" in text and "80,50 €" in text and "4 500,00 €" in text
    assert f"par {family.responsible.person.display_name}" in text
    assert "(heure de Paris)" in text
    # The history says who did what; the next steps and the generator are there.
    assert "Étape enregistrée : Adresse et loyer" in text
    assert "Demande envoyée" in text
    assert "Votre Caf étudie votre demande" in " ".join(text.split())
    assert "Document généré par Mon Compte" in text


def test_the_spouse_who_sent_it_is_named_and_a_newcomers_receipt_says_caf():
    family = make_household(delegated=True)
    marc = acting(family.spouse.person)
    submitted = _submitted(marc)
    _, text = _text(receipt_pdf(submitted, procedure_history(actor=marc, procedure=submitted)))
    assert f"par {family.spouse.person.display_name}" in text
    newcomer = acting(PersonFactory())
    alone = _submitted(newcomer)
    _, text = _text(receipt_pdf(alone, procedure_history(actor=newcomer, procedure=alone)))
    assert "\nCaf\nAccusé de réception\n" in text and "Dossier n°" not in text


def test_a_partner_value_the_person_corrected_is_on_the_receipt():
    family = make_household()
    claire = acting(family.responsible.person)
    procedure = procedure_start(actor=claire, type_code="aide-au-logement").procedure
    # What a step page keeps of the partner's answer when it shows it (services.partner_data_keep).
    procedure.partner_data = {
        "impots": {
            "data": {"revenu_fiscal_de_reference": "19500.00", "nombre_de_parts": "2.5"},
            "fetched_at": "2026-12-01T09:30:00+00:00",
            "label": "Direction générale des Finances publiques",
        }
    }
    procedure.save(update_fields=["partner_data"])
    procedure = _filled(claire, procedure, HOUSING)
    assert set(procedure.corrections) == {"reference_income"}
    submitted = procedure_submit(actor=claire, procedure=procedure, base_version=procedure.version, attested=True)
    _, text = _text(receipt_pdf(submitted, procedure_history(actor=claire, procedure=submitted)))
    text = " ".join(text.split())
    assert "Informations des partenaires que vous avez corrigées" in text
    assert "21 000,00 €, corrigé" in text
    assert "Direction générale des Finances publiques le 1er décembre 2026 : 19 500,00 €" in text


def test_a_draft_has_no_receipt():
    family = make_household()
    claire = acting(family.responsible.person)
    procedure = procedure_start(actor=claire, type_code="aide-au-logement").procedure
    with pytest.raises(NotAllowed):
        receipt_pdf(procedure, [])


def test_the_text_keeps_to_the_characters_of_the_pdf_fonts():
    assert pdf_text("1\u202f234,50\u00a0€") == "1 234,50 €"
    assert pdf_text("Œuvre « à » l’été — Łódź Ősz") == "Œuvre « à » l’été — Lódz Osz"
    assert pdf_text("☃") == "?"
