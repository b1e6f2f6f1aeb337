"""Writes a synthetic CSV of legacy files in the import format (docs/legacy-import.md).

Usage: ``python bench/legacy_csv.py --households 100000 --out /tmp/legacy.csv [--seed 42]``

Every person is fictional. The NIRs are valid and unique: sex, birth year and month, birth place
(départements 01-95, sometimes 2A/2B, overseas 971-974, or 99 for people born abroad) agree with
the other columns, and the key comes from python-stdnum; about 1 % of the people hold a
provisional number (NNP) starting with 7 or 8. The identifiers are written in the shapes seen in
real exports: 15 digits, with spaces, with dots, or without their key. Each household has 1 to 6
members: the responsible person, often a spouse, children, sometimes another person (a
grandparent); about 1 % of the "other" persons already belong to another file, so that persons
are reused across files. Caf codes are taken among about 100 (one per département), and
(Caf, numéro allocataire) is unique.
"""

from __future__ import annotations

import argparse
import csv
import datetime
import random
import sys
import time
from pathlib import Path

from stdnum.fr import nir

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script from anywhere
from moncompte.households.legacy_format import COLUMNS, DELIMITER  # noqa: E402

FEMALE = (
    "Marie Nathalie Isabelle Sylvie Catherine Sandrine Christine Véronique Valérie Céline Julie Camille Léa "
    "Manon Chloé Emma Inès Jade Louise Zoé Sarah Lucie Clara Anaïs Laura Aurélie Émilie Sophie Élodie Amandine "
    "Fatima Aïcha Nadia Yasmine Mélanie Hélène Françoise Monique Josiane Agnès Océane Maëlle Léna Rose Alice"
).split()
MALE = (
    "Jean Pierre Michel Philippe Alain Nicolas Christophe Stéphane Laurent Sébastien Julien David Thomas Lucas "
    "Hugo Louis Gabriel Arthur Raphaël Jules Nathan Théo Maxime Antoine Mathieu Kévin Mohamed Karim Youssef "
    "Mehdi Olivier François Éric Patrick Thierry Bernard Rémi Noé Adam Léo Paul Baptiste Timothée Gaël"
).split()
SURNAMES = (
    "MARTIN BERNARD THOMAS PETIT ROBERT RICHARD DURAND DUBOIS MOREAU LAURENT SIMON MICHEL LEFEBVRE LEROY ROUX "
    "DAVID BERTRAND MOREL FOURNIER GIRARD BONNET DUPONT LAMBERT FONTAINE ROUSSEAU VINCENT MULLER LEFEVRE FAURE "
    "ANDRE MERCIER BLANC GUERIN BOYER GARNIER CHEVALIER FRANCOIS LEGRAND GAUTHIER GARCIA PERRIN ROBIN CLEMENT "
    "MORIN NICOLAS HENRY ROUSSEL MATHIEU GAUTIER MASSON MARCHAND DUVAL DENIS DUMONT MARIE LEMAIRE NOEL MEYER "
    "DUFOUR MEUNIER BRUN BLANCHARD GIRAUD JOLY RIVIERE LUCAS BRUNET GAILLARD BARBIER ARNAUD MARTINEZ GERARD "
    "ROCHE RENARD SCHMITT ROY LEROUX COLIN VIDAL CARON PICARD ROGER FABRE AUBERT LEMOINE RENAUD DUMAS LACROIX "
    "OLIVIER PHILIPPE BOURGEOIS PIERRE BENOIT REY LECLERC PAYET ROLLAND LECLERCQ GUILLAUME LECOMTE LOPEZ JEAN "
    "DIALLO BENALI NGUYEN TRAORE HADDAD KONATE DA SILVA"
).split()
STREET_TYPES = ["rue", "avenue", "boulevard", "place", "impasse", "allée", "chemin", "route", "quai", "cours"]
STREET_NAMES = (
    "de la République|Victor Hugo|Jean Jaurès|Pasteur|de la Gare|des Lilas|du Moulin|de l'Église|Gambetta|"
    "Jules Ferry|du Général de Gaulle|des Écoles|de la Paix|Voltaire|des Tilleuls|du Château|Émile Zola|"
    "de la Liberté|des Acacias|Carnot|de Verdun|du Stade|des Peupliers|Louis Pasteur|de la Mairie"
).split("|")
CITIES = (
    "Saint-Denis|Montreuil|Villeurbanne|Roubaix|Tourcoing|Nanterre|Vitry-sur-Seine|Créteil|Aubervilliers|"
    "Colombes|Argenteuil|Mulhouse|Perpignan|Besançon|Orléans|Rouen|Caen|Nancy|Metz|Avignon|Poitiers|Pau|"
    "Calais|La Rochelle|Champigny-sur-Marne|Antibes|Cannes|Saint-Maur-des-Fossés|Drancy|Mérignac"
).split("|")
# Caf codes: one per département (01-95 without 20, Corsica's Cafs carry 2A/2B's numbers) and overseas.
DEPARTEMENTS = [f"{n:02d}" for n in range(1, 96) if n != 20] + ["971", "972", "973", "974"]
# INSEE codes of a few countries, for people born abroad (département 99 in the NIR).
COUNTRIES = ["99350", "99351", "99352", "99134", "99139", "99127", "99109", "99231", "99243", "99330"]


def caf_code(departement: str) -> str:
    return departement if len(departement) == 3 else departement + "1"


class Generator:
    def __init__(self, seed: int) -> None:
        self.random = random.Random(seed)
        self.identifiers: set[str] = set()
        self.numeros: set[tuple[str, str]] = set()
        self.adults: list[list[str]] = []  # people who may show up again in another file

    def identifier(self, sex: str, born: datetime.date, place: str, country: str) -> str:
        """A unique valid NIR (or, for about 1 %, an NNP), written in one of the usual shapes."""
        rnd = self.random
        while True:
            if rnd.random() < 0.01:
                body = rnd.choice("78") + rnd.choice("12") + f"{rnd.randrange(10**11):011d}"
            else:
                sex_digit = "1" if sex == "M" else "2"
                if country != "99100":
                    birth_place = "99" + country[2:]
                else:
                    birth_place = place
                body = f"{sex_digit}{born.year % 100:02d}{born.month:02d}{birth_place}{rnd.randrange(1, 1000):03d}"
            if body not in self.identifiers:
                self.identifiers.add(body)
                break
        key = nir.calc_check_digits(body)
        shape = rnd.random()
        if shape < 0.5:
            return body + key
        if shape < 0.8:
            return " ".join([body[0], body[1:3], body[3:5], body[5:7], body[7:10], body[10:13], key])
        if shape < 0.9:
            return ".".join([body[0], body[1:3], body[3:5], body[5:7], body[7:10], body[10:13], key])
        return body

    def birth_place(self, departement: str) -> tuple[str, str]:
        """(commune INSEE code, country INSEE code)."""
        rnd = self.random
        draw = rnd.random()
        if draw < 0.08:
            return "", rnd.choice(COUNTRIES)
        if draw < 0.10:
            return rnd.choice(["2A", "2B"]) + f"{rnd.randrange(1, 400):03d}", "99100"
        if draw < 0.6 and len(departement) == 2:
            dept = departement
        else:
            dept = rnd.choice(DEPARTEMENTS)
        if len(dept) == 3:
            return dept + f"{rnd.randrange(1, 35):02d}", "99100"
        return dept + f"{rnd.randrange(1, 700):03d}", "99100"

    def person(self, sex: str, born: datetime.date, departement: str, surname: str, usage: str = "") -> list[str]:
        rnd = self.random
        names = FEMALE if sex == "F" else MALE
        first = rnd.choice(names) if rnd.random() < 0.6 else f"{rnd.choice(names)} {rnd.choice(names)}"
        place, country = self.birth_place(departement)
        nir_text = self.identifier(sex, born, place, country)
        date_text = born.isoformat() if rnd.random() < 0.7 else born.strftime("%d/%m/%Y")
        return [nir_text, first, surname, usage, date_text, sex, place, country]

    def birth_date(self, min_age: int, max_age: int) -> datetime.date:
        today = datetime.date(2026, 11, 27)
        return today - datetime.timedelta(days=self.random.randrange(min_age * 365, max_age * 365 + 1))

    def household(self) -> list[list[str]]:
        rnd = self.random
        departement = rnd.choice(DEPARTEMENTS)
        caf = caf_code(departement)
        while True:
            numero = f"{rnd.randrange(10**6, 10**7):07d}"
            if (caf, numero) not in self.numeros:
                self.numeros.add((caf, numero))
                break
        code = f"{rnd.randrange(10**8):08d}"
        postal = departement[:2] + f"{rnd.randrange(0, 1000):03d}" if len(departement) == 2 else departement + "00"
        address = [
            f"{rnd.randrange(1, 200)} {rnd.choice(STREET_TYPES)} {rnd.choice(STREET_NAMES)}",
            postal,
            rnd.choice(CITIES),
        ]
        surname = rnd.choice(SURNAMES)
        sex = "F" if rnd.random() < 0.55 else "M"
        born = self.birth_date(20, 75)
        members = [("responsable", self.person(sex, born, departement, surname))]
        if rnd.random() < 0.55:
            other_sex = "M" if sex == "F" else "F"
            if rnd.random() < 0.04:
                other_sex = sex
            spouse_surname = rnd.choice(SURNAMES)
            usage = surname if other_sex == "F" and rnd.random() < 0.5 else ""
            spouse_born = self.birth_date(max(20, (datetime.date(2026, 11, 27) - born).days // 365 - 8), 75)
            members.append(("conjoint", self.person(other_sex, spouse_born, departement, spouse_surname, usage)))
        age = (datetime.date(2026, 11, 27) - born).days // 365
        children = rnd.choice([0, 0, 1, 1, 2, 2, 2, 3, 3, 4]) if age < 60 else 0
        for _ in range(min(children, 6 - len(members) - 1)):
            child_born = self.birth_date(0, max(0, min(25, age - 18)))
            members.append(("enfant", self.person(rnd.choice("FM"), child_born, departement, surname)))
        if len(members) < 6 and rnd.random() < 0.05:
            if self.adults and rnd.random() < 0.2:
                members.append(("autre", self.adults[rnd.randrange(len(self.adults))]))
            else:
                members.append(("autre", self.person(rnd.choice("FM"), self.birth_date(60, 95), departement, surname)))
        if len(self.adults) < 10_000 and rnd.random() < 0.1:
            self.adults.append(members[0][1])
        return [[caf, numero, code, role, *person, *address] for role, person in members]


def write(households: int, out: Path, seed: int = 42) -> tuple[int, int]:
    """Write the CSV; returns (households, members)."""
    generator = Generator(seed)
    members = 0
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(out, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, delimiter=DELIMITER, lineterminator="\n")
        writer.writerow(COLUMNS)
        for _ in range(households):
            rows = generator.household()
            writer.writerows(rows)
            members += len(rows)
    return households, members


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--households", type=int, default=100_000)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args(argv)
    started = time.perf_counter()
    households, members = write(args.households, args.out, args.seed)
    print(
        f"{args.out}: {households} households, {members} members in {time.perf_counter() - started:.1f} s",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
