"""The password policy (moncompte.accounts.passwords), its form snippet and its script."""

import datetime
import gzip
import importlib.util
import re
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
from django import forms
from django.conf import settings as django_settings
from django.contrib.auth.password_validation import get_password_validators, validate_password
from django.core.exceptions import ValidationError
from django.template.loader import render_to_string

from moncompte.accounts import passwords
from moncompte.accounts.passwords import (
    MAX_LENGTH,
    MonComptePasswordValidator,
    PasswordProblem,
    common_passwords,
    is_common,
    password_min_length,
    password_problems,
    password_rules_for_display,
    validate_password_for,
)
from moncompte.identity.identifiers import new_provisional_identifier, parse_identifier
from moncompte.identity.models import Person
from moncompte.identity.protection import encrypt_identifier

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "moncompte" / "web" / "static" / "web" / "password-checks.js"
GENERATOR = ROOT / "moncompte" / "accounts" / "data" / "build_french_passwords.py"

# A fixed NIR and birth date for the person below (test vectors: nothing here reads any data).
SAMPLE_NIR = "2 85 05 75 115 042 95"
SAMPLE_BIRTH = datetime.date(1985, 5, 12)
# Nothing common, no name, no date: only what each test adds can be refused.
GOOD = "Quatre chevaux 9 verts"


def claire() -> Person:
    """An unsaved person: nothing here needs the database."""
    value = parse_identifier(SAMPLE_NIR).value
    return Person(
        identifier_type="nir",
        identifier_encrypted=encrypt_identifier(value),
        first_names="Claire Hélène",
        birth_name="Dubois",
        usage_name="Martin-Lefèvre",
        birth_date=SAMPLE_BIRTH,
        sex="F",
    )


def codes(password, **kwargs) -> set[str]:
    return {problem.code for problem in password_problems(password, **kwargs)}


@pytest.fixture
def default_min_length(settings):
    if hasattr(django_settings, "MONCOMPTE_PASSWORD_MIN_LENGTH"):
        del settings.MONCOMPTE_PASSWORD_MIN_LENGTH


# Length, letter, digit ------------------------------------------------------------------------


def test_a_good_password_passes_every_rule():
    assert password_problems(GOOD) == []
    assert password_problems(GOOD, person=claire()) == []
    validate_password_for(GOOD, person=claire())


def test_min_length_is_12_by_default(default_min_length):
    assert password_min_length() == 12
    problems = password_problems("Chevaux 9v")  # 10 characters
    assert (
        PasswordProblem("password_too_short", "Le mot de passe doit contenir au moins 12 caractères : il en a 10.")
        in problems
    )
    assert "password_too_short" not in codes("Chevaux 9 vx")  # 12 characters
    assert "password_too_short" in codes("Chevaux 9 v")  # 11 characters


def test_too_short_message_counts_the_characters(default_min_length):
    (problem,) = [p for p in password_problems("Chevaux9v") if p.code == "password_too_short"]
    assert problem.message == "Le mot de passe doit contenir au moins 12 caractères : il en a 9."


def test_min_length_follows_the_setting(settings):
    settings.MONCOMPTE_PASSWORD_MIN_LENGTH = 16
    assert "password_too_short" in codes("Quatre chevaux9")  # 15 characters
    assert "password_too_short" not in codes("Quatre chevaux 9")  # 16 characters
    (problem,) = [p for p in password_problems("Chevaux 9 vert") if p.code == "password_too_short"]
    assert problem.message == "Le mot de passe doit contenir au moins 16 caractères : il en a 14."
    assert ("length", "Au moins 16 caractères") in password_rules_for_display()
    assert "16 caractères" in MonComptePasswordValidator().get_help_text()


def test_max_length_is_128():
    assert MAX_LENGTH == 128
    at_max = "Quatre chevaux 9 verts " + "x" * (MAX_LENGTH - 23)
    assert len(at_max) == MAX_LENGTH
    assert password_problems(at_max) == []
    problems = password_problems(at_max + "y")
    assert (
        PasswordProblem("password_too_long", "Le mot de passe doit contenir au plus 128 caractères : il en a 129.")
        in problems
    )


def test_a_huge_password_is_answered_at_once():
    start = time.perf_counter()
    assert "password_too_long" in codes("a1" * 500_000)
    assert time.perf_counter() - start < 0.5


def test_spaces_are_allowed_and_count():
    assert password_problems("vert 7 bleu 9") == []  # 13 characters, 3 of them spaces


def test_a_letter_is_required():
    assert "password_no_letter" in codes("4815 1623 4281 9")
    assert "password_no_letter" not in codes(GOOD)
    assert "password_no_letter" not in codes("É 4815 1623 4281")  # any alphabet


def test_a_digit_is_required():
    assert "password_no_digit" in codes("Quatre chevaux verts")
    assert "password_no_digit" not in codes("Quatre chevaux verts ٣")  # any decimal digit


def test_no_other_composition_rule():
    # No upper case, no symbol required.
    assert password_problems("quatre chevaux 9 verts") == []


# Common passwords -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "password",
    [
        "1qaz2wsx3edc",  # Django's list
        "qwerty123456",  # Django's list
        "QWERTY123456",  # case is ignored
        "motdepasse2024",  # French list
        "Azerty123!",  # stripped of its digits and symbols: "azerty"
        "Azerty2021!",
        "AZERTY2021!!",
        "2024Soleil!!",
        "!!Marseille13",
        "qsdfghjklm2024",  # AZERTY keyboard walk
        "Chouchou1234",
        "Jetaime2023!",
        "mot de passe 2024",  # spaces ignored
        "Chérie 2024!!",  # accents ignored: "cherie"
        "P@ssw0rd2024",  # leetspeak
        "soleilsoleil1",  # repeated word
        "x1x1x1x1x1x1",  # short repeated unit
        "ab12ab12ab12",
    ],
)
def test_common_passwords_are_refused(password):
    assert is_common(password)
    problems = [p for p in password_problems(password) if p.code == "password_too_common"]
    assert problems
    assert problems[0].message.startswith("Ce mot de passe est trop courant")


@pytest.mark.parametrize(
    "password",
    [
        GOOD,
        "Soleil et lune 2024",  # common words, but a passphrase
        "48:29!71;03a",  # what is left at the ends is too short to mean anything
        "Lyon1983rouge",
    ],
)
def test_uncommon_passwords_pass(password):
    assert not is_common(password)


def test_blocklist_sizes():
    with gzip.open(passwords.DJANGO_LIST_PATH, "rt", encoding="utf-8") as f:
        django_list = {line.strip() for line in f} - {""}
    french = passwords.FRENCH_LIST_PATH.read_text(encoding="utf-8").splitlines()
    assert len(django_list) >= 19_000
    assert len(french) >= 2_000
    assert len(set(french) - django_list) >= 2_000
    assert len(common_passwords()) >= 10_000
    assert common_passwords() == frozenset(django_list | set(french))


def test_french_list_is_clean_and_covers_france():
    french = passwords.FRENCH_LIST_PATH.read_text(encoding="utf-8").splitlines()
    assert french == sorted(set(french)), "sorted, without duplicates"
    assert all(line and line == line.lower() and line == line.strip() for line in french)
    words = set(french)
    for expected in [
        "azerty",
        "motdepasse",
        "soleil",
        "doudou",
        "chouchou",
        "loulou",
        "marseille",
        "paris",
        "bonjour",
        "jetaime",
        "nicolas",
        "camille",
        "chocolat",
        "football",
        "princesse",
        "azertyuiop",
        "qsdfghjklm",
        "wxcvbn",
        "azerty123",
        "soleil2021",
        "marseille13",
        "paris75",
        "chocolat1234",
        "doudou01",
        "jetaime!",
    ]:
        assert expected in words, expected


def test_the_french_list_is_the_generator_output():
    spec = importlib.util.spec_from_file_location("build_french_passwords", GENERATOR)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.OUTPUT == passwords.FRENCH_LIST_PATH
    assert module.build() == passwords.FRENCH_LIST_PATH.read_text(encoding="utf-8").splitlines()


def test_blocklist_is_loaded_once():
    assert common_passwords() is common_passwords()
    assert isinstance(common_passwords(), frozenset)


# Identifier -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "password",
    [
        "x2850575115042 vert",  # 13 first characters
        "x285057511504295 vert",  # with the key
        "2 85 05 75 115 042 95 vert",  # as printed on the card
        "2.85.05.75.115.042.95 vert",
        "vert-2850575115042-x",
    ],
)
def test_the_nir_is_refused(password):
    assert "password_contains_nir" in codes(password, identifier=parse_identifier(SAMPLE_NIR))
    assert "password_contains_nir" in codes(password, identifier=SAMPLE_NIR)  # also as typed
    assert "password_contains_nir" in codes(password, person=claire())


def test_another_number_or_part_of_the_nir_passes():
    assert "password_contains_nir" not in codes("x1830569383117 vert", identifier=parse_identifier(SAMPLE_NIR))
    assert "password_contains_nir" not in codes("x285057511504 vert", identifier=parse_identifier(SAMPLE_NIR))


def test_a_corsican_nir_is_found_in_any_case():
    corsican = parse_identifier("2 90 02 2A 004 021 09")
    assert "password_contains_nir" in codes("mer 290022a004021 x", identifier=corsican)
    assert "password_contains_nir" in codes("mer 2 90 02 2A 004 021 09", identifier=corsican)


def test_the_provisional_identifier_is_refused():
    identifier = new_provisional_identifier()
    problems = password_problems(f"vert {identifier.display().lower()} 9", identifier=identifier)
    assert [p.code for p in problems] == ["password_contains_identifier"]
    assert problems[0].message == "Le mot de passe ne doit pas contenir votre identifiant provisoire."


# Names ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "password",
    [
        "Claire 9 chevaux",  # first of the first names
        "9 chevaux helene",  # second first name, without its accent
        "9 chevaux DUBOIS",  # birth name, upper case
        "9 chevaux martin",  # part of the usage name
        "9 chevaux lefevre",  # other part, accent stripped
        "9 chevauxDubois!",  # inside a word
    ],
)
def test_names_are_refused(password):
    assert "password_contains_name" in codes(password, person=claire())
    names = {"first_names": "Claire Hélène", "birth_name": "Dubois", "usage_name": "Martin-Lefèvre"}
    assert "password_contains_name" in codes(password, **names)


def test_a_name_is_found_without_its_accents():
    assert "password_contains_name" in codes("lea2009abcdefgh", first_names="Léa")
    assert "password_contains_name" in codes("LÉA 2009 abcdefgh", first_names="Lea")
    assert "password_contains_name" in codes("Noel 2009 abcdefgh", birth_name="Noël")
    assert "password_contains_name" in codes("coeur 2009 abcdefg", first_names="Cœur")


def test_names_of_fewer_than_3_letters_are_not_looked_for():
    assert "password_contains_name" not in codes("Quatre chevaux 9 ng", birth_name="Ng")
    assert "password_contains_name" not in codes(GOOD, person=claire())


def test_a_name_given_with_the_person_is_looked_for_too():
    assert "password_contains_name" in codes("9 chevaux bernard", person=claire(), usage_name="Bernard")


# Birth date -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "password",
    [
        "Chevaux 12051985",  # DDMMYYYY
        "Chevaux 120585 x",  # DDMMYY
        "Chevaux 19850512",  # YYYYMMDD
        "Chevaux 12/05/1985",  # DD/MM/YYYY
        "Chevaux 12-05-1985",  # DD-MM-YYYY
        "Chevaux 12.05.1985",  # DD.MM.YYYY
        "Chevaux 1985-05-12",  # YYYY-MM-DD
        "Chevaux 12 05 1985",
        "Chevaux 12/5/1985",  # without leading zero
        "Chevaux 12/05/85",
        "1205 chevaux 1985",  # DDMM and the year apart
        "1985 chevaux 1205",
        "12/05 chevaux 1985",
    ],
)
def test_the_birth_date_is_refused(password):
    assert "password_contains_birth_date" in codes(password, birth_date=SAMPLE_BIRTH)
    assert "password_contains_birth_date" in codes(password, person=claire())


@pytest.mark.parametrize(
    "password",
    [
        "Chevaux verts 1985",  # the year alone: too many false alarms
        "Chevaux verts 1205",  # day and month alone
        "Chevaux 13051985",  # another date
        GOOD,
    ],
)
def test_other_dates_pass(password):
    assert "password_contains_birth_date" not in codes(password, birth_date=SAMPLE_BIRTH)


def test_day_month_and_year_may_not_be_the_same_digits():
    # Born 19 December 1912: "1912" is both DDMM and YYYY; once is only the year.
    born = datetime.date(1912, 12, 19)
    assert "password_contains_birth_date" not in codes("Chevaux 1912 verts", birth_date=born)
    assert "password_contains_birth_date" in codes("Chevaux 1912 verts 1912", birth_date=born)


# The person, the error, the validator ----------------------------------------------------------


def test_every_personal_rule_comes_from_the_person():
    problems = password_problems("vert claire 2850575115042 12/05/1985", person=claire())
    assert [p.code for p in problems] == [
        "password_contains_nir",
        "password_contains_name",
        "password_contains_birth_date",
    ]


def test_validate_password_for_lists_every_message():
    with pytest.raises(ValidationError) as error:
        validate_password_for("azerty", person=claire())
    assert error.value.messages == [
        "Le mot de passe doit contenir au moins 12 caractères : il en a 6.",
        "Le mot de passe doit contenir au moins un chiffre.",
        passwords.MESSAGE_COMMON,
    ]
    assert [e.code for e in error.value.error_list] == [
        "password_too_short",
        "password_no_digit",
        "password_too_common",
    ]


def test_messages_are_french_and_reveal_nothing_personal():
    problems = password_problems("Claire 2850575115042 12/05/1985 azerty", person=claire())
    problems += password_problems("az" + "é" * 200)
    assert {p.code for p in problems} >= {
        "password_contains_nir",
        "password_contains_name",
        "password_contains_birth_date",
        "password_too_long",
        "password_no_digit",
    }
    for problem in problems:
        assert problem.message.startswith(("Le mot de passe", "Ce mot de passe")), problem.message
        assert problem.message.endswith(".")
        for secret in ("Claire", "2850575115042", "1985", "password"):
            assert secret not in problem.message


def test_problems_are_immutable():
    problem = password_problems("x")[0]
    with pytest.raises(AttributeError):
        problem.code = "other"


def test_the_validator_uses_the_account_person():
    validator = MonComptePasswordValidator()
    validator.validate(GOOD, SimpleNamespace(person=claire()))
    validator.validate(GOOD)
    validator.validate("9 chevaux Claire")  # without a person, no name to look for
    validator.validate("9 chevaux Claire", object())
    with pytest.raises(ValidationError) as error:
        validator.validate("9 chevaux Claire", SimpleNamespace(person=claire()))
    assert error.value.error_list[0].code == "password_contains_name"


def test_the_validator_works_through_django():
    validators = get_password_validators([{"NAME": "moncompte.accounts.passwords.MonComptePasswordValidator"}])
    validate_password(GOOD, SimpleNamespace(person=claire()), password_validators=validators)
    with pytest.raises(ValidationError) as error:
        validate_password("Azerty2021!", None, password_validators=validators)
    assert passwords.MESSAGE_COMMON in error.value.messages


def test_validator_help_text_is_french(default_min_length):
    text = MonComptePasswordValidator().get_help_text()
    assert text.startswith("Votre mot de passe doit contenir au moins 12 caractères")
    assert "numéro de sécurité sociale" in text


def test_rules_for_display(default_min_length):
    rules = password_rules_for_display()
    assert [code for code, _ in rules] == ["length", "letter", "digit", "common", "nir", "name", "birth_date"]
    assert rules[0] == ("length", "Au moins 12 caractères")
    assert password_rules_for_display(min_length=14)[0] == ("length", "Au moins 14 caractères")


# Form snippet and script ------------------------------------------------------------------------


class NewPasswordForm(forms.Form):
    new_password = forms.CharField(label="Nouveau mot de passe", strip=False, widget=forms.PasswordInput)


def render_field(form, min_length=12):
    return render_to_string("web/_password_field.html", {"field": form["new_password"], "min_length": min_length})


def test_the_snippet_renders_the_dsfr_password_group():
    html = render_field(NewPasswordForm(), min_length=14)
    assert 'class="fr-password ' in html
    assert 'autocomplete="new-password"' in html
    assert 'type="password"' in html
    assert 'data-password-checks="id_new_password-regles"' in html
    assert 'data-min-length="14"' in html
    assert '<ul class="fr-messages-group fr-raw-list fr-col-12" id="id_new_password-regles">' in html
    assert 'aria-describedby="id_new_password-regles"' in html
    assert 'aria-live="polite"' in html
    assert "fr-password__checkbox" in html
    assert ">Afficher</label>" in html
    assert "aria-invalid" not in html
    assert "<script" not in html
    # The live rules are worded as password_rules_for_display words them.
    displayed = dict(password_rules_for_display(min_length=14))
    for rule in ("length", "letter", "digit"):
        assert re.search(rf'data-rule="{rule}"[^>]*>{re.escape(displayed[rule])}</li>', html), rule


def test_the_snippet_shows_errors_and_never_the_password():
    form = NewPasswordForm(data={"new_password": "Secret-Value-4711"})
    assert form.is_valid()
    form.add_error("new_password", "Le mot de passe ne doit pas contenir votre date de naissance.")
    html = render_field(form)
    assert "Secret-Value-4711" not in html
    assert "value=" not in html
    assert "fr-input-group--error" in html
    assert 'aria-invalid="true"' in html
    assert 'aria-describedby="id_new_password-erreur id_new_password-regles"' in html
    assert 'id="id_new_password-erreur"' in html
    assert "Le mot de passe ne doit pas contenir votre date de naissance." in html


def test_the_script_exists_and_builds_no_html():
    source = SCRIPT.read_text(encoding="utf-8")
    for forbidden in ("eval(", "new Function", "innerHTML", "outerHTML", "insertAdjacentHTML", "document.write"):
        assert forbidden not in source, forbidden
    assert not re.search(r"setTimeout\(\s*['\"]", source), "no string given to setTimeout"
    for expected in ("data-password-checks", "data-min-length", "fr-message--valid", "fr-message--info"):
        assert expected in source
    assert "textContent" in source
