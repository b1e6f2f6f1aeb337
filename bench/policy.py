"""What the authorization policy adds to a request, on PostgreSQL.

    .venv/bin/python bench/policy.py

A file of 8 members (responsable, spouse with delegation, 6 children and others), on its own
PostgreSQL database (`moncompte_bench_policy`, recreated at each run). For the responsible
person and for the spouse, it times what every page does to decide what to show: one query for
the person's standing on each of their files (`access.policy.standings`), then the decision
for each action (a look-up in the table made at start-up). The
baseline, in the same run, is the smallest round trip a page makes anyway (`SELECT 1`), so the
ratio says how many such round trips the policy costs. Reports medians and the query count.
"""

import datetime
import os
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

BASE_URL = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/").rstrip("/")
DATABASE_NAME = "moncompte_bench_policy"
ITERATIONS = 2000


def recreate_database() -> None:
    import psycopg

    with psycopg.connect(f"{BASE_URL}/postgres", autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{DATABASE_NAME}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{DATABASE_NAME}"')


def main() -> None:
    recreate_database()
    os.environ["DATABASE_URL"] = f"{BASE_URL}/{DATABASE_NAME}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ["DJANGO_DEBUG"] = "0"  # as in production: no query log
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone
    from stdnum.fr import nir

    from moncompte.access.policy import Action, decide_for_standing, standings
    from moncompte.households.models import Caf, Dossier, Member, Role
    from moncompte.identity.identifiers import parse_identifier
    from moncompte.identity.services import person_create

    call_command("migrate", verbosity=0)
    caf = Caf.objects.create(code="751", name="Caf de Paris", departement="75")
    dossier = Dossier.objects.create(
        caf=caf, numero="1000001", address_line1="1 rue", postal_code="75001", city="Paris"
    )
    roles = [Role.RESPONSABLE, Role.CONJOINT] + [Role.ENFANT] * 4 + [Role.AUTRE] * 2
    people = []
    for index, role in enumerate(roles):
        value13 = f"{1 + index % 2}80{1 + index:02d}75{100 + index:03d}{200 + index:03d}"
        person = person_create(
            identifier=parse_identifier(value13 + nir.calc_check_digits(value13)),
            first_names=f"Personne{index}",
            birth_name="BENCH",
            birth_date=datetime.date(1980, 1 + index, 1),
            sex="M" if index % 2 == 0 else "F",
        )
        Member.objects.create(
            dossier=dossier,
            person=person,
            role=role,
            delegation_granted_at=timezone.now() if role == Role.CONJOINT else None,
        )
        people.append(person)

    def policy_check(person) -> list:
        return [
            (dossier_id, [decide_for_standing(standing, action) for action in Action])
            for dossier_id, standing in standings(person).items()
        ]

    def baseline(_person) -> None:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()

    def timed(function, person) -> float:
        samples = []
        for _ in range(ITERATIONS):
            started = time.perf_counter()
            function(person)
            samples.append(time.perf_counter() - started)
        return statistics.median(samples) * 1000

    print(f"Policy benchmark, {datetime.date.today()}, file of {len(roles)} members, PostgreSQL, {ITERATIONS} runs")
    for label, person in (("responsable", people[0]), ("spouse with delegation", people[1]), ("child", people[2])):
        for _ in range(200):  # warm-up
            policy_check(person)
            baseline(person)
        with CaptureQueriesContext(connection) as context:
            policy_check(person)
        policy_ms = timed(policy_check, person)
        baseline_ms = timed(baseline, person)
        verdict = "PASS" if policy_ms < 1.0 else "FAIL"
        print(
            f"  {label:24} policy check {policy_ms:.3f} ms median ({len(context.captured_queries)} query, "
            f"{len(Action)} decisions); SELECT 1 round trip {baseline_ms:.3f} ms; "
            f"ratio {policy_ms / baseline_ms:.1f}; target < 1 ms: {verdict}"
        )


if __name__ == "__main__":
    main()
