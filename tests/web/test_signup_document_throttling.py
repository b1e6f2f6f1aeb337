"""Refused identity documents are counted: each may have cost the parser seconds of CPU, so a
person (or a script with their session) cannot send hostile files without end. The page's own
checks (no file at all) reach no parser and are not counted. The steps are those of tests/web/test_signup_pages.py."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from moncompte.accounts.signup import DOCUMENT_FREE_REFUSALS
from moncompte.audit.models import JournalEntry
from moncompte.identity.models import IdentityDocument
from tests.identity.test_document_parsing import jpeg
from tests.web.test_signup_pages import _signup

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("deliver_messages")]

PAGE = "/creer-mon-compte/justificatif/"


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def _send(client, content: bytes, kind: str = "passport"):
    return client.post(PAGE, {"kind": kind, "document": SimpleUploadedFile("carte.jpg", content)})


def test_unreadable_files_are_counted_then_refused_before_parsing(client, family, media):
    _signup(client)
    for _ in range(DOCUMENT_FREE_REFUSALS + 1):
        assert _send(client, b"\xff\xd8\xff").status_code == 400
    # The waits have begun: even a good file waits, and is not parsed nor stored.
    response = _send(client, jpeg((300, 200)))
    body = response.content.decode()
    assert response.status_code == 429 and "Trop de fichiers n&#x27;ont pas pu être lus" in body, body[:2000]
    assert not IdentityDocument.objects.exists()
    assert JournalEntry.objects.filter(action="identity.document_throttled").count() == 1


def test_a_form_without_a_file_is_not_counted(client, family, media):
    _signup(client)
    for _ in range(DOCUMENT_FREE_REFUSALS + 3):
        assert client.post(PAGE, {"kind": "passport"}).status_code == 400  # no file
    response = _send(client, jpeg((300, 200)))
    assert response.status_code == 302
    assert IdentityDocument.objects.count() == 1
