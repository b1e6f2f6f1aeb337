"""The identity document page with hostile files: a French error on the page, never a 500, nothing
stored; a real photo is stored re-encoded. The steps are those of tests/web/test_signup_pages.py."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from moncompte.identity.models import IdentityDocument
from tests.identity.test_document_parsing import (
    exif_with_gps,
    jpeg,
    one_page_pdf,
    png_claiming,
    stored_bytes,
    zeros_deflated,
)
from tests.web.test_signup_pages import _signup

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("deliver_messages")]

PAGE = "/creer-mon-compte/justificatif/"


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.mark.parametrize(
    "name, content, message",
    [
        (
            "carte.pdf",
            one_page_pdf(zeros_deflated(400 * 1024 * 1024), content_dict=b"/Filter /FlateDecode"),
            "Ce PDF est trop lourd ou trop complexe pour être vérifié.",
        ),
        ("carte.png", png_claiming(100_000, 100_000), "Cette image est trop grande : 50 millions de pixels"),
        ("carte.jpg", b"\xff\xd8\xff", "Cette image n&#x27;a pas pu être lue"),
        ("carte.jpg", jpeg((300, 200))[:400], "Cette image n&#x27;a pas pu être lue"),
        (
            "carte.pdf",
            one_page_pdf(catalog=b"/OpenAction << /S /JavaScript /JS (app.alert\\(1\\)) >>"),
            "Ce PDF contient des éléments actifs",
        ),
    ],
    ids=["pdf-bomb", "png-100000x100000", "three-byte-jpeg", "truncated-jpeg", "pdf-javascript"],
)
def test_hostile_documents_are_refused_on_the_page(client, family, media, name, content, message):
    _signup(client)
    response = client.post(PAGE, {"kind": "passport", "document": SimpleUploadedFile(name, content)})
    body = response.content.decode()
    assert response.status_code == 400 and message in body, body[:2000]
    assert 'value="passport" checked' in body
    assert not IdentityDocument.objects.exists()


def test_a_photo_is_stored_re_encoded_without_its_position(client, family, media):
    _signup(client)
    original = jpeg((80, 60), exif=exif_with_gps(orientation=8))
    response = client.post(PAGE, {"kind": "identity_card", "document": SimpleUploadedFile("recto.jpg", original)})
    assert response["Location"] == "/creer-mon-compte/justificatif/envoye/"
    document = IdentityDocument.objects.get()
    content = stored_bytes(document, media)
    image = Image.open(io.BytesIO(content))
    assert image.size == (60, 80) and not image.getexif() and b"Exif" not in content
