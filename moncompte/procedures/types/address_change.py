"""Déclarer un changement d'adresse: the household's new address, the date of the move (not in
the future, nor more than two years ago: older moves go to the Caf) and the housing status. The
submission puts a SituationChange ADDRESS with the new address on the file, for the agents.
"""

import datetime

from django import forms

from moncompte.core.forms import DateParts, DatePartsMixin
from moncompte.households.models import SituationChange
from moncompte.procedures.declarations import ProcedureType, Step, SubmitContext
from moncompte.procedures.fields import AddressFields
from moncompte.procedures.types.common import (
    SITUATION_CHANGE,
    choice_field,
    not_in_future_nor_before,
    situation_change,
)

ADDRESS_FIELDS = ("address_line1", "address_line2", "postal_code", "city")

MOVE_DATE = DateParts(
    key="moved_on",
    prefix="moved",
    legend="Date du déménagement",
    the_date="la date du déménagement",
    the_year="L'année du déménagement",
    example="01 09 2026",
    html_id="date-demenagement",
    problem=not_in_future_nor_before(
        "La date du déménagement",
        2,
        "Un déménagement d'avant le {earliest} ne se déclare pas en ligne : contactez votre Caf.",
    ),
)

HOUSING_STATUS = [
    ("locataire", "Locataire ou colocataire"),
    ("proprietaire", "Propriétaire"),
    ("heberge", "Hébergé(e) gratuitement (chez un proche, par exemple)"),
    ("foyer", "Résident(e) d'un foyer ou d'une résidence"),
]


class NewAddressForm(AddressFields):
    """The household's new address (AddressFields: numéro et voie, complément, code postal, commune)."""


class MoveForm(DatePartsMixin, forms.Form):
    date_parts = (MOVE_DATE,)

    moved_day, moved_month, moved_year = MOVE_DATE.fields()
    status = choice_field(
        "Dans votre nouveau logement, vous êtes", HOUSING_STATUS, "Indiquez votre situation dans ce logement."
    )


def _address_submit(context: SubmitContext) -> dict:
    address = context.values["adresse"]
    return situation_change(
        context,
        SituationChange.Kind.ADDRESS,
        datetime.date.fromisoformat(context.value("demenagement", "moved_on")),
        {
            "new_address": {name: address.get(name, "") for name in ADDRESS_FIELDS},
            "housing_status": context.value("demenagement", "status"),
        },
    )


ADDRESS_CHANGE = ProcedureType(
    code="changement-adresse",
    label="Déclarer un changement d'adresse",
    summary="Vous avez déménagé : donnez votre nouvelle adresse et la date du déménagement.",
    reference_prefix="CA",
    group=SITUATION_CHANGE,
    steps=(
        Step("adresse", "Votre nouvelle adresse", NewAddressForm),
        Step("demenagement", "Votre déménagement", MoveForm),
    ),
    submit=_address_submit,
    next_steps=(
        "Votre Caf enregistre votre nouvelle adresse et revoit vos droits si elle les change (votre aide au "
        "logement, par exemple). Si elle a besoin de votre nouveau bail, elle vous le demandera dans Mon Compte, "
        "rubrique « Demandes de la Caf »."
    ),
)
