"""Pages of the Caf's requests (/mon-compte/demandes-de-la-caf/, moncompte.web.caf_requests):
access for every role of the matrix, the answer with its uploads, the history seen by both."""

import re

import pytest
from django.core.exceptions import SuspiciousFileOperation
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils.html import escape
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from moncompte.audit.models import JournalEntry
from moncompte.caf_requests.models import CafRequest, CafRequestAnswer, CafRequestAttachment
from moncompte.caf_requests.selectors import caf_request_history
from moncompte.core.actors import Actor, Channel
from tests.caf_requests.scanner import EICAR, SCANNER
from tests.conftest import sign_in
from tests.factories import (
    DEFAULT_PASSWORD,
    AccountFactory,
    CafRequestAnswerFactory,
    CafRequestFactory,
    MemberFactory,
    make_household,
)
from tests.identity.test_document_parsing import jpeg, one_page_pdf, png

pytestmark = pytest.mark.django_db

LIST = "/mon-compte/demandes-de-la-caf/"


def page(request: CafRequest) -> str:
    return f"{LIST}{request.pk}/"


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.MONCOMPTE_VIRUS_SCANNER = SCANNER
    return settings.MEDIA_ROOT


def signed_in(identifier: str, password: str) -> Client:
    client = Client()
    assert sign_in(client, identifier, password).status_code == 302
    return client


def text_of(response) -> str:
    """The page's text, tags dropped and white space folded (for sentences split by markup)."""
    return " ".join(re.sub(r"<[^>]+>", " ", response.content.decode()).split())


@pytest.fixture
def matrix(family):
    """The family's requests (to the household, to the spouse S, to the child M17, to the former
    spouse) and a client signed in for every role: R, S+ (of another file, who sees only theirs),
    S, M17, the former spouse X and a stranger O."""
    former = MemberFactory(dossier=family.dossier, spouse=True, ended=True)
    AccountFactory(person=former.person)
    delegated = make_household(delegated=True)
    stranger = AccountFactory()
    requests = {
        "household": CafRequestFactory(dossier=family.dossier, title="Demande au foyer"),
        "spouse": CafRequestFactory(dossier=family.dossier, addressed_to=family.spouse.person, title="Demande à S"),
        "child": CafRequestFactory(dossier=family.dossier, addressed_to=family.child.person, title="Demande à M"),
        "former": CafRequestFactory(dossier=family.dossier, addressed_to=former.person, title="Demande à X"),
        "other file": CafRequestFactory(dossier=delegated.dossier, title="Demande à l'autre foyer"),
    }
    credentials = {
        "R": family.responsible.credentials,
        "S+": delegated.spouse.credentials,
        "S": family.spouse.credentials,
        "M17": family.child.credentials,
        "X": (former.person.raw_identifier, DEFAULT_PASSWORD),
        "O": (stranger.person.raw_identifier, DEFAULT_PASSWORD),
    }
    return requests, credentials


SEES = {
    "R": {"household", "spouse", "child", "former"},
    "S+": {"other file"},
    "S": {"spouse"},
    "M17": {"child"},
    "X": set(),
    "O": set(),
}


@pytest.mark.parametrize("role", SEES)
def test_each_role_sees_and_opens_only_what_the_policy_allows(matrix, role):
    requests, credentials = matrix
    client = signed_in(*credentials[role])
    listing = client.get(LIST)
    assert listing.status_code == 200 and "no-store" in listing["Cache-Control"]
    body = listing.content.decode()
    for name, request in requests.items():
        shown = escape(request.title) in body
        opened = client.get(page(request))
        posted = client.post(page(request), {"text": "Ma réponse"})
        if name in SEES[role]:
            assert shown and opened.status_code == 200, name
            assert posted.status_code == 302, name
        else:
            assert not shown, name
            assert opened.status_code == 404 and posted.status_code == 404, name
            assert escape(request.title) not in opened.content.decode()
    if not SEES[role]:
        assert "Aucune demande de la Caf n'attend de réponse de votre part." in text_of(listing)
    answered = set(CafRequestAnswer.objects.values_list("request__title", flat=True))
    assert answered == {requests[name].title for name in SEES[role]}


def test_a_spouse_without_delegation_is_told_it_is_theirs_and_r_whose_it_is(family):
    CafRequestFactory(dossier=family.dossier, addressed_to=family.spouse.person)
    household = CafRequestFactory(dossier=family.dossier)
    spouse = text_of(signed_in(*family.spouse.credentials).get(LIST))
    assert "Demande adressée à vous personnellement" in spouse and household.title not in spouse
    responsible = text_of(signed_in(*family.responsible.credentials).get(LIST))
    assert f"Demande adressée à {family.spouse.person.display_name}" in responsible
    assert "Demande adressée au foyer" in responsible


def test_the_list_puts_waiting_requests_first_and_says_which_are_late(family):
    late = CafRequestFactory(dossier=family.dossier, late=True, title="Demande en retard")
    waiting = CafRequestFactory(dossier=family.dossier, title="Demande à rendre")
    answered = CafRequestFactory(dossier=family.dossier, answered=True, title="Demande répondue")
    text = text_of(signed_in(*family.responsible.credentials).get(LIST))
    assert text.index(late.title) < text.index(waiting.title) < text.index("Demandes répondues ou closes")
    assert text.index("Demandes répondues ou closes") < text.index(answered.title)
    assert "En retard" in text and "est passée : vous pouvez encore répondre" in text


def test_the_detail_shows_the_request_its_late_notice_and_is_journaled(family):
    request = CafRequestFactory(dossier=family.dossier, late=True, body="Première ligne.\nDeuxième ligne.")
    response = signed_in(*family.responsible.credentials).get(page(request))
    body = response.content.decode()
    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    assert "Première ligne.<br>Deuxième ligne." in body
    assert "Vous pouvez encore répondre" in body
    assert 'class="fr-upload-group' in body and 'type="file" multiple' in body
    assert 'enctype="multipart/form-data"' in body and "Formats acceptés : PDF, JPEG ou PNG" in body
    assert "Taille maximale : 10 Mo par fichier. 5 fichiers au plus." in body
    # The text comes before the files: it is read even when a file stops the upload.
    assert body.index('name="text"') < body.index('name="files"')
    entry = JournalEntry.objects.get(action="caf_request.viewed")
    assert entry.detail == {"request": request.pk} and entry.dossier == family.dossier


# Uploads ----------------------------------------------------------------------------------------


@pytest.fixture
def answering(family):
    request = CafRequestFactory(dossier=family.dossier)
    return signed_in(*family.responsible.credentials), request


def post(client, request, *files, text=""):
    return client.post(page(request), {"text": text, "files": list(files)})


@pytest.mark.parametrize(
    "content, name, content_type",
    [
        (one_page_pdf(), "avis.pdf", "application/pdf"),
        (jpeg(), "photo.jpg", "image/jpeg"),
        (png(), "capture.png", "image/png"),
    ],
    ids=["pdf", "jpeg", "png"],
)
def test_a_pdf_a_jpeg_or_a_png_is_sent(answering, family, content, name, content_type):
    client, request = answering
    response = post(client, request, SimpleUploadedFile(name, content), text="Voici le document.")
    assert response.status_code == 302 and response["Location"] == page(request)
    attachment = CafRequestAttachment.objects.get()
    assert attachment.content_type == content_type and attachment.original_name == name
    request.refresh_from_db()
    assert request.state == CafRequest.State.ANSWERED
    shown = client.get(page(request))
    text = text_of(shown)
    assert "Votre réponse a bien été envoyée à la Caf." in text
    assert "Réponse de vous" in text and "Voici le document." in text and name in text


def _refused(response, *words: str):
    assert response.status_code == 400
    body = response.content.decode()
    for word in words:
        assert escape(word) in body, body[:3000]
    assert 'aria-invalid="true"' in body and "fr-alert--error" in body
    assert not CafRequestAnswer.objects.exists() and not CafRequestAttachment.objects.exists()
    return body


@pytest.mark.parametrize(
    "content, words",
    [
        (b"MZ\x90\x00" + bytes(200), "ni un PDF, ni une image JPEG ou PNG"),
        (b"<html><body><script>alert(1)</script></body></html>", "ni un PDF, ni une image JPEG ou PNG"),
        (b"", "Le fichier est vide"),
    ],
    ids=["exe-named-pdf", "html-named-pdf", "empty"],
)
def test_disguised_and_empty_files_are_refused_with_a_french_error(answering, content, words):
    client, request = answering
    response = post(client, request, SimpleUploadedFile("avis.pdf", content), text="Mon texte gardé")
    body = _refused(response, "« avis.pdf » : ", words)
    assert "Mon texte gardé</textarea>" in body


def test_a_file_too_large_is_cut_off_while_it_arrives(answering, settings):
    client, request = answering
    settings.MONCOMPTE_CAF_REQUEST_MAX_BYTES = 4096
    big = SimpleUploadedFile("scan.pdf", one_page_pdf() + b"%" + b"0" * 8192)
    body = _refused(post(client, request, big, text="Texte avant le fichier"), "Le fichier est trop volumineux : 4 Ko")
    assert "Texte avant le fichier</textarea>" in body


def test_an_infected_file_is_refused_and_journaled(answering, family):
    client, request = answering
    infected = SimpleUploadedFile("facture.pdf", one_page_pdf() + b"%" + EICAR + b"\n")
    _refused(post(client, request, infected), "« facture.pdf » : ", "antivirus")
    entry = JournalEntry.objects.get(action="caf_request.file_infected")
    assert entry.detail["signature"] == "Eicar-Test-Signature" and entry.actor_person == family.responsible.person


def test_six_files_are_refused_while_they_arrive(answering):
    client, request = answering
    files = [SimpleUploadedFile(f"page{n}.png", png()) for n in range(6)]
    _refused(post(client, request, *files), "5 fichiers au plus")


def test_an_empty_answer_is_refused(answering):
    client, request = answering
    _refused(post(client, request), "Écrivez votre réponse ou ajoutez au moins un fichier.")


def test_a_closed_request_shows_no_form_and_refuses_an_answer(family):
    request = CafRequestFactory(dossier=family.dossier, closed=True)
    client = signed_in(*family.responsible.credentials)
    shown = client.get(page(request)).content.decode()
    assert "Demande close" in shown and 'name="files"' not in shown
    response = client.post(page(request), {"text": "Encore moi"})
    assert response.status_code == 400 and "Cette demande est close" in response.content.decode()
    assert not CafRequestAnswer.objects.exists()


def test_the_answer_form_checks_csrf_after_the_upload_handler(family):
    request = CafRequestFactory(dossier=family.dossier)
    client = Client(enforce_csrf_checks=True)
    client.cookies = signed_in(*family.responsible.credentials).cookies  # signed in, no CSRF cookie
    assert client.get(LIST).status_code == 200
    client.cookies.pop("csrftoken", None)
    response = client.post(page(request), {"text": "Sans jeton", "files": [SimpleUploadedFile("a.png", png())]})
    assert response.status_code == 403 and not CafRequestAnswer.objects.exists()


def test_a_malformed_body_is_a_400_not_a_500(answering):
    client, request = answering
    response = client.generic(
        "POST", page(request), b'--x\r\nContent-Disposition: form-data; name=files; filename="a', "multipart/form-data"
    )
    assert response.status_code == 400


# History and files ------------------------------------------------------------------------------


def test_the_history_is_seen_by_both_sides_with_each_author_and_date(delegated_family):
    family = delegated_family
    request = CafRequestFactory(dossier=family.dossier)
    responsible = signed_in(*family.responsible.credentials)
    assert post(responsible, request, SimpleUploadedFile("bail.pdf", one_page_pdf()), text="Le bail").status_code == 302
    spouse = signed_in(*family.spouse.credentials)
    assert post(spouse, request, text="Et la quittance suivra.").status_code == 302
    # The spouse sees the responsible person's answer under their name, and their own as theirs.
    text = text_of(spouse.get(page(request)))
    assert f"Réponse de {family.responsible.person.display_name}, le" in text
    assert "Le bail" in text and "bail.pdf" in text and "Réponse de vous" in text and "Compléter la réponse" in text
    assert text.index("Le bail") < text.index("Et la quittance suivra.")
    # The Caf's side reads the same history (the agents' console of issue 12 will show it).
    history = caf_request_history(
        actor=Actor(channel=Channel.WEB, person=family.responsible.person), request_id=request.pk
    )
    assert [(a.author, a.text) for a in history.answers] == [
        (family.responsible.person, "Le bail"),
        (family.spouse.person, "Et la quittance suivra."),
    ]


def test_a_file_of_the_history_is_downloaded_by_those_who_see_the_request_only(family):
    request = CafRequestFactory(dossier=family.dossier, addressed_to=family.child.person)
    child = signed_in(*family.child.credentials)
    assert post(child, request, SimpleUploadedFile("certificat.png", png())).status_code == 302
    attachment = CafRequestAttachment.objects.get()
    url = f"{page(request)}fichiers/{attachment.pk}/"
    download = signed_in(*family.responsible.credentials).get(url)
    content = b"".join(download.streaming_content)
    assert download.status_code == 200 and download["Content-Type"] == "image/png"
    assert download["Content-Disposition"] == 'attachment; filename="certificat.png"'
    assert "no-store" in download["Cache-Control"] and content.startswith(b"\x89PNG")
    assert signed_in(*family.spouse.credentials).get(url).status_code == 404
    other = CafRequestFactory(dossier=family.dossier, addressed_to=family.child.person)
    assert child.get(f"{page(other)}fichiers/{attachment.pk}/").status_code == 404


def test_an_answer_without_files_shows_no_file_list(family):
    request = CafRequestFactory(dossier=family.dossier, answered=True)
    CafRequestAnswerFactory(request=request, author=family.responsible.person, text="Seulement du texte")
    body = signed_in(*family.responsible.credentials).get(page(request)).content.decode()
    assert "Seulement du texte" in body and "joint" not in body


@pytest.mark.parametrize(
    "files, exceeded, too_many",
    [
        ([SimpleUploadedFile("a.pdf", b"x" * 5000)], True, False),
        ([SimpleUploadedFile(f"{n}.png", b"x") for n in range(6)], False, True),
        ([SimpleUploadedFile(f"{n}.png", b"x" * 4096) for n in range(5)], False, False),
    ],
    ids=["oversized", "sixth-file", "five-at-the-limit"],
)
def test_the_upload_handler_stops_reading_while_the_body_arrives(rf, files, exceeded, too_many):
    from moncompte.web.caf_requests.uploads import AnswerUploadHandler

    request = rf.post("/x/", {"text": "gardé", "files": files})
    handler = AnswerUploadHandler(request, limit=4096, max_files=5)
    request.upload_handlers.insert(0, handler)
    assert request.POST["text"] == "gardé"
    assert (handler.exceeded, handler.too_many) == (exceeded, too_many)
    if not (exceeded or too_many):
        assert len(request.FILES.getlist("files")) == 5


@pytest.fixture
def family_client(family, settings):
    """R signed in, a request of theirs, and a small file limit (so that some files pass it)."""
    settings.MONCOMPTE_CAF_REQUEST_MAX_BYTES = 2000
    return signed_in(*family.responsible.credentials), CafRequestFactory(dossier=family.dossier)


_HEADS = st.sampled_from([b"", b"%PDF-1.7\n", b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"MZ", b"<html>"])


def _upload(name: str, content: bytes) -> SimpleUploadedFile:
    try:
        return SimpleUploadedFile(name, content)
    except SuspiciousFileOperation:  # a name the test client cannot send ("..", "/")
        return SimpleUploadedFile("x", content)


_FILES = st.lists(
    st.tuples(st.text(max_size=300), _HEADS, st.binary(max_size=3000)).map(lambda t: _upload(t[0], t[1] + t[2])),
    max_size=7,
)


@hypothesis_settings(
    max_examples=30, deadline=None, derandomize=True, database=None, suppress_health_check=list(HealthCheck)
)
@given(
    text=st.text(max_size=6000),
    files=_FILES,
    extra=st.dictionaries(st.text(max_size=20), st.text(max_size=50), max_size=3),
)
def test_no_answer_reaches_a_500(family_client, text, files, extra):
    client, request = family_client
    data = {**extra, "text": text, "files": files}
    response = client.post(page(request), data)
    assert response.status_code in (302, 400), response.status_code
