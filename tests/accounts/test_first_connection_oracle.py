"""First connection without oracle or lock-out (issue 8, point 3).

What the attack found, each turned into a test that fails when the rule breaks:

- **existence oracle**: after 5 wrong codes a known file answered "too many codes" where an
  unknown numéro still answered "incorrect". Now the tries are counted on a keyed hash of the
  numéro whether or not it is a file's: the answers (status, page) are the same for an unknown
  numéro and a known file, wrong, capped by the client's cap, or slowed by the file's waits;
- **timing oracle** (known files 4 to 6 ms slower): the work is the same, checked here by the
  SQL statements (their number and shape, parameters aside) and the keyed hashes computed for
  each kind of try; the timing itself is measured by bench/first_connection_oracle.py, never
  asserted in a test (docs/benchmarks.md);
- **lock-out**: five wrong codes from five addresses locked the real allocataire out for the
  day. Now strangers never use up the allocataire's own tries (the hard cap is per client and
  file), and the per-file ceiling only slows: the allocataire gets in at once after five
  strangers' wrong codes, and at most FILE_WAIT_MAX_SECONDS after the last wrong code whatever
  the strangers did;
- **guess budget**: however many addresses try, a file gets no more evaluated codes than the
  design says (34 in 24 hours, docs/first-connection.md), on the web and the phone together;
- **traces**: every try is journaled in its own transaction, refusals included (through the
  pages with the real transaction behaviour: 6 tries, 6 entries).

Time passes by moving the recorded tries back (``_later``), never by mocking a clock.
"""

import datetime
import hmac
import re

import pytest
from django.db import connection
from django.db.models import F
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext

from moncompte.accounts import legacy
from moncompte.accounts.first_connection import FirstConnectionError, legacy_code_verify
from moncompte.accounts.legacy import (
    FILE_WAIT_MAX_SECONDS,
    FREE_WRONG_CODES_PER_FILE_PER_DAY,
    MAX_WRONG_CODES_PER_CLIENT_PER_DAY,
    LegacyCodeError,
    legacy_code_check_by_phone,
)
from moncompte.accounts.models import LegacyCodeAttempt
from moncompte.audit.models import JournalEntry
from moncompte.core.actors import Actor, Channel
from tests.factories import CafFactory, DossierFactory, LegacyCredentialFactory, MemberFactory

PAGE = "/premiere-connexion/dossier/"
NEXT_PAGE = "/premiere-connexion/numero-securite-sociale/"
UNKNOWN_NUMERO = "1000001"  # the factories' numéros start with 9
LATER = (datetime.date.today() + datetime.timedelta(days=30)).isoformat()
CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="[^"]+"')


class File:
    """A known file of département 75 with its old code, and its Caf."""

    def __init__(self, caf=None, code="40506070"):
        self.caf = caf or CafFactory(departement="75")
        self.dossier = DossierFactory(caf=self.caf)
        MemberFactory(dossier=self.dossier)
        self.code = LegacyCredentialFactory(dossier=self.dossier, code=code).raw_code
        self.numero = self.dossier.numero

    @property
    def wrong(self) -> str:
        return f"{(int(self.code) + 1) % 10**8:08d}"


@pytest.fixture
def file(db) -> File:
    return File()


def _address(n: int) -> str:
    """The address of the n-th stranger (10.0.0.0/8, one each)."""
    return f"10.{n >> 16 & 255}.{n >> 8 & 255}.{n & 255}"


def _post(client: Client, numero: str, code: str):
    return client.post(PAGE, {"place": "75011", "numero": numero, "code": code})


def _page(client: Client, numero: str, code: str):
    response = _post(client, numero, code)
    body = CSRF_INPUT.sub('name="csrfmiddlewaretoken" value="…"', response.content.decode())
    return response.status_code, body.replace(numero, "NUMERO")


def _visitor(address: str, channel=Channel.WEB) -> Actor:
    return Actor.visitor(channel=channel, client_address=address)


def _try(caf, numero: str, code: str, address: str):
    """One try through the service: "right", or the refusal's (code, wait_seconds)."""
    try:
        legacy_code_verify(actor=_visitor(address), caf=caf, numero=numero, code=code)
    except FirstConnectionError as error:
        return error.code, error.wait_seconds
    return "right"


def _later(seconds: float) -> None:
    """Time passes: every recorded try moves back by ``seconds``."""
    LegacyCodeAttempt.objects.update(at=F("at") - datetime.timedelta(seconds=seconds))


def _strangers_wrong_codes(caf, numeros: list[str], count: int, first_address: int = 100) -> None:
    """``count`` wrong codes on each numéro, each from an address of its own, the numéros in
    step, waiting whenever told (and told the same for each numéro)."""
    for n in range(count):
        while True:
            answers = {
                _try(caf, numero, "00000000", _address(first_address + n * len(numeros) + i))
                for i, numero in enumerate(numeros)
            }
            assert len(answers) == 1, answers
            (answer,) = answers
            if answer == ("wrong_code", 0):
                break
            assert answer[0] == "capped", answer
            _later(answer[1])


# The same answer -------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("wrong_codes", [1, 5, 10], ids=["wrong", "five-wrong-then-capped", "ten-wrong"])
def test_the_same_pages_for_an_unknown_numero_and_a_known_file_from_one_client(file, wrong_codes):
    """The client's own cap: after its 5 wrong codes a known file and an unknown numéro answer
    "too many codes" alike, even to the file's right code."""
    known, unknown = Client(REMOTE_ADDR="203.0.113.1"), Client(REMOTE_ADDR="203.0.113.2")
    for _ in range(wrong_codes):
        assert _page(known, file.numero, file.wrong) == _page(unknown, UNKNOWN_NUMERO, file.wrong)
    known_page, unknown_page = _page(known, file.numero, file.code), _page(unknown, UNKNOWN_NUMERO, file.code)
    if wrong_codes < MAX_WRONG_CODES_PER_CLIENT_PER_DAY:
        assert known_page[0] == 302  # the right code still opens the file
        return
    assert known_page == unknown_page
    status, body = known_page
    assert status == 429 and "Trop de codes erronés ont été saisis pour ce numéro allocataire" in body
    assert "09 69 32 52 52" in body and "accueil de votre Caf" in body


@pytest.mark.django_db
@pytest.mark.parametrize("strangers", [FREE_WRONG_CODES_PER_FILE_PER_DAY + 1, 12], ids=["first-wait", "longest-wait"])
def test_the_same_pages_for_an_unknown_numero_and_a_known_file_slowed_by_strangers(file, strangers):
    """The file's waits: strangers' wrong codes slow an unknown numéro exactly as a known file."""
    _strangers_wrong_codes(file.caf, [file.numero, UNKNOWN_NUMERO], strangers)
    # Both numéros were answered the same at each try; their last wrong codes are milliseconds apart.
    known_page = _page(Client(REMOTE_ADDR="203.0.113.1"), file.numero, file.code)
    unknown_page = _page(Client(REMOTE_ADDR="203.0.113.2"), UNKNOWN_NUMERO, file.code)
    assert known_page == unknown_page
    assert known_page[0] == 429 and "réessayez dans" in known_page[1]


# The same work ---------------------------------------------------------------------------------

_LITERAL = re.compile(r"'(?:[^']|'')*'|-?\b\d+(?:\.\d+)?\b|\bNULL\b|\bTrue\b|\bFalse\b")
_SAVEPOINT = re.compile(r'"s\d+_x\d+"')


def _shape(sql: str) -> str:
    """The statement without its parameters (the captured SQL has them inlined), its savepoint's
    name nor the spacing of its literals."""
    return " ".join(_LITERAL.sub("?", _SAVEPOINT.sub('"savepoint"', sql)).split())


def _work(client: Client, numero: str, code: str, monkeypatch) -> tuple[list[str], int, int]:
    """The answer's status, the SQL statements of one try (parameters aside) and the number of
    keyed hashes computed."""
    hashes = []
    original = hmac.new

    def counting_new(*args, **kwargs):
        hashes.append(1)
        return original(*args, **kwargs)

    with monkeypatch.context() as patch, CaptureQueriesContext(connection) as queries:
        patch.setattr(hmac, "new", counting_new)
        status = _post(client, numero, code).status_code
    return [_shape(q["sql"]) for q in queries.captured_queries], len(hashes), status


@pytest.mark.django_db
def test_the_same_work_for_unknown_wrong_capped_and_slowed(file, monkeypatch):
    other = File(caf=file.caf, code="11223344")  # slowed by strangers
    capped, slowed_unknown = "1000002", "1000003"
    capped_client = Client(REMOTE_ADDR="203.0.113.9")
    for _ in range(MAX_WRONG_CODES_PER_CLIENT_PER_DAY):
        _post(capped_client, file.numero, file.wrong)
        _post(capped_client, capped, file.wrong)
    _strangers_wrong_codes(file.caf, [other.numero, slowed_unknown], FREE_WRONG_CODES_PER_FILE_PER_DAY + 1)

    cases = {
        "unknown numéro": (Client(REMOTE_ADDR="203.0.113.1"), UNKNOWN_NUMERO, file.code),
        "known file, wrong code": (Client(REMOTE_ADDR="203.0.113.2"), file.numero, file.wrong),
        "known file capped for this client, right code": (capped_client, file.numero, file.code),
        "unknown numéro capped for this client": (capped_client, capped, file.code),
        "known file slowed, right code": (Client(REMOTE_ADDR="203.0.113.3"), other.numero, other.code),
        "unknown numéro slowed": (Client(REMOTE_ADDR="203.0.113.4"), slowed_unknown, other.code),
    }
    work = {name: _work(client, numero, code, monkeypatch) for name, (client, numero, code) in cases.items()}
    reference = work["unknown numéro"]
    assert reference[2] == 400 and {w[2] for name, w in work.items() if "capped" in name or "slowed" in name} == {429}
    for name, (statements, hashes, _) in work.items():
        assert statements == reference[0], f"{name}: other SQL statements than for an unknown numéro"
        assert hashes == reference[1], f"{name}: {hashes} keyed hashes, {reference[1]} for an unknown numéro"
    # The statements of a try: the credential's lookup, the count, the attempt, the journal entry.
    assert any("legacycodeattempt" in s.lower() and s.lstrip().upper().startswith("INSERT") for s in reference[0])


# No lock-out by strangers ----------------------------------------------------------------------


@pytest.mark.django_db
def test_five_wrong_codes_from_five_addresses_do_not_stop_the_allocataire(file):
    """The attack as it was run: one wrong code from each of five addresses. The allocataire,
    from their own address, gets in at once with the right code."""
    for n in range(5):
        assert _try(file.caf, file.numero, file.wrong, _address(n)) == ("wrong_code", 0)
    response = _post(Client(REMOTE_ADDR="203.0.113.50"), file.numero, file.code)
    assert response.status_code == 302 and response["Location"] == NEXT_PAGE


@pytest.mark.django_db
def test_five_strangers_using_all_their_tries_slow_the_allocataire_an_hour_at_most(file):
    """Five strangers make every wrong code their own cap allows (5 each, 25 in all, waiting
    whenever the file makes them wait) and are then refused. The allocataire, from their own
    address, is told to wait at most an hour (FILE_WAIT_MAX_SECONDS after the last wrong code)
    and gets in with the right code once the wait is over."""
    strangers = [_address(n) for n in range(5)]
    for address in strangers:
        for _ in range(MAX_WRONG_CODES_PER_CLIENT_PER_DAY):
            while (answer := _try(file.caf, file.numero, file.wrong, address)) != ("wrong_code", 0):
                assert answer[0] == "capped"
                _later(answer[1])
    for address in strangers:  # all five used up their own tries on this file
        _later(FILE_WAIT_MAX_SECONDS)
        assert _try(file.caf, file.numero, file.code, address)[0] == "capped"
    _strangers_wrong_codes(file.caf, [file.numero], 1, first_address=50)  # and one more, just now

    client = Client(REMOTE_ADDR="203.0.113.50")
    response = _post(client, file.numero, file.code)
    assert response.status_code == 429
    wait = LegacyCodeAttempt.objects.filter(outcome="refused").latest("at", "pk")
    assert wait.client_key == legacy.legacy_client_key("203.0.113.50")
    entry = JournalEntry.objects.filter(action="first_connection.capped").latest("pk")
    assert entry.detail["reason"] == "file" and 0 < entry.detail["wait"] <= FILE_WAIT_MAX_SECONDS
    assert "réessayez dans 1 heure" in response.content.decode()
    _later(entry.detail["wait"])
    response = _post(client, file.numero, file.code)
    assert response.status_code == 302 and response["Location"] == NEXT_PAGE


@pytest.mark.django_db
def test_a_clients_cap_is_its_own(file):
    """A client that used up its own tries is refused even the right code; another gets in."""
    for _ in range(MAX_WRONG_CODES_PER_CLIENT_PER_DAY):
        assert _try(file.caf, file.numero, file.wrong, "203.0.113.7")[0] == "wrong_code"
    code, wait = _try(file.caf, file.numero, file.code, "203.0.113.7")
    assert code == "capped" and 23 * 3600 < wait <= 24 * 3600
    assert _try(file.caf, file.numero, file.code, "203.0.113.8") == "right"


@pytest.mark.django_db
def test_addresses_of_one_ipv6_subscriber_are_one_client(file):
    """A subscriber gets a whole /64: its addresses count as one client."""
    for n in range(MAX_WRONG_CODES_PER_CLIENT_PER_DAY):
        assert _try(file.caf, file.numero, file.wrong, f"2001:db8:1:2::{n + 1:x}")[0] == "wrong_code"
    assert _try(file.caf, file.numero, file.code, "2001:db8:1:2:ffff::1")[0] == "capped"
    assert _try(file.caf, file.numero, file.code, "2001:db8:1:3::1") == "right"


# The guess budget ------------------------------------------------------------------------------

# docs/first-connection.md: 6 free tries, then waits of 1, 2, 4, 8, 16, 32 minutes, then one an
# hour: 12 tries in 63 minutes, then 22 more before 24 hours are over.
MOST_WRONG_CODES_IN_A_DAY = 34


def _attack(file: File, *, seconds: int, phone_every: int = 0) -> list[float]:
    """An attacker with as many addresses as it likes (a new one for each try) tries as soon as
    it may for ``seconds``, and once more in the middle of each wait (refused, and not counted).
    Returns the simulated times of the codes that were actually checked."""
    elapsed, checked, n = 0.0, [], 0
    phone = Actor.visitor(channel=Channel.PHONE)
    while elapsed < seconds:
        n += 1
        try:
            if phone_every and n % phone_every == 0:
                legacy_code_check_by_phone(actor=phone, caf=file.caf, dossier_numero=file.numero, code=f"{n:08d}")
            else:
                legacy_code_verify(actor=_visitor(_address(n)), caf=file.caf, numero=file.numero, code=f"{n:08d}")
        except (FirstConnectionError, LegacyCodeError) as error:
            if error.code == "wrong_code":
                checked.append(elapsed)
                continue
            assert error.code == "capped" and 0 < error.wait_seconds <= FILE_WAIT_MAX_SECONDS
            half = error.wait_seconds // 2
            _later(half)
            with pytest.raises((FirstConnectionError, LegacyCodeError)):  # hammering in the wait
                legacy_code_verify(actor=_visitor(_address(10**5 + n)), caf=file.caf, numero=file.numero, code="0")
            _later(error.wait_seconds - half)
            elapsed += error.wait_seconds
        else:
            raise AssertionError("the attacker found the code")
    return checked


@pytest.mark.django_db
@override_settings(MONCOMPTE_LEGACY_CODE_PHONE_UNTIL=LATER)
@pytest.mark.parametrize("phone_every", [0, 3], ids=["web", "web-and-phone"])
def test_many_addresses_get_no_more_than_the_guess_budget(file, phone_every):
    checked = _attack(file, seconds=2 * 24 * 3600, phone_every=phone_every)
    first_day = [t for t in checked if t < 24 * 3600]
    assert len(first_day) == MOST_WRONG_CODES_IN_A_DAY
    # In any 24 hours, never more; once the attack is sustained, one an hour.
    for i, start in enumerate(checked):
        assert len([t for t in checked[i:] if t < start + 24 * 3600]) <= MOST_WRONG_CODES_IN_A_DAY
    second_day = [t for t in checked if 24 * 3600 <= t < 48 * 3600]
    assert len(second_day) <= 24 * 3600 // FILE_WAIT_MAX_SECONDS + 1


# Every try leaves its trace --------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("numero", ["known", "unknown"])
def test_six_tries_through_the_pages_leave_six_journal_entries(numero):
    """With the real transactions (no test transaction around the requests): five wrong codes
    and a sixth refused by the client's cap, each entry committed though the try was refused."""
    file = File()
    numero = file.numero if numero == "known" else UNKNOWN_NUMERO
    client = Client(REMOTE_ADDR="203.0.113.1")
    statuses = [_post(client, numero, file.wrong).status_code for _ in range(5)]
    statuses.append(_post(client, numero, file.code).status_code)
    assert statuses == [400] * 5 + [429]
    entries = list(JournalEntry.objects.filter(action__startswith="first_connection.").order_by("pk"))
    assert [e.action for e in entries] == ["first_connection.code_failure"] * 5 + ["first_connection.capped"]
    assert {e.client_address for e in entries} == {"203.0.113.1"}
    assert {e.dossier_id for e in entries} == {file.dossier.id if numero == file.numero else None}
    assert LegacyCodeAttempt.objects.count() == 6


@pytest.mark.django_db(transaction=True)
def test_a_try_refused_for_its_address_is_journaled_too(settings):
    settings.MONCOMPTE_THROTTLE_FREE_FAILURES_PER_ADDRESS = 1
    file = File()
    client = Client(REMOTE_ADDR="203.0.113.1")
    statuses = [_post(client, numero, file.wrong).status_code for numero in ("1000001", "1000002", file.numero)]
    assert statuses == [400, 400, 429]
    entries = list(JournalEntry.objects.filter(action__startswith="first_connection.").order_by("pk"))
    assert [e.action for e in entries] == ["first_connection.code_failure"] * 2 + ["first_connection.capped"]
    assert entries[-1].detail["reason"] == "address" and entries[-1].dossier_id is None


@pytest.mark.django_db(transaction=True)
@override_settings(MONCOMPTE_LEGACY_CODE_PHONE_UNTIL=LATER)
def test_refusals_on_the_phone_leave_their_trace():
    file = File()
    phone = Actor.visitor(channel=Channel.PHONE)
    for n in range(FREE_WRONG_CODES_PER_FILE_PER_DAY + 2):
        with pytest.raises(LegacyCodeError):
            legacy_code_check_by_phone(actor=phone, caf=file.caf, dossier_numero=file.numero, code=f"{n:08d}")
    reasons = list(
        JournalEntry.objects.filter(action="legacy_code.phone_failure").order_by("pk").values_list("detail", flat=True)
    )
    assert reasons == [{"reason": "wrong"}] * (FREE_WRONG_CODES_PER_FILE_PER_DAY + 1) + [{"reason": "capped"}]
