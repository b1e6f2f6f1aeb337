"""Déclarer une séparation: the separation of the household issue, as a procedure.

Individual: the draft is its author's only (the other spouse never sees it), started by one of
the two spouses (the policy's DECLARE_SEPARATION: R, S+, S). Steps: the date, who leaves, the
new address of the one who leaves, the confirmation. Its submission calls
moncompte.households.services.separation_declare in the submission's transaction: the spouse's
membership ends today, and a spouse who declared it and left (now a former spouse) still sees
their own submitted declaration (SEE_OWN_SEPARATION) and nothing else of the file.

The fields are also those of the page /mon-compte/foyer/separation/ (moncompte.web.household.forms
composes its one-page form from the step forms here): one definition of the date and its rules.
"""

import datetime

from django import forms
from django.utils import timezone

from moncompte.access.policy import Action, couple, couple_condition
from moncompte.core.forms import DateParts, DatePartsMixin
from moncompte.households.models import Member
from moncompte.households.services import MESSAGE_NO_SPOUSE, SeparationError, separation_declare
from moncompte.procedures.declarations import ProcedureType, Step, SubmitContext
from moncompte.procedures.fields import AddressFields

ME = "moi"
LEAVING_CHOICES = [(ME, "Moi"), ("conjoint", "Mon conjoint ou ma conjointe")]
ADDRESS_FIELDS = ("address_line1", "address_line2", "postal_code", "city")


def _separation_problem(value: datetime.date) -> str | None:
    if value > timezone.localdate():
        return "La date de séparation ne peut pas être dans le futur."
    if value < datetime.date(1900, 1, 1):
        return "Vérifiez l'année de la séparation."
    return None


SEPARATION_DATE = DateParts(
    key="separated_on",
    prefix="separated",
    legend="Date de la séparation",
    the_date="la date de la séparation",
    the_year="L'année de la séparation",
    example="15 03 2026",
    html_id="date-separation",
    problem=_separation_problem,
)


class SeparationDateForm(DatePartsMixin, forms.Form):
    date_parts = (SEPARATION_DATE,)

    separated_day, separated_month, separated_year = SEPARATION_DATE.fields()


class SeparationLeavingForm(forms.Form):
    leaving = forms.ChoiceField(
        label="Qui quitte le logement ?",
        choices=LEAVING_CHOICES,
        widget=forms.RadioSelect,
        error_messages={"required": "Indiquez qui quitte le logement.", "invalid_choice": "Choix non valide."},
    )


class SeparationAddressForm(AddressFields):
    """The new address of the one who leaves (the shared address fields, the first one named so)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["address_line1"].label = "Nouvelle adresse (numéro et voie)"

    def new_address(self) -> dict:
        return {k: self.cleaned_data[k] for k in ADDRESS_FIELDS}


class SeparationConfirmForm(forms.Form):
    confirm = forms.BooleanField(
        label="Je confirme cette déclaration. L'ancien conjoint ou l'ancienne conjointe n'aura plus accès au dossier.",
        error_messages={"required": "Cochez la case pour confirmer la déclaration."},
    )


def _submit(context: SubmitContext) -> dict:
    me = context.actor.subject
    members = (
        Member.objects.current()
        .filter(couple_condition(), dossier_id=context.procedure.dossier_id)
        .select_related("person")
        .order_by("id")
    )
    responsable, spouse = couple(members)
    if context.value("depart", "leaving") == ME:
        leaving = me
    else:
        other = next((m for m in (responsable, spouse) if m is not None and m.person_id != me.pk), None)
        if other is None:
            raise SeparationError(MESSAGE_NO_SPOUSE, code="no_spouse")
        leaving = other.person
    address = context.values.get("adresse", {})
    # Asks the policy again on the locked rows; refuses (nothing changed) if the couple changed since.
    change = separation_declare(
        actor=context.actor,
        dossier=context.procedure.dossier,
        separated_on=datetime.date.fromisoformat(context.value("date", "separated_on")),
        leaving_person=leaving,
        new_address={k: address.get(k, "") for k in ADDRESS_FIELDS},
    )
    return {"situation_change_id": change.pk}


SEPARATION = ProcedureType(
    code="separation",
    label="Déclarer une séparation",
    summary=(
        "Vous vous séparez de votre conjoint ou conjointe : dès la déclaration, il ou elle n'a plus accès au dossier."
    ),
    reference_prefix="SEP",
    action=Action.DECLARE_SEPARATION,
    household=False,
    see_action=Action.SEE_OWN_SEPARATION,
    steps=(
        Step("date", "Date de la séparation", SeparationDateForm),
        Step("depart", "Qui quitte le logement", SeparationLeavingForm),
        Step("adresse", "Nouvelle adresse de la personne qui part", SeparationAddressForm),
        Step(
            "confirmation",
            "Confirmation",
            SeparationConfirmForm,
            intro=(
                "Dès l'envoi, l'ancien conjoint ou l'ancienne conjointe n'aura plus accès au dossier (en ligne, à "
                "l'accueil et au téléphone) et l'autorisation de gestion éventuelle prendra fin. Chacun garde son "
                "compte et ses informations personnelles."
            ),
        ),
    ),
    submit=_submit,
    next_steps=(
        "Vous êtes prévenus tous les deux à vos coordonnées validées. Votre Caf étudie ce changement de situation : "
        "elle décide qui garde le dossier et revoit les droits de chacun."
    ),
)
