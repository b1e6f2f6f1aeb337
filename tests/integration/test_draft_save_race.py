"""Two devices saving the same step of a draft at the same moment: the second never overwrites
the first silently.

Deterministic, on PostgreSQL: device A's save is held inside its transaction, the draft's row
locked and its new values written but not committed; device B, whose page was built from the
same version, saves other values. B must wait on the row's lock and, once A committed, see the
version moved and answer DraftConflict with both values, writing nothing. Without the version
check under the lock (``step_save``), B's values replace A's and nobody is asked.
"""

import threading

from django.db import transaction

from moncompte.procedures.models import Procedure
from moncompte.procedures.services import DraftConflict, procedure_start, step_save
from tests.factories import make_household
from tests.integration.test_first_connection_race import (  # noqa: F401  (postgres: fixture)
    HOLD_SECONDS,
    InThread,
    postgres,
    wait_until_blocked,
)
from tests.procedures.helpers import HOUSING, acting


def test_two_saves_of_one_version_at_once_make_the_second_a_conflict(postgres):  # noqa: F811
    family = make_household()
    claire = acting(family.responsible.person)
    procedure = procedure_start(actor=claire, type_code="aide-au-logement").procedure
    procedure = step_save(
        actor=claire, procedure=procedure, slug="logement", data=HOUSING["logement"], base_version=1
    ).procedure
    page_version = procedure.version
    saved, release = threading.Event(), threading.Event()

    def device_a_saves_and_holds():
        with transaction.atomic():
            step_save(
                actor=claire,
                procedure=procedure,
                slug="loyer",
                data={**HOUSING["loyer"], "rent": "650"},
                base_version=page_version,
            )
            saved.set()
            release.wait(HOLD_SECONDS)

    first = InThread(device_a_saves_and_holds, name="device-a")
    second = None
    try:
        assert saved.wait(HOLD_SECONDS), first.error
        second = InThread(
            lambda: step_save(
                actor=claire,
                procedure=procedure,
                slug="loyer",
                data={**HOUSING["loyer"], "rent": "720"},
                base_version=page_version,
            ),
            name="device-b",
        )
        wait_until_blocked(second)
    finally:
        release.set()
        first.join()
        if second is not None:
            second.join()
    assert first.error is None, first.error
    assert isinstance(second.error, DraftConflict), (second.error, second.result)
    assert [(c.name, c.theirs, c.mine) for c in second.error.conflicts] == [("rent", "650.00", "720.00")]
    procedure = Procedure.objects.get(pk=procedure.pk)
    assert procedure.data["loyer"]["clean"]["rent"] == "650.00"
    assert procedure.version == page_version + 1
