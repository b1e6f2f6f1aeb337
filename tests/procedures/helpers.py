"""What the procedure tests share: actors, and the housing aid's steps filled in."""

import datetime

from django.utils import timezone

from moncompte.core.actors import Actor, Channel

HOUSING = {
    "logement": {
        "status": "locataire",
        "kind": "appartement",
        "entered_day": "01",
        "entered_month": "09",
        "entered_year": "2025",
    },
    "loyer": {
        "address_line1": "12 rue des Lilas",
        "postal_code": "75011",
        "city": "Paris",
        "rent": "650",
        "charges": "80,50",
        "landlord": "Paris Habitat",
    },
    "identite": {"confirm": "on"},
    "ressources": {"reference_income": "21000", "tax_shares": "2,5", "last_quarter_resources": "4500"},
}


def acting(person, channel=Channel.WEB) -> Actor:
    return Actor(channel=channel, person=person)


def visitor() -> Actor:
    return Actor.visitor(channel=Channel.WEB, client_address="192.0.2.10")


# The other types' steps filled in (moncompte/procedures/types/), with dates relative to today so
# that they stay within each type's bounds (a move of less than 2 years, a birth of less than 1).


def _parts(prefix: str, days_ago: int) -> dict:
    day = timezone.localdate() - datetime.timedelta(days=days_ago)
    return {f"{prefix}_day": f"{day.day:02d}", f"{prefix}_month": f"{day.month:02d}", f"{prefix}_year": str(day.year)}


def last_month() -> str:
    """The previous month, as the resources change's month choice ("2026-10")."""
    first = timezone.localdate().replace(day=1) - datetime.timedelta(days=1)
    return f"{first.year:04d}-{first.month:02d}"


RESOURCES_3_MONTHS = {"salaries": "3600", "self_employed": "0", "unemployment": "450,50", "other": "0"}
FRANCE_TRAVAIL_STEP = {"registered": "oui", "compensated": "non"}

ACTIVITY_BONUS = {
    "situation": {"activity": "salariee", **_parts("since", 400)},
    "foyer": {"children": "2", "partner": "non"},
    "ressources": dict(RESOURCES_3_MONTHS),
    "france-travail": dict(FRANCE_TRAVAIL_STEP),
    "quotient-familial": {"family_quotient": "640"},
}

RSA = {
    "situation": {"living": "seul", "children": "1"},
    "logement": {"housing": "sans_domicile", "domiciliation": "CCAS de Lyon"},
    "ressources": {"salaries": "0", "self_employed": "0", "unemployment": "0", "other": "120"},
    "france-travail": {"registered": "oui", "compensated": "oui"},
    "engagement": {"accept": "on"},
}

ADDRESS_CHANGE = {
    "adresse": {"address_line1": "3 place Bellecour", "postal_code": "69002", "city": "Lyon"},
    "demenagement": {**_parts("moved", 20), "status": "locataire"},
}

RESOURCES_CHANGE = {
    "date": {"month": last_month()},
    "montants": {"salaries": "0", "self_employed": "0", "unemployment": "1150", "other": "0"},
}

BIRTH_DECLARATION = {
    "enfant": {"first_names": "Lina  Rose", "birth_name": "martin", "sex": "F"},
    "naissance": {**_parts("birth", 10), "birth_place": "Lyon (69)"},
}

SEPARATION = {
    "date": _parts("separated", 5),
    "depart": {"leaving": "moi"},
    "adresse": {"address_line1": "1 rue Neuve", "postal_code": "69001", "city": "Lyon"},
    "confirmation": {"confirm": "on"},
}

FILLED = {
    "aide-au-logement": HOUSING,
    "prime-d-activite": ACTIVITY_BONUS,
    "rsa": RSA,
    "changement-adresse": ADDRESS_CHANGE,
    "changement-ressources": RESOURCES_CHANGE,
    "declaration-naissance": BIRTH_DECLARATION,
    "separation": SEPARATION,
}
