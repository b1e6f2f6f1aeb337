"""A revoked delegation is gone for every request that starts after the revocation commits.

The spouse (with the delegation) reads /mon-compte/ in a loop from four client processes, each
with its own signed-in session, through a real multi-process server on PostgreSQL and Redis.
Meanwhile the responsible person revokes the delegation. Every answer to a request that started after the
revocation committed must show nothing of the file; the test fails on a single one.
"""

import multiprocessing
import re
import time

import pytest
import requests

from moncompte.core.actors import Actor, Channel
from moncompte.households.models import Benefit
from moncompte.web.templatetags.money import euros
from tests.factories import make_household
from tests.integration.test_concurrent_homes import backing_services  # noqa: F401  (fixture)
from tests.support.server import running_server

pytestmark = [pytest.mark.server]

CLIENT_PROCESSES = 4
LOOP_SECONDS_AFTER = 4.0
CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def _file_markers(family) -> tuple[str, ...]:
    """What the home page shows of the file to whoever may see it."""
    amount = euros(Benefit.objects.get(dossier=family.dossier).monthly_amount_cents)
    return ("Derniers paiements", f"Mon dossier n° {family.dossier.numero}", amount)


def _reader(base_url: str, credentials: tuple[str, str], markers: tuple[str, ...], stop_at: float, results) -> None:
    """One of the spouse's browsers: sign in, then read the home page until stop_at."""
    identifier, password = credentials
    observations = []
    with requests.Session() as session:
        page = session.get(base_url + "/connexion/", timeout=60)
        token = CSRF_INPUT.search(page.text).group(1)
        answer = session.post(
            base_url + "/connexion/",
            data={"csrfmiddlewaretoken": token, "identifier": identifier, "password": password},
            headers={"Referer": base_url + "/connexion/"},
            allow_redirects=False,
            timeout=60,
        )
        assert answer.status_code == 302, answer.status_code
        while time.time() < stop_at:
            started = time.time()
            response = session.get(base_url + "/mon-compte/", allow_redirects=False, timeout=60)
            shows_file = any(marker in response.text for marker in markers)
            observations.append((started, response.status_code, shows_file))
    results.put(observations)


def test_no_answer_after_the_revocation_shows_the_file(backing_services, tmp_path):  # noqa: F811
    database_url, redis = backing_services
    family = make_household(delegated=True)
    dossier = family.dossier
    markers = _file_markers(family)

    from moncompte.households.services import delegation_revoke

    with running_server(database_url=database_url, redis_url=redis, work_dir=tmp_path / "server") as server:
        # fork: the readers use only requests, never the inherited database connection.
        context = multiprocessing.get_context("fork")
        results = context.Queue()
        revoke_at = time.time() + 6.0
        stop_at = revoke_at + LOOP_SECONDS_AFTER
        readers = [
            context.Process(target=_reader, args=(server.url, family.spouse.credentials, markers, stop_at, results))
            for _ in range(CLIENT_PROCESSES)
        ]
        for reader in readers:
            reader.start()
        time.sleep(max(0.0, revoke_at - time.time()))
        delegation_revoke(
            actor=Actor(channel=Channel.WEB, account=family.responsible.account),
            dossier=dossier,
            password=family.responsible.password,
        )
        committed_at = time.time()
        observations = [item for _ in readers for item in results.get(timeout=120)]
        for reader in readers:
            reader.join(30)

    # A request that started before the commit may be answered either way; one that started well
    # before it must have shown the file, or the check could not see a leak at all.
    well_before = [o for o in observations if o[0] < committed_at - 1.0]
    after = [o for o in observations if o[0] > committed_at]
    assert all(status == 200 for _, status, _ in observations)
    assert well_before and all(shows for _, _, shows in well_before)
    assert len(after) >= CLIENT_PROCESSES * 5, len(after)
    leaked = [o for o in after if o[2]]
    assert not leaked, f"{len(leaked)} answers after the revocation still showed the file"
