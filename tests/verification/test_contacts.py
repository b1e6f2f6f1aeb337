import pytest

from moncompte.verification.contacts import mask_destination, mask_email, mask_phone, normalize_email, parse_mobile


@pytest.mark.parametrize(
    ("typed", "e164"),
    [
        # Metropolitan France, every usual way of typing it.
        ("06 12 34 56 78", "+33612345678"),
        ("0612345678", "+33612345678"),
        ("06.12.34.56.78", "+33612345678"),
        ("06-12-34-56-78", "+33612345678"),
        ("+33 6 12 34 56 78", "+33612345678"),
        ("+33 (0)6 12 34 56 78", "+33612345678"),
        ("0033 6 12 34 56 78", "+33612345678"),
        ("07 56 12 34 56", "+33756123456"),
        # Overseas, typed with the local prefix: the prefix tells the territory.
        ("0690 12 34 56", "+590690123456"),  # Guadeloupe
        ("0696 12 34 56", "+596696123456"),  # Martinique
        ("0694 12 34 56", "+594694123456"),  # Guyane
        ("0692 12 34 56", "+262692123456"),  # La Réunion
        ("0693 12 34 56", "+262693123456"),  # La Réunion
        ("0639 69 12 34", "+262639691234"),  # Mayotte
        ("87 12 34 56", "+68987123456"),  # Polynésie française (8 digits, no other reading)
        # Overseas, with the country code.
        ("+590 690 12 34 56", "+590690123456"),
        ("+262 692 12 34 56", "+262692123456"),
        ("+508 55 12 34", "+508551234"),  # Saint-Pierre-et-Miquelon
        ("+687 75 12 34", "+687751234"),  # Nouvelle-Calédonie
        ("+689 87 12 34 56", "+68987123456"),  # Polynésie française
        ("+681 82 12 34", "+681821234"),  # Wallis-et-Futuna
        ("00590 690 12 34 56", "+590690123456"),
        # An overseas mobile written with +33 by mistake.
        ("+33 690 12 34 56", "+590690123456"),
    ],
)
def test_mobile_numbers_are_read_as_e164(typed, e164):
    assert parse_mobile(typed) == e164


@pytest.mark.parametrize(
    "typed",
    ["01 23 45 67 89", "04 72 12 34 56", "+33 1 23 45 67 89", "0590 12 34 56", "0262 12 34 56"],
)
def test_landlines_are_refused_in_french(typed):
    with pytest.raises(ValueError, match="téléphone fixe, qui ne peut pas recevoir de SMS"):
        parse_mobile(typed)


@pytest.mark.parametrize(
    "typed",
    ["", "   ", "abc", "06 12 34", "06 12 34 56 78 90 12", "06 CALL ME 12", "+33 6", "123", "++33612345678", "0" * 40],
)
def test_garbage_is_refused_in_french(typed):
    with pytest.raises(ValueError, match="n'est pas valide"):
        parse_mobile(typed)


def test_other_refusals_say_why():
    with pytest.raises(ValueError, match="ne peut pas recevoir de SMS"):
        parse_mobile("09 12 34 56 78")  # a VoIP number
    with pytest.raises(ValueError, match="France \\(métropole et outre-mer\\)"):
        parse_mobile("+32 470 12 34 56")  # a Belgian mobile
    with pytest.raises(ValueError, match="plusieurs territoires"):
        parse_mobile("75 12 34")  # Nouvelle-Calédonie or Saint-Pierre-et-Miquelon: say which


def test_sms_regions_are_a_setting(settings):
    settings.MONCOMPTE_SMS_REGIONS = ["FR", "BE"]
    assert parse_mobile("+32 470 12 34 56") == "+32470123456"
    with pytest.raises(ValueError):
        parse_mobile("0690 12 34 56")


@pytest.mark.parametrize(
    ("typed", "normalized"),
    [
        ("claire.martin@example.fr", "claire.martin@example.fr"),
        ("  Claire.Martin@EXAMPLE.FR  ", "Claire.Martin@example.fr"),
        ("marc+caf@Sub.Example.COM", "marc+caf@sub.example.com"),
        ("lea@Exémple.fr", "lea@exémple.fr"),  # an internationalized domain
    ],
)
def test_emails_are_normalized(typed, normalized):
    assert normalize_email(typed) == normalized


@pytest.mark.parametrize(
    "typed",
    [
        "",
        "claire",
        "claire@",
        "@example.fr",
        "léa@exemple.fr",
        "claire@@example.fr",
        "claire@example",
        "cla ire@example.fr",
        "a@b@c.fr",
    ],
)
def test_invalid_emails_are_refused_in_french(typed):
    with pytest.raises(ValueError, match="Saisissez une adresse électronique valide"):
        normalize_email(typed)


def test_masks():
    assert mask_email("claire.martin@example.fr") == "c•••@e•••.fr"
    assert mask_email("m@mail.example.co.uk") == "m•••@m•••.uk"
    assert mask_phone("+33611223344") == "06 •• •• •• 44"
    assert mask_phone("+590690123456") == "0690 •• •• 56"
    assert mask_phone("+262692123456") == "0692 •• •• 56"
    assert mask_phone("+68987123456") == "87 •• •• 56"
    assert mask_phone("+687751234") == "75 •• 34"
    assert mask_destination("email", "claire.martin@example.fr") == "c•••@e•••.fr"
    assert mask_destination("phone", "+33611223344") == "06 •• •• •• 44"
    # A mask never shows more than the first group and the last two digits.
    for number in ["+33611223344", "+590690123456", "+262639691234", "+508551234", "+681821234"]:
        masked = mask_phone(number)
        assert sum(char.isdigit() for char in masked) <= 6, masked
