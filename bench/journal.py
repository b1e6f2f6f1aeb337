"""How long one journal append holds its chain's lock (run by bench/signin.py).

Usage: ``python -m bench.journal COUNT`` with the server's environment. Appends COUNT entries
one after another, each in its own transaction as a page view does, and prints as JSON the wall
and CPU milliseconds per append. moncompte.audit.services.journal_record takes a PostgreSQL
advisory lock at its start and holds it until commit, so with nobody waiting the wall time of an
append is about the time the lock is held: 1000 / that is the most appends per second the whole
service can make, however many web nodes it has.
"""

import json
import os
import sys
import time


def main() -> None:
    count = int(sys.argv[1])
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.db import transaction

    from moncompte.audit.actions import JournalAction
    from moncompte.audit.services import journal_record
    from moncompte.core.actors import Actor, Channel
    from moncompte.identity.models import Person

    person = Person.objects.order_by("pk").first()
    actor = Actor(channel=Channel.WEB, person=person, session_key="0" * 32, client_address="127.0.0.1")
    for _ in range(10):  # connection, first queries
        journal_record(action=JournalAction.HOME_VIEW, actor=actor)
    wall, cpu = time.perf_counter(), time.process_time()
    for _ in range(count):
        with transaction.atomic():
            journal_record(action=JournalAction.HOME_VIEW, actor=actor)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    print(json.dumps({"appends": count, "wall_ms": 1000 * wall / count, "cpu_ms": 1000 * cpu / count}))


if __name__ == "__main__":
    main()
