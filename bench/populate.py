"""Creates the benchmark's people, accounts and files (run by bench/signin.py in a subprocess).

Usage: ``python -m bench.populate COUNT OUTPUT.json`` with the server's environment (same
database, same identifier keys). Writes to OUTPUT.json, for each person, what the client needs
to sign in: the identifier as typed, the password, the Person's primary key, the name shown.
"""

import datetime
import json
import os
import sys

FIRST_NAMES = ["Camille", "Dominique", "Alix", "Sacha", "Claude", "Morgan", "Lou", "Charlie", "Noa", "Eden"]
SURNAMES = ["MARTIN", "BERNARD", "THOMAS", "PETIT", "ROBERT", "RICHARD", "DURAND", "DUBOIS", "MOREAU", "LAURENT"]
BENEFITS = [("AF", "Allocations familiales", 14852), ("APL", "Aide personnalisée au logement", 24500)]
PAYMENT_MONTHS = 6


def person_fields(index: int) -> dict:
    """The fictional person number ``index``: a valid NIR (men born in Paris), names, password."""
    from stdnum.fr import nir

    yy, mm = 40 + index % 60, 1 + (index // 60) % 12
    commune, order = 101 + index // 1000, 1 + index % 1000
    body = f"1{yy:02d}{mm:02d}75{commune:03d}{order:03d}"
    first, last = FIRST_NAMES[index % len(FIRST_NAMES)], f"{SURNAMES[index % len(SURNAMES)]}-{index}"
    return {
        "identifier": body + nir.calc_check_digits(body),
        "first_names": first,
        "birth_name": last,
        "display_name": f"{first} {last}",
        "birth_date": datetime.date(1900 + yy, mm, 1 + index % 28),
        "password": f"Banc-{index:05d}-essai",
    }


def _payment_dates(today: datetime.date) -> list[datetime.date]:
    year, month = today.year, today.month
    dates = []
    for _ in range(PAYMENT_MONTHS):
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
        dates.append(datetime.date(year, month, 5))
    return dates


def populate(count: int) -> list[dict]:
    from django.db import transaction

    try:
        from moncompte.core.actors import Actor, ContactChannel

        by_system = {"actor": Actor.system()}
    except ImportError:  # before issue 7's acting person and single contact-channel enum
        from moncompte.accounts.models import ContactKind as ContactChannel

        by_system = {}
    from moncompte.accounts.onboarding import onboarding_record_seen
    from moncompte.accounts.services import account_create, contact_add_verified
    from moncompte.households.models import Benefit, Caf, Dossier, Member, Payment, Role
    from moncompte.identity.identifiers import parse_identifier
    from moncompte.identity.services import person_create

    people = []
    dates = _payment_dates(datetime.date.today())
    with transaction.atomic():
        caf = Caf.objects.create(code="751", name="Caf de Paris", departement="75")
        for index in range(count):
            fields = person_fields(index)
            person = person_create(
                identifier=parse_identifier(fields["identifier"]),
                first_names=fields["first_names"],
                birth_name=fields["birth_name"],
                birth_date=fields["birth_date"],
                sex="M",
                birth_place_code=f"75{101 + index // 1000:03d}",
            )
            account = account_create(**by_system, person=person, password=fields["password"])
            # A usual usager: one validated contact, so the account is usable right after sign-in.
            contact_add_verified(account=account, kind=ContactChannel.EMAIL, value=f"usager{index}@example.invalid")
            # Signed in before: the first-connection screens are behind them, sign-ins go home.
            onboarding_record_seen(account=account)
            dossier = Dossier.objects.create(
                caf=caf,
                numero=f"{index + 1:07d}",
                address_line1=f"{index + 1} rue du Banc",
                postal_code="75011",
                city="Paris",
            )
            Member.objects.create(
                dossier=dossier, person=person, role=Role.RESPONSABLE, joined_on=datetime.date(2015, 1, 1)
            )
            for code, label, cents in BENEFITS:
                benefit = Benefit.objects.create(
                    dossier=dossier,
                    code=code,
                    label=label,
                    monthly_amount_cents=cents,
                    started_on=datetime.date(2020, 1, 1),
                )
                Payment.objects.bulk_create(
                    Payment(dossier=dossier, benefit=benefit, paid_on=paid_on, amount_cents=cents) for paid_on in dates
                )
            people.append(
                {
                    "identifier": fields["identifier"],
                    "password": fields["password"],
                    "person_pk": person.pk,
                    "display_name": fields["display_name"],
                }
            )
    return people


def main() -> None:
    count, output = int(sys.argv[1]), sys.argv[2]
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    people = populate(count)
    with open(output, "w", encoding="utf-8") as handle:
        json.dump(people, handle)


if __name__ == "__main__":
    main()
