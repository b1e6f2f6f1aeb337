"""Account creation by new beneficiaries: identity matching, the service, identity documents."""

import datetime
import hashlib
import re
import stat
import struct
import zlib
from pathlib import Path

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError

from moncompte.accounts import signup
from moncompte.accounts.models import Account, Contact
from moncompte.accounts.signup import (
    SignupError,
    SignupIdentity,
    SignupState,
    pending_identity_check,
    signup_complete,
)
from moncompte.audit.models import JournalEntry
from moncompte.core.actors import Actor, Channel
from moncompte.core.errors import DomainError, NotAllowed
from moncompte.identity.documents import (
    MAX_DOCUMENTS_PER_CHECK,
    DocumentError,
    detect_content_type,
    document_store,
    max_size_text,
)
from moncompte.identity.identifiers import new_provisional_identifier, nir_key, parse_identifier
from moncompte.identity.matching import (
    MatchOutcome,
    match_person,
    nir_identity_problems,
    places_agree,
)
from moncompte.identity.models import IdentityCheck, IdentityCheckState, IdentityDocument, Person
from moncompte.identity.services import person_create
from moncompte.notifications.models import Message
from tests.factories import PersonFactory

pytestmark = pytest.mark.django_db

PASSWORD = "Tilleuls et 30 cerisiers"
# A woman born in May 1991 in Lyon 3e (69383), whom no test creates but through known_person().
NEW_NIR = "2 91 05 69 383 017"
# No person made by the factories has this first name: another identity for a known NIR.
OTHER_FIRST_NAME = "Autreprénom"


def nir(raw13: str):
    """A parsed NIR from its 13 first characters, spaces allowed; the key is computed."""
    value = "".join(raw13.split())
    return parse_identifier(value + nir_key(value))


def identity(**overrides) -> SignupIdentity:
    values = {
        "first_names": "Inès Marie",
        "birth_name": "Lefèvre",
        "birth_date": datetime.date(1991, 5, 17),
        "sex": "F",
        "birth_place_code": "69383",
        "birth_place_label": "69383",
        "birth_country_code": "99100",
        "address_line1": "3 rue Garibaldi",
        "postal_code": "69003",
        "city": "Lyon",
    }
    values.update(overrides)
    return SignupIdentity(**values)


def visitor(client_address="198.51.100.20") -> Actor:
    return Actor.visitor(channel=Channel.WEB, client_address=client_address, session_key="k" * 32)


def complete(ident=None, identifier=None, client_address="198.51.100.20", **overrides):
    arguments = {
        "actor": visitor(client_address),
        "identity": ident or identity(),
        "identifier": identifier,
        "password": PASSWORD,
        "contact_channel": "email",
        "contact_destination": "ines@example.fr",
    }
    arguments.update(overrides)
    return signup_complete(**arguments)


def identity_of(person: Person, **overrides) -> SignupIdentity:
    """The identity a person would declare: their own, the birth name in mixed case."""
    values = {
        "first_names": person.first_names,
        "birth_name": person.birth_name.title(),
        "birth_date": person.birth_date,
        "sex": person.sex,
        "birth_place_code": person.birth_place_code,
        "birth_place_label": person.birth_place_code,
    }
    return identity(**{**values, **overrides})


def julien_petit(**overrides) -> Person:
    """A man born on 3 February 1978 in Paris, named Julien PETIT (his NIR agrees)."""
    values = {
        "first_names": "Julien",
        "birth_name": "PETIT",
        "birth_date": datetime.date(1978, 2, 3),
        "sex": "M",
        "birth_place_code": "75115",
    }
    return PersonFactory(**{**values, **overrides})


def known_person(raw13=NEW_NIR, **overrides) -> Person:
    ident = identity(**overrides)
    return person_create(
        identifier=nir(raw13),
        first_names=ident.first_names,
        birth_name=ident.birth_name,
        birth_date=ident.birth_date,
        sex=ident.sex,
        birth_place_code=ident.birth_place_code,
    )


# Name normalization and matching ------------------------------------------------------------


def test_a_name_with_accents_hyphens_and_apostrophes_matches_its_capital_form():
    person = known_person(first_names="LEA MARIE", birth_name="D ARC")
    result = match_person(
        identifier=nir(NEW_NIR),
        first_names="Léa-Marie",
        birth_name="d'Arc",
        birth_date=datetime.date(1991, 5, 17),
        sex="F",
        birth_place_code="69383",
    )
    assert result.outcome is MatchOutcome.ONE and result.person == person
    without_nir = match_person(first_names="léa", birth_name="D’ARC", birth_date=datetime.date(1991, 5, 17), sex="F")
    assert without_nir.person == person


def test_one_match_with_a_nir(family):
    person = julien_petit()
    result = match_person(
        identifier=parse_identifier(person.raw_identifier),
        first_names="Julien",
        birth_name="Petit",
        birth_date=datetime.date(1978, 2, 3),
        sex="M",
        birth_place_code="75056",  # Paris, for a person born in the 15th arrondissement
    )
    assert result.outcome is MatchOutcome.ONE
    assert result.person == person


def test_a_known_nir_with_another_identity_is_a_mismatch_never_a_link(family):
    known = family.responsible.person
    result = match_person(
        identifier=parse_identifier(family.responsible.identifier),
        first_names=OTHER_FIRST_NAME,  # a known NIR, another first name
        birth_name=known.birth_name.title(),
        birth_date=known.birth_date,
        sex=known.sex,
    )
    assert result.outcome is MatchOutcome.MISMATCH and result.person is None


def test_a_known_nir_whose_digits_contradict_the_identity_is_a_mismatch(family):
    # The stored identity, but a birth place the NIR's digits contradict.
    known = family.responsible.person
    elsewhere = "69383" if known.birth_place_code.startswith("13") else "13055"
    result = match_person(
        identifier=parse_identifier(family.responsible.identifier),
        first_names=known.first_names.split()[0],
        birth_name=known.birth_name.title(),
        birth_date=known.birth_date,
        sex=known.sex,
        birth_place_code=elsewhere,
    )
    assert result.outcome is MatchOutcome.MISMATCH
    # The same identity with the right birth place matches: the place made the difference.
    assert (
        match_person(
            identifier=parse_identifier(family.responsible.identifier),
            first_names=known.first_names.split()[0],
            birth_name=known.birth_name.title(),
            birth_date=known.birth_date,
            sex=known.sex,
            birth_place_code=known.birth_place_code,
        ).person
        == known
    )


def test_unknown_nir_is_none(family):
    result = match_person(identifier=nir(NEW_NIR), **identity().matching_fields())
    assert result.outcome is MatchOutcome.NONE


def test_without_nir_one_none_and_many(family):
    person = julien_petit()
    julien = {"first_names": "Julien", "birth_name": "PETIT", "birth_date": datetime.date(1978, 2, 3), "sex": "M"}
    assert match_person(**julien).person == person
    assert match_person(**{**julien, "sex": "F"}).outcome is MatchOutcome.NONE
    assert match_person(**{**julien, "birth_date": datetime.date(1978, 2, 4)}).outcome is MatchOutcome.NONE
    assert match_person(**{**julien, "birth_name": "PETITE"}).outcome is MatchOutcome.NONE
    # Born abroad does not match a person born in France.
    assert match_person(**julien, birth_country_code="99350").outcome is MatchOutcome.NONE
    # A namesake born the same day: ambiguous, nobody is linked.
    julien_petit(first_names="Julien Pierre", birth_name="Petit", birth_place_code="13055")
    result = match_person(**julien)
    assert result.outcome is MatchOutcome.MANY and result.person is None
    # The birth place tells them apart when it is given.
    assert match_person(**julien, birth_place_code="75056").outcome is MatchOutcome.ONE


def test_places_agree_for_arrondissements_and_corsica():
    assert places_agree(place_a="75115", country_a="99100", place_b="75056", country_b="99100")
    assert places_agree(place_a="69383", country_a="99100", place_b="69123", country_b="99100")
    assert places_agree(place_a="20004", country_a="99100", place_b="2A004", country_b="99100")
    assert not places_agree(place_a="75115", country_a="99100", place_b="13055", country_b="99100")
    assert places_agree(place_a="", country_a="99100", place_b="13055", country_b="99100")
    assert not places_agree(place_a="", country_a="99100", place_b="", country_b="99352")
    assert places_agree(place_a="", country_a="99123", place_b="", country_b="99155")  # USSR / Ukraine


# The NIR's own digits -----------------------------------------------------------------------


def _problems(raw13, *, born=datetime.date(1991, 5, 17), sex="F", place="", country="99100"):
    return [
        field
        for field, _ in nir_identity_problems(
            nir(raw13), birth_date=born, sex=sex, birth_place_code=place, birth_country_code=country
        )
    ]


def test_nir_digits_agree_with_the_identity():
    assert _problems(NEW_NIR, place="69383") == []
    assert _problems(NEW_NIR, place="69123") == []  # Lyon for Lyon 3e


@pytest.mark.parametrize(
    "kwargs, field",
    [
        ({"sex": "M"}, "sex"),
        ({"born": datetime.date(1992, 5, 17)}, "birth_date"),
        ({"born": datetime.date(1991, 6, 17)}, "birth_date"),
        ({"place": "75056"}, "birth_place"),
        ({"country": "99352"}, "birth_country"),
    ],
)
def test_nir_digits_contradicting_the_identity(kwargs, field):
    assert _problems(NEW_NIR, **kwargs) == [field]


def test_pseudo_month_born_abroad_and_corsica():
    # Month 20-42 or 50-99: the birth month was unknown; 99 + country: born abroad.
    assert _problems("2 91 21 99 352 004", born=datetime.date(1991, 8, 1), country="99352") == []
    assert _problems("2 91 21 99 352 004", born=datetime.date(1991, 8, 1), country="99100") == ["birth_country"]
    assert _problems("2 91 05 2A 004 021", place="2A004") == []
    assert _problems("2 91 05 20 004 021", place="2A004") == []  # Corsica before 1976
    # Algeria before independence, overseas: the country is not checked.
    assert _problems("1 55 05 91 352 004", born=datetime.date(1955, 5, 1), sex="M", country="99352") == []
    assert _problems("2 91 05 97 105 004", place="97105") == []
    assert _problems("2 91 05 97 105 004", place="97209") == ["birth_place"]


def test_provisional_numbers_say_nothing_about_the_person():
    assert (
        nir_identity_problems(parse_identifier("8 17 51 23 456 789 13"), birth_date=datetime.date(1992, 8, 21), sex="F")
        == []
    )


# The service --------------------------------------------------------------------------------


def test_a_nir_typed_creates_a_person_to_verify_holding_a_provisional_identifier(family):
    """The NIR is a claim on the check (tests/accounts/test_signup_claims.py), never the person's
    identifier before the check: nobody holds it."""
    result = complete(identifier=nir(NEW_NIR))
    assert result.state is SignupState.TO_VERIFY
    person = result.person
    assert person.identifier_type == "provisional" and person.identifier == result.provisional_identifier
    assert not Person.objects.with_identifier(nir(NEW_NIR).value).exists()
    assert (person.first_names, person.birth_name, person.birth_place_code) == ("Inès Marie", "LEFÈVRE", "69383")
    check = result.identity_check
    assert check.state == IdentityCheckState.TO_VERIFY and pending_identity_check(person) == check
    assert check.claimed_identifier == nir(NEW_NIR)
    assert (check.address_line1, check.postal_code, check.city) == ("3 rue Garibaldi", "69003", "Lyon")
    assert check.match_outcome == "none" and check.candidate_person is None
    assert result.account.check_password(PASSWORD)
    contact = Contact.objects.get(account=result.account)
    assert (contact.kind, contact.value) == ("email", "ines@example.fr") and contact.verified_at
    message = Message.objects.get(recipient="ines@example.fr")
    assert message.template == "signup_claim_received" and result.provisional_identifier.display() in message.get_body()
    assert Account.objects.get(person=person) == result.account
    assert JournalEntry.objects.filter(action="signup.account_created", subject_person=person).exists()


def test_without_nir_a_provisional_identifier_is_issued_and_sent(family, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        result = complete(ident=identity(birth_place_code="", birth_place_label="Lyon (69)"))
    provisional = result.provisional_identifier
    assert re.fullmatch(r"P-[0-9A-Z]{5}-[0-9A-Z]{5}", provisional.display())
    assert parse_identifier(provisional.display()) == provisional
    person = result.person
    assert person.identifier_type == "provisional" and person.identifier == provisional
    assert result.state is SignupState.TO_VERIFY
    assert result.identity_check.birth_place_label == "Lyon (69)"
    message = Message.objects.get(template="provisional_identifier")
    assert message.recipient == "ines@example.fr" and message.account == result.account
    assert provisional.display() in mail.outbox[-1].body
    assert mail.outbox[-1].to == ["ines@example.fr"]


def test_the_provisional_identifier_goes_by_sms_to_a_validated_mobile(family):
    result = complete(contact_channel="phone", contact_destination="+33612345678")
    message = Message.objects.get(template="provisional_identifier")
    assert message.channel == "sms" and message.recipient == "+33612345678"
    assert result.provisional_identifier.display() in message.get_body()


def test_a_provisional_identifier_already_taken_is_drawn_again(family, monkeypatch):
    taken = new_provisional_identifier()
    person_create(
        identifier=taken, first_names="Autre", birth_name="Personne", birth_date=datetime.date(1990, 1, 1), sex="M"
    )
    fresh = new_provisional_identifier()
    draws = iter([taken, fresh])
    monkeypatch.setattr(signup, "new_provisional_identifier", lambda: next(draws))
    result = complete()
    assert result.provisional_identifier == fresh


def test_a_provisional_identifier_drawn_concurrently_is_drawn_again(family, monkeypatch):
    original = signup._person_create
    calls = []

    def racing(ident, identifier):
        calls.append(identifier)
        if len(calls) == 1:
            raise IntegrityError("UNIQUE constraint failed: identity_person.identifier_digest")
        return original(ident, identifier)

    monkeypatch.setattr(signup, "_person_create", racing)
    result = complete()
    assert len(calls) == 2 and result.provisional_identifier == calls[1]


def test_without_nir_nobody_is_linked_even_on_one_match(family):
    # A known identity typed without its NIR: a new person to verify, the known one noted as a duplicate.
    julien = julien_petit()
    ident = identity(
        first_names="Julien", birth_name="Petit", birth_date=datetime.date(1978, 2, 3), sex="M", birth_place_code=""
    )
    result = complete(ident=ident)
    assert result.person != julien and not Account.objects.filter(person=julien).exists()
    assert result.identity_check.match_outcome == "one" and result.identity_check.candidate_person == julien


def test_repeated_signups_from_one_address_are_slowed_down(family, settings):
    """Every creation counts against the client address (a flood of pending checks from one
    address), whoever the numbers typed belong to."""
    settings.MONCOMPTE_THROTTLE_FREE_FAILURES_PER_ADDRESS = 2
    for _ in range(3):
        complete(
            identifier=parse_identifier(family.responsible.identifier), ident=identity_of(family.responsible.person)
        )
    with pytest.raises(SignupError) as error:
        complete()
    assert error.value.code == "throttled" and "Réessayez" in error.value.message
    assert isinstance(error.value, DomainError) and error.value.status == 429
    assert "minute(s)" not in error.value.message  # the one wait text (moncompte.core.waits)
    assert JournalEntry.objects.filter(action="signup.throttled").count() == 1
    assert complete(client_address="203.0.113.9").state is SignupState.TO_VERIFY


def test_a_child_under_16_is_refused(family):
    today = datetime.date.today()
    persons, accounts = Person.objects.count(), Account.objects.count()
    with pytest.raises(SignupError) as error:
        complete(ident=identity(birth_date=datetime.date(today.year - 15, 1, 1)))
    assert error.value.code == "too_young" and "16 ans" in error.value.message
    assert (Person.objects.count(), Account.objects.count()) == (persons, accounts)


def test_the_password_policy_applies_with_the_declared_identity(family):
    with pytest.raises(SignupError) as error:
        complete(password="Lefevre et 30 cerisiers")
    assert error.value.code == "password"
    assert any("prénoms" in message for message in error.value.messages)
    with pytest.raises(SignupError):
        complete(identifier=nir(NEW_NIR), password="x " + nir(NEW_NIR).value + " y")


def test_digits_contradicting_the_identity_are_refused_before_anything(family):
    with pytest.raises(SignupError) as error:
        complete(identifier=nir(NEW_NIR), ident=identity(sex="M"))
    assert error.value.code == "identity" and "sexe" in error.value.message


def test_no_nir_in_clear_in_the_database_after_a_signup(family):
    from tests.identity.test_storage import _whole_database_text

    complete(identifier=nir(NEW_NIR))
    text = _whole_database_text().upper()
    assert nir(NEW_NIR).value not in text


# Identity documents -------------------------------------------------------------------------


def _png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)  # 1x1, 8-bit greyscale
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\x00\x80")) + chunk(b"IEND", b"")
    )


def _jpeg() -> bytes:
    """A 1x1 grey baseline JPEG: one DC and one AC Huffman code, all coefficients zero."""

    def segment(marker: int, payload: bytes) -> bytes:
        return bytes([0xFF, marker]) + struct.pack(">H", len(payload) + 2) + payload

    one_code = bytes([1] + [0] * 15) + b"\x00"  # one code of length 1, for symbol 0
    return (
        b"\xff\xd8"
        + segment(0xE0, b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00")
        + segment(0xDB, b"\x00" + bytes([1] * 64))
        + segment(0xC0, b"\x08\x00\x01\x00\x01\x01\x01\x11\x00")
        + segment(0xC4, b"\x00" + one_code)
        + segment(0xC4, b"\x10" + one_code)
        + segment(0xDA, b"\x01\x01\x00\x00\x3f\x00")
        + b"\x3f"  # DC difference 0 ("0"), end of block ("0"), padded with ones
        + b"\xff\xd9"
    )


def _pdf() -> bytes:
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def check(family):
    return complete(identifier=nir(NEW_NIR)).identity_check


def owner(check) -> Actor:
    """The person whose identity is checked, signed in on the web."""
    return Actor(channel=Channel.WEB, account=Account.objects.get(person=check.person), session_key="k" * 32)


def test_only_the_checked_person_sends_documents(check, media, family):
    someone_else = Actor(channel=Channel.WEB, account=family.responsible.account)
    with pytest.raises(NotAllowed):
        document_store(
            actor=someone_else, check=check, uploaded_file=SimpleUploadedFile("a.png", _png()), kind="passport"
        )
    assert not IdentityDocument.objects.exists()


@pytest.mark.parametrize(
    "content, name, content_type, extension",
    [
        (_pdf(), "carte.pdf", "application/pdf", "pdf"),
        (_png(), "carte.png", "image/png", "png"),
        (_jpeg(), "carte.jpg", "image/jpeg", "jpg"),
        # The name and the announced type do not count, the content does.
        (_png(), "carte.pdf", "image/png", "png"),
    ],
    ids=["pdf", "png", "jpeg", "png-named-pdf"],
)
def test_documents_are_typed_by_content_and_stored_under_a_random_name(
    check, media, content, name, content_type, extension
):
    upload = SimpleUploadedFile(name, content, content_type="application/pdf")
    document = document_store(actor=owner(check), check=check, uploaded_file=upload, kind="passport")
    document.refresh_from_db()
    assert re.fullmatch(rf"identity-documents/[0-9a-f]{{32}}\.{extension}", document.file.name)
    stored = Path(media) / document.file.name
    # The stored copy is the re-encoded one (moncompte.identity.documents): its size and digest.
    data = stored.read_bytes()
    assert document.content_type == content_type and document.size == len(data)
    assert document.sha256 == hashlib.sha256(data).hexdigest()
    assert stat.S_IMODE(stored.stat().st_mode) == 0o600
    assert "carte" not in document.file.name
    assert JournalEntry.objects.filter(action="identity.document_uploaded", subject_person=check.person).exists()


def test_the_sample_files_are_what_they_claim():
    assert detect_content_type(_pdf()[:8])[0] == "application/pdf"
    assert detect_content_type(_png()[:8])[0] == "image/png"
    assert detect_content_type(_jpeg()[:8])[0] == "image/jpeg"
    assert _pdf().rstrip().endswith(b"%%EOF")


@pytest.mark.parametrize(
    "content, code, words",
    [
        (b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 200, "type", "ni un PDF"),
        (b"<html><body>%PDF-1.4</body></html>", "type", "ni un PDF"),
        (b"PK\x03\x04" + b"\x00" * 100, "type", "ni un PDF"),
        (b"", "empty", "vide"),
    ],
    ids=["exe", "html", "zip", "empty"],
)
def test_wrong_or_empty_files_are_refused(check, media, content, code, words):
    upload = SimpleUploadedFile("scan.pdf", content, content_type="application/pdf")
    with pytest.raises(DocumentError) as error:
        document_store(actor=owner(check), check=check, uploaded_file=upload, kind="identity_card")
    assert error.value.code == code and words in error.value.message
    assert not IdentityDocument.objects.exists()


def test_too_large_files_are_refused(check, media, settings):
    settings.MONCOMPTE_DOCUMENT_MAX_BYTES = 1000
    upload = SimpleUploadedFile("scan.pdf", b"%PDF-1.4\n" + b"0" * 1000, content_type="application/pdf")
    with pytest.raises(DocumentError) as error:
        document_store(actor=owner(check), check=check, uploaded_file=upload, kind="identity_card")
    assert error.value.code == "too_large"
    assert "trop volumineux : 1 Ko au maximum" in error.value.message
    assert not IdentityDocument.objects.exists()
    assert not any(Path(media).rglob("*.pdf"))
    settings.MONCOMPTE_DOCUMENT_MAX_BYTES = 10 * 1024 * 1024
    assert max_size_text() == "10 Mo" and max_size_text(1536 * 1024) == "1,5 Mo"


def test_a_closed_check_takes_no_document_and_a_check_takes_a_few(check, media):
    for _ in range(MAX_DOCUMENTS_PER_CHECK):
        document_store(
            actor=owner(check), check=check, uploaded_file=SimpleUploadedFile("a.png", _png()), kind="identity_card"
        )
    with pytest.raises(DocumentError) as error:
        document_store(
            actor=owner(check), check=check, uploaded_file=SimpleUploadedFile("a.png", _png()), kind="identity_card"
        )
    assert error.value.code == "too_many"
    IdentityCheck.objects.filter(pk=check.pk).update(state=IdentityCheckState.VERIFIED)
    check.refresh_from_db()
    with pytest.raises(DocumentError) as error:
        document_store(
            actor=owner(check), check=check, uploaded_file=SimpleUploadedFile("a.png", _png()), kind="identity_card"
        )
    assert error.value.code == "closed"


def test_one_pending_check_per_person(check):
    with pytest.raises(IntegrityError):
        IdentityCheck.objects.create(person=check.person)
