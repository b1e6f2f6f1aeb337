"""Parsing and presentation of primary identifiers (NIR, NIA, NNP, provisional)."""

import re

import pytest
from stdnum import luhn

from moncompte.identity.identifiers import (
    CROCKFORD_ALPHABET,
    Identifier,
    IdentifierError,
    IdentifierKind,
    is_canonical_value,
    new_provisional_identifier,
    nir_key,
    parse_identifier,
)

# Fixed NIRs with their keys, as printed on a card (test vectors: nothing here reads any data).
SAMPLE_NIRS = [
    "2 85 05 75 115 042 95",
    "1 83 11 69 383 117 49",
    "2 09 03 75 112 031 08",
    "2 90 02 2A 004 021 09",
]


def reference_key(value13: str) -> str:
    """The key computed independently of the code under test (service-public.fr F33078)."""
    department = value13[5:7]
    digits = value13[:5] + {"2A": "19", "2B": "18"}.get(department, department) + value13[7:]
    return f"{97 - int(digits) % 97:02d}"


def full(value13: str) -> str:
    return value13 + reference_key(value13)


def error_of(raw: str) -> IdentifierError:
    with pytest.raises(IdentifierError) as caught:
        parse_identifier(raw)
    return caught.value


# --- Sample NIRs -------------------------------------------------------------------------------


@pytest.mark.parametrize("raw", SAMPLE_NIRS)
def test_sample_nirs_have_a_correct_key(raw):
    compact = raw.replace(" ", "")
    assert reference_key(compact[:13]) == compact[13:]


@pytest.mark.parametrize("raw", SAMPLE_NIRS)
def test_sample_nirs_parse_with_their_key(raw):
    identifier = parse_identifier(raw)
    compact = raw.replace(" ", "")
    assert identifier.kind is IdentifierKind.NIR
    assert identifier.value == compact[:13]
    assert identifier.key == compact[13:]
    assert identifier.display() == raw


@pytest.mark.parametrize("raw", SAMPLE_NIRS)
def test_sample_nirs_parse_without_their_key(raw):
    compact = raw.replace(" ", "")
    assert parse_identifier(compact[:13]) == parse_identifier(raw)
    assert parse_identifier(compact) == parse_identifier(raw)


def test_corsica_in_lower_case():
    identifier = parse_identifier("2 90 02 2a 004 021 09")
    assert identifier.value == "290022A004021"
    assert identifier.display() == "2 90 02 2A 004 021 09"
    assert parse_identifier("290022a004021") == identifier


def test_corsica_letters_are_substituted_in_the_key():
    # 2A counts as 19 and 2B as 18 in the key computation.
    assert nir_key("290022A004021") == reference_key("2900219004021")
    assert nir_key("290022B004021") == reference_key("2900218004021")
    assert nir_key("290022A004021") != nir_key("290022B004021")
    assert parse_identifier(full("290022B004021")).value == "290022B004021"


def test_corsica_2a_with_the_2b_key_is_rejected():
    wrong = "290022B004021" + nir_key("290022A004021")
    assert error_of(wrong).code == "key"


# --- Separators, case, odd characters from copy and paste --------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        "285057511504295",
        "2.85.05.75.115.042.95",
        "2-85-05-75-115-042-95",
        "2 85 05 75 115 042 95 ",
        "  2 85 05 75 115 042 95\n",
        "2\u00a085\u00a005\u00a075\u00a0115\u00a0042\u00a095",  # non-breaking spaces
        "2\u202f85\u202f05\u202f75\u202f115\u202f042\u202f95",  # narrow non-breaking spaces
        "2\t85\t05\t75\t115\t042\t95",
        "2\u201385\u201305\u201375\u2013115\u2013042\u201395",  # en dashes
        "2\u201185\u201105 75 115 042 95",  # non-breaking hyphens
        "2\u200b8505\u00ad75115042\ufeff95",  # zero-width space, soft hyphen, BOM
        "\uff12\uff18\uff15\uff10\uff15\uff17\uff15\uff11\uff11\uff15\uff10\uff14\uff12\uff19\uff15",  # full width
        "2 85 05 75 115 042. 95",
        "285 057 511 504 295",
    ],
)
def test_separators_are_ignored(raw):
    assert parse_identifier(raw).value == "2850575115042"


def test_unicode_digits_other_than_ascii_are_not_digits():
    error = error_of("2850575115042\u0669\u0665")  # Arabic-Indic 9 and 5
    assert error.code == "character"
    assert "« \u0669 »" in error.message


# --- Length ------------------------------------------------------------------------------------


def test_wrong_length_message_from_the_brief():
    assert error_of("28505751150").message == (
        "Le numéro de sécurité sociale compte 13 chiffres, suivis d'une clé de 2 chiffres : vous en avez saisi 11."
    )


@pytest.mark.parametrize(
    "raw, count", [("2", 1), ("285057511504", 12), ("28505751150429", 14), ("2850575115042951", 16)]
)
def test_wrong_length_counts_what_was_typed(raw, count):
    error = error_of(raw)
    assert error.code == "length"
    assert f"vous en avez saisi {count}." in error.message


def test_length_is_counted_without_separators():
    assert "vous en avez saisi 11." in error_of("2 85 05 75 115 0").message


@pytest.mark.parametrize("raw", ["", "   ", " . - ", "\u00a0", "\u200b"])
def test_empty(raw):
    error = error_of(raw)
    assert error.code == "empty"
    assert error.message.startswith("Saisissez votre numéro de sécurité sociale")


# --- Forbidden characters ----------------------------------------------------------------------


@pytest.mark.parametrize("char", ["x", "*", "é", "+", "/", ",", "#"])
def test_forbidden_character_is_named(char):
    error = error_of("2850575" + char + "15042")
    assert error.code == "character"
    assert f"Le caractère « {char} » n'est pas admis" in error.message


def test_letter_o_hints_at_zero():
    error = error_of("2 85 O5 75 115 042 95")
    assert "« O »" in error.message
    assert "saisissez le chiffre 0" in error.message


@pytest.mark.parametrize("char", ["l", "I"])
def test_letters_i_and_l_hint_at_one(char):
    error = error_of(f"{char} 85 05 75 115 042 95")
    assert "saisissez le chiffre 1" in error.message


def test_other_letters_hint_at_provisional_identifiers():
    assert "commence par la lettre P" in error_of("ABCDE-FGHJK").message


def test_invisible_character_is_described_by_its_code_point():
    error = error_of("2850575\x0015042")
    assert error.code == "character"
    assert "invisible U+0000" in error.message


@pytest.mark.parametrize(
    "raw",
    [
        "2850575A15042",  # letter outside the département
        "290023A004021",  # 3A is no département
        "2900A2004021" + "0",  # letter in 6th position
        "A90022A004021",
        "2850575115042" + "9A",  # letter in the key
    ],
)
def test_letters_outside_corsica_are_rejected(raw):
    error = error_of(raw)
    assert error.code == "letter_position"
    assert "n'est admise qu'en 7e position, dans 2A ou 2B" in error.message


# --- Key ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("raw", SAMPLE_NIRS)
def test_wrong_key_is_rejected(raw):
    compact = raw.replace(" ", "")
    wrong_key = f"{(int(compact[13:]) % 97) + 1:02d}"
    error = error_of(compact[:13] + wrong_key)
    assert error.code == "key"
    assert error.message.startswith(f"La clé « {wrong_key} » ne correspond pas au numéro : vérifiez")


def test_one_wrong_digit_is_caught_by_the_key():
    assert error_of("2 85 05 75 115 043 95").code == "key"


def test_key_is_computed_by_stdnum():
    from stdnum.fr import nir

    for raw in SAMPLE_NIRS:
        value = raw.replace(" ", "")
        assert nir_key(value[:13]) == nir.calc_check_digits(value) == value[13:]


def test_nir_key_accepts_lower_case_and_rejects_other_shapes():
    assert nir_key("290022a004021") == "09"
    for bad in ["285057511504", "28505751150429", "2850575X15042", "29002 2A04021", "\u0662850575115042"]:
        with pytest.raises(ValueError):
            nir_key(bad)


def test_key_97_when_the_number_is_a_multiple_of_97():
    value13 = "1850575114993"  # 97 x 19078094999: May 1985, Paris
    assert int(value13) % 97 == 0
    assert nir_key(value13) == "97"
    assert parse_identifier(value13 + "97").value == value13


# --- Structure: sex, month, département --------------------------------------------------------


@pytest.mark.parametrize("sex", ["0", "5", "6", "9"])
def test_impossible_sex_digit(sex):
    error = error_of(full(sex + "850575115042"))
    assert error.code == "sex"
    assert f"« {sex} » n'est pas possible" in error.message
    assert error.message.startswith("Le premier chiffre du numéro de sécurité sociale indique le sexe")


@pytest.mark.parametrize("sex", ["1", "2", "3", "4"])
def test_sex_digits_of_nirs(sex):
    assert parse_identifier(full(sex + "850575115042")).kind is IdentifierKind.NIR


@pytest.mark.parametrize("month", ["01", "09", "12", "20", "30", "42", "50", "63", "99"])
def test_possible_months(month):
    value = "185" + month + "75115042"
    assert parse_identifier(full(value)).value == value
    assert parse_identifier(value).value == value


@pytest.mark.parametrize("month", ["00", "13", "19", "43", "49"])
def test_impossible_months(month):
    error = error_of(full("185" + month + "75115042"))
    assert error.code == "month"
    assert f"« {month} » n'est pas un mois possible" in error.message
    assert "mois de naissance" in error.message


@pytest.mark.parametrize(
    "value",
    [
        "1850501115042",  # Ain
        "1850520115042",  # Corsica before 1976, as digits
        "185052A115042",
        "185052B115042",
        "1850591115042",  # Algeria before independence
        "1850595115042",  # Morocco
        "1850596115042",  # Tunisia (service-public.fr F33078)
        "1850597112042",  # 971 Guadeloupe, commune 12
        "1850597601042",  # 976 Mayotte
        "1850598801042",  # 988 New Caledonia
        "2951099126111",  # 99 + country 126 (stdnum's example, key 93)
    ],
)
def test_possible_places_of_birth(value):
    assert parse_identifier(full(value)).value == value


def test_born_abroad_example_from_stdnum():
    identifier = parse_identifier("2 95 10 99 126 111 93")
    assert identifier.value == "2951099126111"
    assert identifier.key == "93"


def test_impossible_department():
    error = error_of(full("1850500115042"))
    assert error.code == "department"
    assert "« 00 » n'existe pas" in error.message


def test_nia_has_the_shape_of_a_nir():
    # A NIA is read as kind NIR: the Person record says it is a NIA.
    identifier = parse_identifier(full("1850599350007"))
    assert identifier.kind is IdentifierKind.NIR


# --- NNP (numbers starting with 7 or 8) --------------------------------------------------------


@pytest.mark.parametrize("value", ["7112312345678", "8212312345678", "7100000000001", "8999999999999"])
def test_nnp_with_and_without_key(value):
    for raw in (value, full(value), " ".join([value[:2], value[2:5], value[5:]])):
        identifier = parse_identifier(raw)
        assert identifier.kind is IdentifierKind.NNP
        assert identifier.value == value
    assert parse_identifier(value).key == reference_key(value)


def test_nnp_is_never_rejected_for_its_month_or_department():
    # "Month" 13 and "département" 00 as a NIR would have them.
    assert parse_identifier("7851300115042").kind is IdentifierKind.NNP
    assert parse_identifier(full("8850000115042")).kind is IdentifierKind.NNP


def test_nnp_wrong_key():
    value = "7112312345678"
    wrong = f"{int(reference_key(value)) % 97 + 1:02d}"
    assert error_of(value + wrong).code == "key"


def test_nnp_display_and_mask():
    identifier = parse_identifier("7112312345678")
    key = reference_key("7112312345678")
    assert identifier.display() == f"7 11 23 12 345 678 {key}"
    assert identifier.masked() == f"7 •• •• •• ••• ••• {key}"


@pytest.mark.parametrize("length", [12, 14])
def test_nnp_wrong_length(length):
    assert error_of("7" * length).code == "length"


# --- Identifier object -------------------------------------------------------------------------


def test_masked_shows_only_the_first_digit_and_the_key():
    identifier = parse_identifier(SAMPLE_NIRS[0])
    assert identifier.masked() == "2 •• •• •• ••• ••• 95"


def test_repr_and_str_never_show_the_number():
    identifier = parse_identifier(SAMPLE_NIRS[0])
    for text in (repr(identifier), str(identifier), f"{identifier}", str([identifier])):
        assert "2850575115042" not in text
        assert "85 05 75" not in text
    assert str(identifier) == identifier.masked()


def test_identifier_is_a_hashable_value():
    assert parse_identifier(SAMPLE_NIRS[0]) == parse_identifier("2850575115042")
    assert len({parse_identifier(d) for d in SAMPLE_NIRS + SAMPLE_NIRS}) == 4


def test_identifier_accepts_a_kind_given_as_text():
    assert Identifier("nir", "2850575115042").kind is IdentifierKind.NIR


@pytest.mark.parametrize(
    "kind, value",
    [
        (IdentifierKind.NIR, "285057511504295"),  # key included
        (IdentifierKind.NIR, "2 85 05 75 115 042"),
        (IdentifierKind.NIR, "290022a004021"),  # not upper case
        (IdentifierKind.NNP, "P0000000000"),
        (IdentifierKind.PROVISIONAL, "2850575115042"),
        (IdentifierKind.PROVISIONAL, "p0000000000"),
        (IdentifierKind.PROVISIONAL, "P000000000U"),
    ],
)
def test_identifier_refuses_non_canonical_values(kind, value):
    with pytest.raises(ValueError) as caught:
        Identifier(kind, value)
    assert value not in str(caught.value)


def test_identifier_refuses_unknown_kinds():
    with pytest.raises(ValueError):
        Identifier("passport", "2850575115042")


def test_is_canonical_value():
    assert is_canonical_value("2850575115042")
    assert is_canonical_value("290022A004021")
    assert is_canonical_value(new_provisional_identifier().value)
    assert not is_canonical_value("285057511504295")
    assert not is_canonical_value("290022a004021")
    assert not is_canonical_value("")


# --- Messages never echo the identifier --------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        "2 85 05 75 115 042 96",
        "2850575115042951",
        "5850575115042",
        "2851375115042",
        "2850500115042",
        "2850575115042x",
        "28505A75115042",
        "7112312345678" + "00",
        "P-0000-00000",
        "P-00000-00001",
    ],
)
def test_messages_never_echo_the_identifier(raw):
    error = error_of(raw)
    compact = re.sub(r"[\s.-]", "", raw)
    assert compact[:13] not in error.message
    assert compact not in error.message
    assert raw not in error.message
    assert str(error) == error.message


# --- Provisional identifiers -------------------------------------------------------------------


def test_provisional_round_trip():
    identifier = new_provisional_identifier()
    assert identifier.kind is IdentifierKind.PROVISIONAL
    assert re.fullmatch(rf"P[{CROCKFORD_ALPHABET}]{{10}}", identifier.value)
    assert luhn.calc_check_digit(identifier.value[1:10], alphabet=CROCKFORD_ALPHABET) == identifier.value[10]
    shown = identifier.display()
    assert re.fullmatch(rf"P-[{CROCKFORD_ALPHABET}]{{5}}-[{CROCKFORD_ALPHABET}]{{5}}", shown)
    assert parse_identifier(shown) == identifier
    assert parse_identifier(shown.lower()) == identifier
    assert parse_identifier(identifier.value) == identifier
    assert parse_identifier(" ".join(shown.replace("-", ""))) == identifier
    assert identifier.key is None
    assert identifier.is_provisional


def test_provisional_identifiers_are_random():
    values = {new_provisional_identifier().value for _ in range(2000)}
    assert len(values) == 2000


def test_provisional_identifier_is_never_a_nir():
    # It starts with a letter; a NIR never does.
    assert new_provisional_identifier().value[0] == "P"
    assert error_of("P2850575115042").code.startswith("provisional")


def test_provisional_masked():
    identifier = Identifier(
        IdentifierKind.PROVISIONAL, "P0A1B2C3D4" + luhn.calc_check_digit("0A1B2C3D4", alphabet=CROCKFORD_ALPHABET)
    )
    check = identifier.value[-1]
    assert identifier.display() == f"P-0A1B2-C3D4{check}"
    assert identifier.masked() == f"P-•••••-••••{check}"
    assert "0A1B2" not in repr(identifier)


def make_provisional(body: str) -> str:
    return "P" + body + luhn.calc_check_digit(body, alphabet=CROCKFORD_ALPHABET)


def test_crockford_folding():
    value = make_provisional("0011ABCDE")
    assert parse_identifier("PO0IL-ABCDE" + value[-1]).value == value
    assert parse_identifier("p-oo1l-abcde" + value[-1].lower()).value == value
    assert parse_identifier("PoOiL.aBcDe" + value[-1]).value == value


def test_folded_check_character():
    # A check character 0 or 1 may be typed O, I or L.
    for body in ("000000000", "100000000", "ZZZZZZZZZ", "ABCDEFGHJ", "KMNPQRSTV", "WXYZ01234"):
        value = make_provisional(body)
        assert parse_identifier(value).value == value


def test_every_single_wrong_character_is_caught():
    value = make_provisional("7K3MZ9QRT")
    for position in range(1, 11):
        for replacement in CROCKFORD_ALPHABET:
            if replacement == value[position]:
                continue
            typo = value[:position] + replacement + value[position + 1 :]
            error = error_of(typo)
            assert error.code == "provisional_check"
            assert error.message.startswith("Cet identifiant provisoire n'est pas valide")


def test_swapped_neighbours_are_caught():
    value = make_provisional("7K3MZ9QRT")
    swapped = value[:3] + value[4] + value[3] + value[5:]
    assert swapped != value
    assert error_of(swapped).code == "provisional_check"


@pytest.mark.parametrize("char", ["U", "u", "*", "é"])
def test_provisional_forbidden_character(char):
    error = error_of("P-0000" + char + "-00000")
    assert error.code == "provisional_character"
    assert f"Le caractère « {char} » n'est pas admis dans un identifiant provisoire" in error.message


@pytest.mark.parametrize("raw, count", [("P", 1), ("P-0000-0000", 9), ("P-00000-000000", 12)])
def test_provisional_wrong_length(raw, count):
    error = error_of(raw)
    assert error.code == "provisional_length"
    assert error.message == (
        "L'identifiant provisoire compte 11 caractères (la lettre P suivie de 10 chiffres ou "
        f"lettres) : vous en avez saisi {count}."
    )


def test_all_error_codes_are_documented():
    documented = IdentifierError.__doc__
    for raw in [
        "",
        "x",
        "1",
        "2850575A15042",
        "5850575115042",
        "2851375115042",
        "2850500115042",
        "285057511504296",
        "PU",
        "P1",
        "P0000000001",
    ]:
        assert error_of(raw).code in documented
