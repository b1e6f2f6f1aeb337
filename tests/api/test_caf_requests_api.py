"""/api/v1/caf-requests/ (moncompte.api.v1.caf_requests): the list and one request for every role
of the matrix (as the pages: docs/caf-requests.md), the history, the answer with its files and
the same refusals as the page (type, size, count, virus scan), the download of a file."""

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils.html import escape

from moncompte.audit.models import JournalEntry
from moncompte.caf_requests.models import CafRequest, CafRequestAnswer, CafRequestAttachment
from tests.caf_requests.scanner import DOWN, EICAR, SCANNER
from tests.conftest import sign_in
from tests.factories import (
    DEFAULT_PASSWORD,
    AccountFactory,
    CafRequestAnswerFactory,
    CafRequestFactory,
    MemberFactory,
    api_token_for,
    bearer,
    make_household,
)
from tests.identity.test_document_parsing import jpeg, one_page_pdf, png

pytestmark = pytest.mark.django_db

BASE = "/api/v1/caf-requests/"


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.MONCOMPTE_VIRUS_SCANNER = SCANNER
    return settings.MEDIA_ROOT


class Api:
    def __init__(self, account):
        self.client = Client()
        self.headers = bearer(api_token_for(account)) if account is not None else {}

    def get(self, path, **extra):
        return self.client.get(path, **self.headers, **extra)

    def answer(self, request, *files, text=""):
        data = {"text": text, "files": list(files)} if files else {"text": text}
        return self.client.post(f"{BASE}{request.pk}/answers/", data, **self.headers)


def assert_refused(response, status: int, code: str) -> dict:
    assert response.status_code == status, (response.status_code, response.content[:500])
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["code"] == code and body["message"]
    return body


def nothing_stored(media) -> bool:
    files = [p for p in media.rglob("*") if p.is_file()] if media.exists() else []
    return not CafRequestAnswer.objects.exists() and not CafRequestAttachment.objects.exists() and not files


@pytest.fixture
def matrix(family):
    """As tests/web/test_caf_requests.py: the family's requests (to the household, to S, to M17,
    to the former spouse X), one of another file (its S+ sees it), and a client per role."""
    former = MemberFactory(dossier=family.dossier, spouse=True, ended=True)
    delegated = make_household(caf=family.caf, delegated=True)
    requests = {
        "household": CafRequestFactory(dossier=family.dossier),
        "spouse": CafRequestFactory(dossier=family.dossier, addressed_to=family.spouse.person),
        "child": CafRequestFactory(dossier=family.dossier, addressed_to=family.child.person),
        "former": CafRequestFactory(dossier=family.dossier, addressed_to=former.person),
        "other file": CafRequestFactory(dossier=delegated.dossier),
    }
    accounts = {
        "R": family.responsible.account,
        "S+": delegated.spouse.account,
        "S": family.spouse.account,
        "M17": family.child.account,
        "X": AccountFactory(person=former.person),
        "O": AccountFactory(),
    }
    return requests, accounts


SEES = {
    "R": {"household", "spouse", "child", "former"},
    "S+": {"other file"},
    "S": {"spouse"},
    "M17": {"child"},
    "X": set(),
    "O": set(),
}


def test_without_a_token_every_endpoint_answers_401_in_json(family):
    request = CafRequestFactory(dossier=family.dossier)
    anonymous = Api(None)
    for response in (
        anonymous.get(BASE),
        anonymous.get(f"{BASE}{request.pk}/"),
        anonymous.answer(request, text="Sans jeton"),
        anonymous.get(f"{BASE}{request.pk}/files/1/"),
    ):
        assert_refused(response, 401, "not_authenticated")
        assert "no-store" in response["Cache-Control"]
    assert not CafRequestAnswer.objects.exists()


@pytest.mark.parametrize("role", SEES)
def test_each_role_lists_opens_and_answers_only_what_the_policy_allows(matrix, role):
    requests, accounts = matrix
    client = Api(accounts[role])
    listing = client.get(BASE)
    assert listing.status_code == 200 and "no-store" in listing["Cache-Control"]
    listed = {row["id"] for row in listing.json()["results"]}
    assert listed == {requests[name].pk for name in SEES[role]}
    for name, request in requests.items():
        opened = client.get(f"{BASE}{request.pk}/")
        posted = client.answer(request, text="Ma réponse")
        if name in SEES[role]:
            assert opened.status_code == 200 and opened.json()["title"] == request.title, name
            assert posted.status_code == 201, name
        else:
            assert_refused(opened, 404, "not_found")
            assert_refused(posted, 404, "not_found")
            assert request.title not in opened.content.decode()
    answered = set(CafRequestAnswer.objects.values_list("request_id", flat=True))
    assert answered == {requests[name].pk for name in SEES[role]}
    assert set(CafRequestAnswer.objects.values_list("channel", flat=True)) <= {"api"}


def test_the_list_puts_waiting_requests_first_and_says_to_whom_and_which_are_late(family):
    late = CafRequestFactory(dossier=family.dossier, late=True)
    waiting = CafRequestFactory(dossier=family.dossier, addressed_to=family.spouse.person)
    answered = CafRequestFactory(dossier=family.dossier, answered=True)
    rows = Api(family.responsible.account).get(BASE).json()["results"]
    assert [row["id"] for row in rows] == [late.pk, waiting.pk, answered.pk]
    assert rows[0]["late"] and rows[0]["state"] == "waiting" and not rows[1]["late"]
    assert rows[0]["addressed_to"] == {"who": "household", "name": None}
    assert rows[1]["addressed_to"] == {"who": "member", "name": family.spouse.person.display_name}
    assert rows[2]["state"] == "answered" and rows[2]["state_label"] == "Répondue"
    spouse = Api(family.spouse.account).get(BASE).json()["results"]
    assert [(row["id"], row["addressed_to"]["who"]) for row in spouse] == [(waiting.pk, "you")]


def test_a_request_reads_with_its_history_and_is_journaled(delegated_family):
    family = delegated_family
    request = CafRequestFactory(dossier=family.dossier, body="Première ligne.\nDeuxième ligne.")
    CafRequestAnswerFactory(request=request, author=family.spouse.person, text="Réponse du conjoint")
    client = Api(family.responsible.account)
    assert client.answer(request, SimpleUploadedFile("bail.pdf", one_page_pdf()), text="Le bail").status_code == 201
    body = client.get(f"{BASE}{request.pk}/").json()
    assert body["body"] == request.body and body["file_number"] == family.dossier.numero
    assert [(a["author"], a["by_you"], a["text"]) for a in body["answers"]] == [
        (family.spouse.person.display_name, False, "Réponse du conjoint"),
        ("vous", True, "Le bail"),
    ]
    attachment = CafRequestAttachment.objects.get()
    assert body["answers"][1]["files"] == [
        {
            "id": attachment.pk,
            "name": "bail.pdf",
            "content_type": "application/pdf",
            "size": attachment.size,
            "url": f"{BASE}{request.pk}/files/{attachment.pk}/",
        }
    ]
    entry = JournalEntry.objects.filter(action="caf_request.viewed").latest("id")
    assert entry.detail == {"request": request.pk} and entry.channel == "api"
    # The spouse with the delegation sees the same history, in the second person for his own.
    spouse = Api(family.spouse.account).get(f"{BASE}{request.pk}/").json()
    assert [a["author"] for a in spouse["answers"]] == ["vous", family.responsible.person.display_name]


@pytest.mark.parametrize(
    "content, name, content_type",
    [
        (one_page_pdf(), "avis.pdf", "application/pdf"),
        (jpeg(), "photo.jpg", "image/jpeg"),
        (png(), "capture.png", "image/png"),
    ],
    ids=["pdf", "jpeg", "png"],
)
def test_a_file_is_sent_then_downloaded_by_who_may_see_the_request_only(family, content, name, content_type):
    request = CafRequestFactory(dossier=family.dossier, addressed_to=family.child.person)
    child = Api(family.child.account)
    response = child.answer(request, SimpleUploadedFile(name, content), text="Voici le document.")
    assert response.status_code == 201
    body = response.json()
    attachment = CafRequestAttachment.objects.get()
    assert body["request"]["state"] == "answered" and body["answer"]["author"] == "vous"
    assert body["answer"]["files"][0]["content_type"] == content_type == attachment.content_type
    entry = JournalEntry.objects.get(action="caf_request.answered")
    assert entry.channel == "api" and entry.detail["files"][0]["content_type"] == content_type
    request.refresh_from_db()
    assert request.state == CafRequest.State.ANSWERED

    url = body["answer"]["files"][0]["url"]
    with attachment.file.open("rb") as handle:
        stored = handle.read()
    for account in (family.child.account, family.responsible.account):
        download = Api(account).get(url, HTTP_ACCEPT=content_type)
        assert download.status_code == 200 and download["Content-Type"] == content_type
        # Read to its end, the test client closes it (a second close would end the test's
        # database connection on PostgreSQL).
        assert b"".join(download.streaming_content) == stored
        assert "attachment" in download["Content-Disposition"] and "no-store" in download["Cache-Control"]
    assert_refused(Api(family.spouse.account).get(url, HTTP_ACCEPT=content_type), 404, "not_found")
    other = CafRequestFactory(dossier=family.dossier, addressed_to=family.child.person)
    assert_refused(child.get(f"{BASE}{other.pk}/files/{attachment.pk}/"), 404, "not_found")


def page_text(response) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", response.content.decode()).split())


@pytest.mark.parametrize(
    "content, words",
    [
        (b"MZ\x90\x00" + bytes(200), "ni un PDF, ni une image JPEG ou PNG"),
        (b"<html><body><script>alert(1)</script></body></html>", "ni un PDF, ni une image JPEG ou PNG"),
        (b"", "Le fichier est vide"),
    ],
    ids=["exe-named-pdf", "html-named-pdf", "empty"],
)
def test_a_bad_file_is_refused_with_the_pages_message(family, media, content, words):
    request = CafRequestFactory(dossier=family.dossier)
    response = Api(family.responsible.account).answer(request, SimpleUploadedFile("avis.pdf", content), text="Texte")
    body = assert_refused(response, 400, body_code(content))
    assert body["field"] == "files" and body["message"].startswith("« avis.pdf » : ") and words in body["message"]
    assert nothing_stored(media)
    request.refresh_from_db()
    assert request.state == CafRequest.State.WAITING
    # The page says the very same words.
    browser = Client()
    assert sign_in(browser, *family.responsible.credentials).status_code == 302
    page = browser.post(
        f"/mon-compte/demandes-de-la-caf/{request.pk}/",
        {"text": "Texte", "files": [SimpleUploadedFile("avis.pdf", content)]},
    )
    assert page.status_code == 400 and escape(body["message"]) in page.content.decode()


def body_code(content: bytes) -> str:
    return "empty" if not content else "type"


def test_a_file_too_large_is_cut_off_while_it_arrives(family, media, settings):
    settings.MONCOMPTE_CAF_REQUEST_MAX_BYTES = 4096
    request = CafRequestFactory(dossier=family.dossier)
    big = SimpleUploadedFile("scan.pdf", one_page_pdf() + b"%" + b"0" * 8192)
    body = assert_refused(Api(family.responsible.account).answer(request, big, text="Avant"), 400, "too_large")
    assert body["field"] == "files" and body["message"].startswith("Le fichier est trop volumineux : 4 Ko")
    assert nothing_stored(media)


def test_six_files_are_refused_while_they_arrive(family, media):
    request = CafRequestFactory(dossier=family.dossier)
    files = [SimpleUploadedFile(f"page{n}.png", png()) for n in range(6)]
    body = assert_refused(Api(family.responsible.account).answer(request, *files), 400, "too_many")
    assert body["message"] == "Vous pouvez joindre 5 fichiers au plus à une réponse."
    assert nothing_stored(media)


def test_an_infected_file_is_refused_and_journaled(family, media):
    request = CafRequestFactory(dossier=family.dossier)
    infected = SimpleUploadedFile("facture.pdf", one_page_pdf() + b"%" + EICAR + b"\n")
    body = assert_refused(Api(family.responsible.account).answer(request, infected), 400, "infected")
    assert "antivirus" in body["message"] and body["message"].startswith("« facture.pdf » : ")
    entry = JournalEntry.objects.get(action="caf_request.file_infected")
    assert entry.detail["signature"] == "Eicar-Test-Signature" and entry.channel == "api"
    assert nothing_stored(media)


def test_a_scanner_that_cannot_answer_refuses_the_file(family, media, settings):
    settings.MONCOMPTE_VIRUS_SCANNER = DOWN
    request = CafRequestFactory(dossier=family.dossier)
    response = Api(family.responsible.account).answer(request, SimpleUploadedFile("a.png", png()))
    assert "réessayez dans quelques minutes" in assert_refused(response, 400, "scan_unavailable")["message"]
    assert nothing_stored(media)


def test_an_empty_answer_a_closed_request_and_a_json_body_are_refused(family, media):
    client = Api(family.responsible.account)
    request = CafRequestFactory(dossier=family.dossier)
    empty = assert_refused(client.answer(request), 400, "nothing")
    assert empty["message"] == "Écrivez votre réponse ou ajoutez au moins un fichier." and empty["field"] == "text"
    too_long = assert_refused(client.answer(request, text="x" * 5001), 400, "invalid")
    assert too_long["errors"] == {"text": ["Votre réponse est trop longue : 5000 caractères au plus."]}
    closed = CafRequestFactory(dossier=family.dossier, closed=True)
    assert "close" in assert_refused(client.answer(closed, text="Encore"), 400, "closed")["message"]
    as_json = client.client.post(
        f"{BASE}{request.pk}/answers/", {"text": "x"}, content_type="application/json", **client.headers
    )
    assert_refused(as_json, 415, "unsupported_media_type")
    malformed = client.client.generic(
        "POST",
        f"{BASE}{request.pk}/answers/",
        b'--x\r\nContent-Disposition: form-data; name=files; filename="a',
        "multipart/form-data; boundary=x",
        **client.headers,
    )
    assert malformed.status_code == 400 and malformed.json()["code"] in ("malformed", "nothing")
    assert nothing_stored(media)


def test_x_cannot_answer_the_request_addressed_to_them_before_they_left(family):
    former = MemberFactory(dossier=family.dossier, spouse=True, ended=True)
    request = CafRequestFactory(dossier=family.dossier, addressed_to=former.person)
    client = Api(AccountFactory(person=former.person, password=DEFAULT_PASSWORD))
    assert_refused(client.get(f"{BASE}{request.pk}/"), 404, "not_found")
    assert_refused(client.answer(request, SimpleUploadedFile("a.png", png())), 404, "not_found")
