"""The procedure types other than the housing aid (moncompte/procedures/types/): each step valid
with good data, each field's refusals with its French message, what each submission produces
(SituationChange rows, the separation ending the spouse's access), who may start each type
across the role matrix (R, S+, S, M17, X, O). Through the engine's services only."""

import datetime

import pytest
from django import forms
from django.utils import timezone

from moncompte.core.errors import NotAllowed
from moncompte.households.models import Member, SituationChange
from moncompte.households.services import SeparationError, separation_declare
from moncompte.procedures.models import Procedure
from moncompte.procedures.registry import procedure_type
from moncompte.procedures.services import (
    ProcedureError,
    StepInvalid,
    partner_data_keep,
    procedure_for,
    procedure_start,
    procedure_submit,
    procedures_of,
    step_save,
    types_startable,
)
from moncompte.procedures.summary import date_text, procedure_summary
from moncompte.procedures.types.common import month_label, recent_months
from tests.factories import MemberFactory, PersonFactory, make_household
from tests.procedures.helpers import FILLED, acting, last_month

pytestmark = pytest.mark.django_db

NEW_TYPES = [
    "prime-d-activite",
    "rsa",
    "changement-adresse",
    "changement-ressources",
    "declaration-naissance",
    "separation",
]
HOUSEHOLD_TYPES = [code for code in NEW_TYPES if code != "separation"]


def fill(actor, procedure, upto: str | None = None, overrides: dict | None = None):
    """Save the type's steps with FILLED data, in order (up to ``upto`` excluded)."""
    for step in procedure.type.steps:
        if step.slug == upto:
            break
        data = {**FILLED[procedure.type_code][step.slug], **(overrides or {}).get(step.slug, {})}
        procedure = step_save(
            actor=actor, procedure=procedure, slug=step.slug, data=data, base_version=procedure.version
        ).procedure
    return procedure


def started(actor, code):
    return procedure_start(actor=actor, type_code=code).procedure


def submitted(actor, code, overrides=None):
    procedure = fill(actor, started(actor, code), overrides=overrides)
    return procedure_submit(actor=actor, procedure=procedure, base_version=procedure.version, attested=True)


def day_parts(prefix: str, day: datetime.date) -> dict:
    return {f"{prefix}_day": f"{day.day:02d}", f"{prefix}_month": f"{day.month:02d}", f"{prefix}_year": str(day.year)}


def today():
    return timezone.localdate()


# Declarations: French texts everywhere ---------------------------------------------------------

ENGLISH = ("This field", "Enter a", "Select a", "Ensure this", "required.")


@pytest.mark.parametrize("code", NEW_TYPES)
def test_each_type_is_declared_with_french_texts_and_every_field_refuses_in_french(code):
    ptype = procedure_type(code)
    assert ptype.label and ptype.summary and ptype.next_steps and ptype.reference_prefix.isupper()
    assert ptype.next_steps != procedure_type("aide-au-logement").next_steps
    for step in ptype.steps:
        assert step.form is not None and step.title
        empty = step.form(data={})
        for name, field in empty.fields.items():
            assert field.label, (code, step.slug, name)  # said, not made from the field's name
        empty.is_valid()
        for name, errors in empty.errors.items():
            for error in errors:
                assert not any(word in error for word in ENGLISH), (code, step.slug, name, error)
        # Every field left empty that must be given says so with its own sentence, not Django's.
        required = [n for n, f in empty.fields.items() if f.required and not n.endswith(("_month", "_year"))]
        default = forms.Field().error_messages["required"]
        for name in required:
            assert name in empty.errors and default not in empty.errors[name], (code, step.slug, name)


def test_the_three_declarations_of_a_change_are_grouped_on_the_list():
    grouped = [code for code in NEW_TYPES if procedure_type(code).group == "Changement de situation"]
    assert grouped == ["changement-adresse", "changement-ressources", "declaration-naissance"]
    assert procedure_type("prime-d-activite").group == procedure_type("rsa").group == ""


# Every step valid with good data, and what the submission produces -----------------------------


@pytest.mark.parametrize("code", NEW_TYPES)
def test_each_type_is_filled_step_by_step_summarised_and_submitted_with_its_reference(code):
    family = make_household()
    claire = acting(family.responsible.person)
    procedure = started(claire, code)
    for step in procedure.type.steps:
        saved = step_save(
            actor=claire,
            procedure=procedure,
            slug=step.slug,
            data=FILLED[code][step.slug],
            base_version=procedure.version,
        )
        procedure = saved.procedure
        assert step.slug in procedure.data
        assert saved.next_step == procedure.type.next_slug(step.slug)
    sections = procedure_summary(procedure)
    assert [s.slug for s in sections] == [s.slug for s in procedure.type.steps]
    for section in sections:
        for row in section.rows:
            assert row.label and row.value, (section.slug, row.name)
    done = procedure_submit(actor=claire, procedure=procedure, base_version=procedure.version, attested=True)
    assert done.state == Procedure.State.SUBMITTED
    assert done.reference.startswith(procedure.type.reference_prefix + "-")
    assert done.dossier == family.dossier and done.submitted_by == family.responsible.person


def test_the_activity_bonus_and_the_rsa_keep_the_clean_values_and_produce_no_change_of_situation():
    family = make_household()
    claire = acting(family.responsible.person)
    bonus = submitted(claire, "prime-d-activite")
    values = bonus.clean_values()
    assert values["situation"]["activity"] == "salariee"
    assert values["foyer"] == {"children": 2, "partner": "non"}
    assert values["ressources"]["unemployment"] == "450.50"
    assert values["quotient-familial"] == {"family_quotient": 640}
    rsa = submitted(claire, "rsa")
    assert rsa.clean_values()["logement"] == {"housing": "sans_domicile", "domiciliation": "CCAS de Lyon"}
    assert rsa.clean_values()["engagement"] == {"accept": True}
    assert bonus.result == rsa.result == {}
    assert not SituationChange.objects.exists()


def test_a_change_of_address_puts_the_new_address_on_an_address_change_of_the_file():
    family = make_household()
    marc = acting(make_household(delegated=True).spouse.person)  # S+ of another file: not this one
    claire = acting(family.responsible.person)
    done = submitted(claire, "changement-adresse")
    change = SituationChange.objects.get()
    assert done.result == {"situation_change_id": change.pk}
    assert change.kind == SituationChange.Kind.ADDRESS and change.dossier == family.dossier
    assert change.declared_by == family.responsible.person
    assert change.effective_on == today() - datetime.timedelta(days=20)
    assert change.data["new_address"] == {
        "address_line1": "3 place Bellecour",
        "address_line2": "",
        "postal_code": "69002",
        "city": "Lyon",
    }
    assert change.data["housing_status"] == "locataire" and change.data["procedure_id"] == done.pk
    assert change.state == SituationChange.State.TO_PROCESS
    # The file's address waits for an agent; nothing on the other file.
    family.dossier.refresh_from_db()
    assert family.dossier.address_line1 != "3 place Bellecour"
    assert procedures_of(actor=marc) == []


def test_a_change_of_resources_dates_from_the_first_day_of_the_month_chosen():
    family = make_household(delegated=True)
    marc = acting(family.spouse.person)  # the delegated spouse declares it, in his own name
    done = submitted(marc, "changement-ressources")
    change = SituationChange.objects.get(pk=done.result["situation_change_id"])
    assert change.kind == SituationChange.Kind.RESOURCES and change.declared_by == family.spouse.person
    assert change.effective_on == datetime.date.fromisoformat(last_month() + "-01")
    assert change.data["month"] == last_month()
    assert change.data["monthly_amounts"] == {
        "salaries": "0.00",
        "self_employed": "0.00",
        "unemployment": "1150.00",
        "other": "0.00",
    }
    month_row = procedure_summary(done)[0].rows[0]
    assert month_row.value == month_label(last_month())  # "octobre 2026", not "2026-10"


def test_a_birth_declaration_puts_the_child_on_a_birth_change_of_the_file():
    family = make_household()
    done = submitted(acting(family.responsible.person), "declaration-naissance")
    change = SituationChange.objects.get(pk=done.result["situation_change_id"])
    assert change.kind == SituationChange.Kind.BIRTH and change.dossier == family.dossier
    assert change.effective_on == today() - datetime.timedelta(days=10)
    # The names as the file keeps them: white space folded, the birth name in capitals.
    assert change.data["child"] == {"first_names": "Lina Rose", "birth_name": "MARTIN", "sex": "F"}
    assert change.data["birth_place"] == "Lyon (69)"


def test_a_refused_submission_writes_no_change_of_situation():
    family = make_household()
    claire = acting(family.responsible.person)
    procedure = fill(claire, started(claire, "changement-adresse"))
    with pytest.raises(ProcedureError):  # not attested: nothing at all
        procedure_submit(actor=claire, procedure=procedure, base_version=procedure.version, attested=False)
    assert not SituationChange.objects.exists()
    procedure.refresh_from_db()
    assert procedure.is_draft and procedure.reference is None


# Each field's refusals, with the French message -------------------------------------------------


def _refusals():
    t = today()
    future = t + datetime.timedelta(days=1)
    long_ago = t - datetime.timedelta(days=3 * 366)
    three_years = day_parts("moved", long_ago)
    next_month = f"{(t.replace(day=28) + datetime.timedelta(days=4)):%Y-%m}"
    thirteen_months = recent_months(14)[-1][0]
    return [
        # Prime d'activité
        ("prime-d-activite", "situation", {"activity": ""}, "activity", "Indiquez votre situation professionnelle."),
        ("prime-d-activite", "situation", {"activity": "retraite"}, "activity", "Choix non valide."),
        (
            "prime-d-activite",
            "situation",
            {"since_day": "", "since_month": "", "since_year": ""},
            "since_day",
            "Saisissez la date de début de cette situation : jour, mois et année.",
        ),
        (
            "prime-d-activite",
            "situation",
            day_parts("since", future),
            "since_year",
            "La date de début de cette situation ne peut pas être dans le futur.",
        ),
        (
            "prime-d-activite",
            "situation",
            {"since_day": "12", "since_month": "", "since_year": "2025"},
            "since_month",
            "Date de début de cette situation incomplète : saisissez le mois.",
        ),
        (
            "prime-d-activite",
            "situation",
            {"since_day": "31", "since_month": "02", "since_year": "2025"},
            "since_day",
            "Cette date n'existe pas : vérifiez le jour et le mois.",
        ),
        (
            "prime-d-activite",
            "foyer",
            {"children": ""},
            "children",
            "Saisissez le nombre d'enfants à charge (0 si vous n'en avez pas).",
        ),
        ("prime-d-activite", "foyer", {"children": "-1"}, "children", "Le nombre ne peut pas être négatif."),
        ("prime-d-activite", "foyer", {"children": "21"}, "children", "Vérifiez le nombre d'enfants : 20 au plus."),
        ("prime-d-activite", "foyer", {"children": "deux"}, "children", "Saisissez un nombre entier, par exemple 2."),
        (
            "prime-d-activite",
            "foyer",
            {"partner": ""},
            "partner",
            "Indiquez si votre conjoint ou conjointe exerce une activité, ou si vous vivez seul(e).",
        ),
        ("prime-d-activite", "foyer", {"partner": "parfois"}, "partner", "Choix non valide."),
        (
            "prime-d-activite",
            "ressources",
            {"salaries": ""},
            "salaries",
            "Saisissez les salaires des 3 derniers mois (0 si vous n'en avez pas).",
        ),
        (
            "prime-d-activite",
            "ressources",
            {"self_employed": ""},
            "self_employed",
            "Saisissez les revenus d'indépendant des 3 derniers mois (0 si vous n'en avez pas).",
        ),
        (
            "prime-d-activite",
            "ressources",
            {"unemployment": ""},
            "unemployment",
            "Saisissez les allocations chômage des 3 derniers mois (0 si vous n'en avez pas).",
        ),
        (
            "prime-d-activite",
            "ressources",
            {"other": ""},
            "other",
            "Saisissez les autres ressources des 3 derniers mois (0 si vous n'en avez pas).",
        ),
        ("prime-d-activite", "ressources", {"salaries": "-5"}, "salaries", "Le montant ne peut pas être négatif."),
        (
            "prime-d-activite",
            "ressources",
            {"salaries": "beaucoup"},
            "salaries",
            "Saisissez un montant en euros, par exemple 650 ou 650,50.",
        ),
        (
            "prime-d-activite",
            "ressources",
            {"unemployment": "250000"},
            "unemployment",
            "Vérifiez le montant : il paraît trop élevé.",
        ),
        (
            "prime-d-activite",
            "france-travail",
            {"registered": ""},
            "registered",
            "Indiquez si vous êtes inscrit(e) à France Travail.",
        ),
        (
            "prime-d-activite",
            "france-travail",
            {"compensated": ""},
            "compensated",
            "Indiquez si vous percevez une allocation de France Travail.",
        ),
        (
            "prime-d-activite",
            "france-travail",
            {"registered": "non", "compensated": "oui"},
            "compensated",
            "Une allocation de France Travail suppose d'y être inscrit(e) : vérifiez vos deux réponses.",
        ),
        (
            "prime-d-activite",
            "quotient-familial",
            {"family_quotient": "-3"},
            "family_quotient",
            "Le quotient familial ne peut pas être négatif.",
        ),
        (
            "prime-d-activite",
            "quotient-familial",
            {"family_quotient": "650,40"},
            "family_quotient",
            "Saisissez le quotient familial en euros, sans centimes, par exemple 650.",
        ),
        (
            "prime-d-activite",
            "quotient-familial",
            {"family_quotient": "12000"},
            "family_quotient",
            "Vérifiez le quotient familial : il paraît trop élevé.",
        ),
        # RSA
        ("rsa", "situation", {"living": ""}, "living", "Indiquez si vous vivez seul(e) ou en couple."),
        ("rsa", "situation", {"living": "colocation"}, "living", "Choix non valide."),
        ("rsa", "situation", {"children": "30"}, "children", "Vérifiez le nombre d'enfants : 20 au plus."),
        ("rsa", "logement", {"housing": ""}, "housing", "Indiquez votre situation de logement."),
        ("rsa", "logement", {"housing": "caravane"}, "housing", "Choix non valide."),
        (
            "rsa",
            "logement",
            {"housing": "sans_domicile", "domiciliation": "  "},
            "domiciliation",
            "Sans domicile stable, indiquez l'organisme de domiciliation qui reçoit votre courrier.",
        ),
        (
            "rsa",
            "ressources",
            {"other": ""},
            "other",
            "Saisissez les autres ressources des 3 derniers mois (0 si vous n'en avez pas).",
        ),
        (
            "rsa",
            "france-travail",
            {"registered": "non", "compensated": "oui"},
            "compensated",
            "Une allocation de France Travail suppose d'y être inscrit(e) : vérifiez vos deux réponses.",
        ),
        ("rsa", "engagement", {"accept": ""}, "accept", "Cochez la case pour accepter les droits et devoirs du RSA."),
        # Changement d'adresse
        (
            "changement-adresse",
            "adresse",
            {"address_line1": ""},
            "address_line1",
            "Saisissez l'adresse (numéro et voie).",
        ),
        (
            "changement-adresse",
            "adresse",
            {"postal_code": "6900"},
            "postal_code",
            "Le code postal comporte 5 chiffres.",
        ),
        ("changement-adresse", "adresse", {"postal_code": ""}, "postal_code", "Saisissez le code postal."),
        ("changement-adresse", "adresse", {"city": ""}, "city", "Saisissez la commune."),
        (
            "changement-adresse",
            "demenagement",
            day_parts("moved", future),
            "moved_year",
            "La date du déménagement ne peut pas être dans le futur.",
        ),
        (
            "changement-adresse",
            "demenagement",
            three_years,
            "moved_year",
            "Un déménagement d'avant le ",
        ),
        (
            "changement-adresse",
            "demenagement",
            {"moved_day": "", "moved_month": "", "moved_year": ""},
            "moved_day",
            "Saisissez la date du déménagement : jour, mois et année.",
        ),
        ("changement-adresse", "demenagement", {"status": ""}, "status", "Indiquez votre situation dans ce logement."),
        ("changement-adresse", "demenagement", {"status": "squat"}, "status", "Choix non valide."),
        # Changement de ressources
        ("changement-ressources", "date", {"month": ""}, "month", "Indiquez le mois du changement."),
        ("changement-ressources", "date", {"month": next_month}, "month", "Choix non valide."),
        ("changement-ressources", "date", {"month": thirteen_months}, "month", "Choix non valide."),
        (
            "changement-ressources",
            "montants",
            {"salaries": ""},
            "salaries",
            "Saisissez vos salaires par mois (0 si vous n'en avez plus).",
        ),
        (
            "changement-ressources",
            "montants",
            {"self_employed": ""},
            "self_employed",
            "Saisissez vos revenus d'indépendant par mois (0 si vous n'en avez pas).",
        ),
        (
            "changement-ressources",
            "montants",
            {"unemployment": ""},
            "unemployment",
            "Saisissez vos allocations chômage par mois (0 si vous n'en avez pas).",
        ),
        (
            "changement-ressources",
            "montants",
            {"other": ""},
            "other",
            "Saisissez vos autres ressources par mois (0 si vous n'en avez pas).",
        ),
        (
            "changement-ressources",
            "montants",
            {"unemployment": "-1"},
            "unemployment",
            "Le montant ne peut pas être négatif.",
        ),
        (
            "changement-ressources",
            "montants",
            {"salaries": "150000"},
            "salaries",
            "Vérifiez le montant : il paraît trop élevé.",
        ),
        # Déclaration de naissance
        ("declaration-naissance", "enfant", {"first_names": ""}, "first_names", "Saisissez les prénoms de l'enfant."),
        (
            "declaration-naissance",
            "enfant",
            {"first_names": "- '"},
            "first_names",
            "Les prénoms de l'enfant doivent comporter des lettres.",
        ),
        (
            "declaration-naissance",
            "enfant",
            {"first_names": "Lina2"},
            "first_names",
            "Les prénoms de l'enfant ne peuvent pas comporter de chiffres.",
        ),
        (
            "declaration-naissance",
            "enfant",
            {"birth_name": ""},
            "birth_name",
            "Saisissez le nom de naissance de l'enfant.",
        ),
        (
            "declaration-naissance",
            "enfant",
            {"birth_name": "1234"},
            "birth_name",
            "Le nom de naissance de l'enfant doit comporter des lettres.",
        ),
        (
            "declaration-naissance",
            "enfant",
            {"birth_name": "Martin 2"},
            "birth_name",
            "Le nom de naissance de l'enfant ne peut pas comporter de chiffres.",
        ),
        ("declaration-naissance", "enfant", {"sex": ""}, "sex", "Indiquez le sexe de l'enfant."),
        ("declaration-naissance", "enfant", {"sex": "X"}, "sex", "Choix non valide."),
        (
            "declaration-naissance",
            "naissance",
            day_parts("birth", future),
            "birth_year",
            "La date de naissance ne peut pas être dans le futur.",
        ),
        (
            "declaration-naissance",
            "naissance",
            day_parts("birth", t - datetime.timedelta(days=400)),
            "birth_year",
            "Pour un enfant né avant le ",
        ),
        (
            "declaration-naissance",
            "naissance",
            {"birth_place": ""},
            "birth_place",
            "Saisissez la commune de naissance de l'enfant.",
        ),
        (
            "declaration-naissance",
            "naissance",
            {"birth_place": "69"},
            "birth_place",
            "Saisissez le nom de la commune de naissance, par exemple « Lyon (69) ».",
        ),
        # Séparation
        (
            "separation",
            "date",
            day_parts("separated", future),
            "separated_year",
            "La date de séparation ne peut pas être dans le futur.",
        ),
        (
            "separation",
            "date",
            {"separated_day": "", "separated_month": "", "separated_year": ""},
            "separated_day",
            "Saisissez la date de la séparation : jour, mois et année.",
        ),
        ("separation", "depart", {"leaving": ""}, "leaving", "Indiquez qui quitte le logement."),
        ("separation", "depart", {"leaving": "voisin"}, "leaving", "Choix non valide."),
        ("separation", "adresse", {"postal_code": "1234"}, "postal_code", "Le code postal comporte 5 chiffres."),
        ("separation", "adresse", {"city": ""}, "city", "Saisissez la commune."),
        (
            "separation",
            "confirmation",
            {"confirm": ""},
            "confirm",
            "Cochez la case pour confirmer la déclaration.",
        ),
    ]


REFUSALS = _refusals()


@pytest.mark.parametrize(
    ("code", "slug", "typed", "field", "message"),
    REFUSALS,
    ids=[f"{c}-{s}-{f}-{i}" for i, (c, s, _, f, _) in enumerate(REFUSALS)],
)
def test_each_field_is_refused_on_the_server_with_its_french_message(code, slug, typed, field, message):
    family = make_household()
    claire = acting(family.responsible.person)
    procedure = fill(claire, started(claire, code), upto=slug)
    before = procedure.version
    with pytest.raises(StepInvalid) as invalid:
        step_save(
            actor=claire,
            procedure=procedure,
            slug=slug,
            data={**FILLED[code][slug], **typed},
            base_version=procedure.version,
        )
    errors = invalid.value.form.errors
    assert field in errors, errors
    assert any(error.startswith(message) for error in errors[field]), errors[field]
    procedure.refresh_from_db()
    assert slug not in procedure.data and procedure.version == before


def test_the_bounds_of_the_dates_are_the_days_said():
    family = make_household()
    claire = acting(family.responsible.person)
    # A move of exactly 2 years ago and a birth of exactly 1 year ago are accepted; the day before is not.
    two_years = today().replace(year=today().year - 2) if (today().month, today().day) != (2, 29) else None
    if two_years is not None:
        procedure = fill(claire, started(claire, "changement-adresse"), upto="demenagement")
        step_save(
            actor=claire,
            procedure=procedure,
            slug="demenagement",
            data={**FILLED["changement-adresse"]["demenagement"], **day_parts("moved", two_years)},
            base_version=procedure.version,
        )
        with pytest.raises(StepInvalid) as invalid:
            step_save(
                actor=claire,
                procedure=procedure,
                slug="demenagement",
                data={
                    **FILLED["changement-adresse"]["demenagement"],
                    **day_parts("moved", two_years - datetime.timedelta(days=1)),
                },
                base_version=procedure.version + 1,
            )
        assert invalid.value.form.errors["moved_year"] == [
            f"Un déménagement d'avant le {date_text(two_years)} ne se déclare pas en ligne : contactez votre Caf."
        ]
    # The months offered for a change of resources: this one and the 11 before, the newest first.
    months = [value for value, _ in recent_months()]
    assert len(months) == 12 and months[0] == f"{today():%Y-%m}" and months[1] == last_month()


def test_a_domiciliation_is_kept_only_for_a_person_without_a_stable_home():
    family = make_household()
    claire = acting(family.responsible.person)
    procedure = fill(claire, started(claire, "rsa"), upto="logement")
    saved = step_save(
        actor=claire,
        procedure=procedure,
        slug="logement",
        data={"housing": "locataire", "domiciliation": "CCAS de Lyon"},
        base_version=procedure.version,
    )
    assert saved.procedure.data["logement"]["clean"] == {"housing": "locataire", "domiciliation": ""}


# Partner data: what pre-fills which field ------------------------------------------------------

DRM_ANSWER = {
    # Four months, not in order: the quarter is the three most recent, the latest is October.
    "mois": [
        {"mois": "2026-09", "salaires_cents": 120000, "indemnites_chomage_cents": 0, "pensions_cents": 5000},
        {"mois": "2026-10", "salaires_cents": 130000, "indemnites_chomage_cents": 15000, "pensions_cents": 5000},
        {"mois": "2026-08", "salaires_cents": 110050, "indemnites_chomage_cents": 0, "pensions_cents": 5000},
        {"mois": "2026-07", "salaires_cents": 999900, "indemnites_chomage_cents": 99900, "pensions_cents": 99900},
    ]
}


def _prefilled(code: str, slug: str, data: dict) -> dict:
    step = procedure_type(code).step(slug)
    return {name: prefill.value_from(data) for name, prefill in step.prefill.items()}


def test_the_resources_are_prefilled_from_the_monthly_resources_by_kind():
    assert _prefilled("prime-d-activite", "ressources", DRM_ANSWER) == {
        "salaries": "3600.50",
        "unemployment": "150.00",
        "other": "150.00",
    }
    assert _prefilled("rsa", "ressources", DRM_ANSWER) == _prefilled("prime-d-activite", "ressources", DRM_ANSWER)
    # The change of resources: the most recent month the DRM knows (October, wherever it is listed).
    assert _prefilled("changement-ressources", "montants", DRM_ANSWER) == {
        "salaries": "1300.00",
        "unemployment": "150.00",
        "other": "50.00",
    }
    # A malformed or empty answer pre-fills nothing: the person types the amounts.
    for malformed in ({"mois": []}, {"mois": "1200"}, {"mois": [{"salaires_cents": "beaucoup"}]}, {}):
        assert set(_prefilled("prime-d-activite", "ressources", malformed).values()) == {None}
    assert _prefilled("prime-d-activite", "ressources", {"mois": [{"salaires_cents": -5}]})["salaries"] is None


def test_france_travail_and_the_family_quotient_prefill_their_fields():
    for code in ("prime-d-activite", "rsa"):
        assert _prefilled(code, "france-travail", {"inscrit": True, "indemnise": False}) == {
            "registered": "oui",
            "compensated": "non",
        }
        assert _prefilled(code, "france-travail", {"inscrit": "yes"}) == {"registered": None, "compensated": None}
    assert _prefilled("prime-d-activite", "quotient-familial", {"quotient_familial": 612}) == {"family_quotient": 612}
    assert _prefilled("prime-d-activite", "quotient-familial", {"quotient_familial": "612.60"}) == {
        "family_quotient": 613
    }
    assert _prefilled("prime-d-activite", "quotient-familial", {"quotient_familial": "n/a"}) == {
        "family_quotient": None
    }
    assert procedure_type("prime-d-activite").sources == ["drm", "france_travail", "quotient_familial"]
    assert procedure_type("rsa").sources == ["drm", "france_travail"]


def test_a_prefilled_value_typed_otherwise_is_recorded_as_a_correction_and_an_equal_one_is_not():
    family = make_household()
    claire = acting(family.responsible.person)
    procedure = fill(claire, started(claire, "prime-d-activite"), upto="ressources")
    fetched = timezone.now().isoformat()
    partner_data_keep(
        procedure=procedure,
        results={"drm": {"data": DRM_ANSWER, "fetched_at": fetched, "label": "Dispositif de ressources mensuelles"}},
    )
    saved = step_save(
        actor=claire,
        procedure=procedure,
        slug="ressources",
        data={"salaries": "3600,50", "self_employed": "0", "unemployment": "150", "other": "200"},
        base_version=procedure.version,
    )
    assert saved.corrected == ["other"]
    correction = saved.procedure.corrections["other"]
    assert (correction["partner"], correction["typed"], correction["source"]) == ("150.00", "200.00", "drm")


# Who may start each type: the role matrix -------------------------------------------------------


@pytest.fixture
def matrix():
    delegated = make_household(delegated=True)
    plain = make_household()
    former = MemberFactory(spouse=True, ended=True)
    return {
        "R": delegated.responsible.person,
        "S+": delegated.spouse.person,
        "S": plain.spouse.person,
        "M17": delegated.child.person,
        "X": former.person,
        "O": PersonFactory(),
    }


MAY_START = {
    **{code: {"R", "S+"} for code in HOUSEHOLD_TYPES},
    "separation": {"R", "S+", "S"},
}


@pytest.mark.parametrize("code", NEW_TYPES)
def test_who_may_start_each_type_follows_the_policy(matrix, code):
    for who, person in matrix.items():
        actor = acting(person)
        listed = code in [t.code for t in types_startable(actor=actor)]
        if who in MAY_START[code]:
            assert listed, who
            start = procedure_start(actor=actor, type_code=code)
            procedure = start.procedure
            assert procedure.dossier is not None
            assert procedure_for(actor=actor, procedure_id=procedure.pk) == procedure
            if procedure_type(code).household and who == "S+":  # the file's draft, which R started
                assert start.resumed and procedure.person == matrix["R"]
            else:
                assert not start.resumed and procedure.person == person
        else:
            assert not listed, who
            with pytest.raises(NotAllowed):
                procedure_start(actor=actor, type_code=code)


def test_a_household_declaration_is_the_files_and_a_separation_draft_its_authors_only(matrix):
    r, sp = acting(matrix["R"]), acting(matrix["S+"])
    birth = fill(sp, started(sp, "declaration-naissance"), upto="naissance")
    # The responsible person continues the household's declaration started by the delegated spouse.
    assert procedure_start(actor=r, type_code="declaration-naissance").procedure == birth
    # A separation draft is its author's: the responsible person neither sees nor resumes it.
    separation = fill(sp, started(sp, "separation"), upto="confirmation")
    with pytest.raises(NotAllowed):
        procedure_for(actor=r, procedure_id=separation.pk)
    assert separation.pk not in [p.pk for p in procedures_of(actor=r)]
    with pytest.raises(NotAllowed):
        step_save(
            actor=r,
            procedure=separation,
            slug="confirmation",
            data=FILLED["separation"]["confirmation"],
            base_version=separation.version,
        )
    with pytest.raises(NotAllowed):
        procedure_submit(actor=r, procedure=separation, base_version=separation.version, attested=True)
    # Her own separation draft is another one.
    assert procedure_start(actor=r, type_code="separation").procedure.pk != separation.pk


# The separation as a procedure ------------------------------------------------------------------


def test_the_spouse_who_declares_and_leaves_sees_only_their_own_declaration_afterwards():
    family = make_household(delegated=True)
    claire, marc = acting(family.responsible.person), acting(family.spouse.person)
    household_draft = fill(claire, started(claire, "prime-d-activite"), upto="foyer")
    assert procedure_for(actor=marc, procedure_id=household_draft.pk)
    done = submitted(marc, "separation")  # "moi": Marc leaves
    change = SituationChange.objects.get(kind=SituationChange.Kind.SEPARATION)
    assert done.result == {"situation_change_id": change.pk}
    assert change.data["leaving_person_id"] == family.spouse.person.pk
    assert change.data["new_address"]["city"] == "Lyon" and change.declared_by == family.spouse.person
    assert change.effective_on == today() - datetime.timedelta(days=5)
    # The spouse's access ends at once: no more delegation, his membership ended today.
    membership = Member.objects.get(pk=family.spouse.member.pk)
    assert membership.ended_on == today() and membership.delegation_granted_at is None
    # Now a former spouse (X): he sees his submitted declaration and nothing else of the file.
    assert procedure_for(actor=marc, procedure_id=done.pk) == done
    assert [p.pk for p in procedures_of(actor=marc)] == [done.pk]
    with pytest.raises(NotAllowed):
        procedure_for(actor=marc, procedure_id=household_draft.pk)
    assert "prime-d-activite" not in [t.code for t in types_startable(actor=marc)]
    assert "separation" not in [t.code for t in types_startable(actor=marc)]
    # The responsible person keeps the household's draft, and never sees his declaration.
    assert procedure_for(actor=claire, procedure_id=household_draft.pk)
    with pytest.raises(NotAllowed):
        procedure_for(actor=claire, procedure_id=done.pk)
    assert done.pk not in [p.pk for p in procedures_of(actor=claire)]


def test_the_responsible_person_declares_that_the_spouse_leaves():
    family = make_household()
    claire, marc = acting(family.responsible.person), acting(family.spouse.person)
    marcs_draft = fill(marc, started(marc, "separation"), upto="adresse")
    done = submitted(claire, "separation", overrides={"depart": {"leaving": "conjoint"}})
    change = SituationChange.objects.get(pk=done.result["situation_change_id"])
    assert change.data["leaving_person_id"] == family.spouse.person.pk
    assert change.data["responsable_person_id"] == family.responsible.person.pk
    assert Member.objects.get(pk=family.spouse.member.pk).ended_on == today()
    # Claire sees her declaration; Marc, now a former spouse, does not see hers, and loses his
    # own unsent draft (a draft is continued under DECLARE_SEPARATION, which X may not).
    assert procedure_for(actor=claire, procedure_id=done.pk)
    with pytest.raises(NotAllowed):
        procedure_for(actor=marc, procedure_id=done.pk)
    with pytest.raises(NotAllowed):
        procedure_for(actor=marc, procedure_id=marcs_draft.pk)
    assert procedures_of(actor=marc) == []


def test_a_separation_refused_at_submission_leaves_the_draft_unsent_and_nothing_written():
    family = make_household()
    claire = acting(family.responsible.person)
    procedure = fill(claire, started(claire, "separation"), overrides={"depart": {"leaving": "conjoint"}})
    # Meanwhile the separation was declared on the household page.
    separation_declare(
        actor=claire,
        dossier=family.dossier,
        separated_on=today(),
        leaving_person=family.spouse.person,
        new_address={"address_line1": "2 rue Haute", "postal_code": "69004", "city": "Lyon"},
    )
    with pytest.raises(SeparationError) as refused:
        procedure_submit(actor=claire, procedure=procedure, base_version=procedure.version, attested=True)
    assert refused.value.code == "no_spouse"
    procedure.refresh_from_db()
    assert procedure.is_draft and procedure.reference is None and procedure.result == {}
    assert SituationChange.objects.count() == 1
