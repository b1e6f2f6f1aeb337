"""Which Caf an identity check belongs to: the person's current file's, else the declared
address's département (Corsica 2A/2B, overseas three digits), else none ("Caf non déterminée")."""

import datetime

import pytest

from moncompte.households.places import PlaceError, departement_of
from moncompte.identity.checks_queue import checks_with_caf, person_caf_id
from moncompte.identity.models import IdentityCheck, IdentityCheckState
from tests.factories import CafFactory, MemberFactory, PersonFactory

pytestmark = pytest.mark.django_db

POSTAL_CODES = [
    "69003", "75011", "01000", "06000", "13001", "20000", "20090", "20167", "20199", "20200", "20600",
    "20290", "97100", "97411", "97600", "98000", "00000", "", "6900", "2A004", "ABCDE",
]  # fmt: skip


def _check(postal_code: str, person=None, **fields) -> IdentityCheck:
    # Decided checks: one person may hold many (only one pending check per person).
    return IdentityCheck.objects.create(
        person=person or PersonFactory(provisional=True),
        postal_code=postal_code,
        state=fields.pop("state", IdentityCheckState.REJECTED),
        **fields,
    )


def _expected_departement(postal_code: str) -> str:
    if not (len(postal_code) == 5 and postal_code.isdigit()):
        return ""
    try:
        return departement_of(postal_code)
    except PlaceError:
        return ""


def test_the_database_reads_a_postal_code_as_the_places_rule_does():
    person = PersonFactory(provisional=True)
    checks = {code: _check(code, person) for code in POSTAL_CODES}
    annotated = dict(
        checks_with_caf(IdentityCheck.objects.filter(person=person)).values_list("postal_code", "queue_departement")
    )
    assert annotated == {code: _expected_departement(code) for code in checks}
    # The cases the rule names, spelled out.
    assert (annotated["20199"], annotated["20200"], annotated["97411"], annotated["98000"]) == (
        "2A",
        "2B",
        "974",
        "980",
    )


@pytest.mark.parametrize(
    "postal_code, departement",
    [("69003", "69"), ("20000", "2A"), ("20167", "2A"), ("20200", "2B"), ("20600", "2B"), ("97411", "974")],
)
def test_a_check_belongs_to_the_caf_of_its_declared_departement(postal_code, departement):
    caf = CafFactory(departement=departement)
    CafFactory(departement="75")  # another Caf, never chosen
    check = _check(postal_code, state=IdentityCheckState.TO_VERIFY)
    assert checks_with_caf(IdentityCheck.objects.filter(pk=check.pk)).get().queue_caf_id == caf.pk
    assert person_caf_id(check.person) == caf.pk


@pytest.mark.parametrize("postal_code", ["", "98000", "2A004", "44000"])
def test_a_check_whose_departement_names_no_caf_has_none(postal_code):
    CafFactory(departement="69")
    check = _check(postal_code, state=IdentityCheckState.TO_VERIFY)
    assert checks_with_caf(IdentityCheck.objects.filter(pk=check.pk)).get().queue_caf_id is None
    assert person_caf_id(check.person) is None


def test_the_current_file_comes_before_the_declared_address():
    lyon, paris = CafFactory(departement="69"), CafFactory(departement="75")
    member = MemberFactory(dossier__caf=paris, child=True)
    check = _check("69003", member.person, state=IdentityCheckState.TO_VERIFY)
    assert checks_with_caf(IdentityCheck.objects.filter(pk=check.pk)).get().queue_caf_id == paris.pk
    assert person_caf_id(member.person) == paris.pk
    # A file the person left no longer counts: the address decides again.
    member.ended_on = datetime.date.today() - datetime.timedelta(days=1)
    member.save()
    assert checks_with_caf(IdentityCheck.objects.filter(pk=check.pk)).get().queue_caf_id == lyon.pk
