"""Identity documents parsed, not sniffed (moncompte.identity.documents, document_parsing).

Every hostile file is generated here (no binary in the repository) and sent through
``document_store``, which parses it in its child process: what is refused leaves no row and no
file; what is accepted is stored as the copy written by us, never as it arrived.
"""

import hashlib
import io
import struct
import zlib
from pathlib import Path

import pypdf
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image, ImageDraw, PngImagePlugin

from moncompte.core.actors import Actor, Channel
from moncompte.identity.documents import DocumentError, document_store
from moncompte.identity.models import IdentityCheck, IdentityDocument
from tests.factories import AccountFactory

pytestmark = pytest.mark.django_db

GPS = 0x8825
ORIENTATION = 0x0112
MAKE = 0x010F


# Files --------------------------------------------------------------------------------------


def picture(size=(60, 40)) -> Image.Image:
    """Not a flat colour: a gradient and a red block in the top left corner (to see rotations)."""
    image = Image.linear_gradient("L").resize(size).convert("RGB")
    ImageDraw.Draw(image).rectangle((0, 0, size[0] // 3, size[1] // 3), fill=(255, 0, 0))
    return image


def jpeg(size=(60, 40), **options) -> bytes:
    out = io.BytesIO()
    picture(size).save(out, "JPEG", quality=95, **options)
    return out.getvalue()


def png(size=(60, 40), **options) -> bytes:
    out = io.BytesIO()
    picture(size).save(out, "PNG", **options)
    return out.getvalue()


def exif_with_gps(orientation: int = 1) -> Image.Exif:
    exif = Image.Exif()
    exif[ORIENTATION] = orientation
    exif[MAKE] = "Appareil de Marc"
    exif[GPS] = {1: "N", 2: (48.0, 51.0, 24.0), 3: "E", 4: (2.0, 21.0, 3.0)}
    return exif


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_claiming(width: int, height: int, image_data: bytes = b"") -> bytes:
    """A PNG whose header (correct CRC) claims ``width`` × ``height`` 8-bit RGB pixels."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", header)
        + png_chunk(b"IDAT", image_data or zlib.compress(b"\x00" * 1000))
        + png_chunk(b"IEND", b"")
    )


def zeros_deflated(size: int) -> bytes:
    """``size`` zero bytes, zlib-compressed without ever holding them: after a full flush every
    1 MiB block compresses to the same bytes, which are repeated; the checksum is computed apart."""
    block = bytes(1024 * 1024)
    blocks, rest = divmod(size, len(block))
    compressor = zlib.compressobj(9)
    parts = []
    if blocks:
        parts.append(compressor.compress(block) + compressor.flush(zlib.Z_FULL_FLUSH))
    if blocks > 1:
        parts.append((compressor.compress(block) + compressor.flush(zlib.Z_FULL_FLUSH)) * (blocks - 1))
    parts.append((compressor.compress(bytes(rest)) + compressor.flush())[:-4])
    checksum = 1
    for _ in range(blocks):
        checksum = zlib.adler32(block, checksum)
    checksum = zlib.adler32(bytes(rest), checksum)
    return b"".join(parts) + checksum.to_bytes(4, "big")


def jpeg_claiming(width: int, height: int) -> bytes:
    """A real small JPEG whose frame header (SOF0) is changed to claim ``width`` × ``height``."""
    data = bytearray(jpeg((60, 40)))
    frame = data.index(b"\xff\xc0")
    data[frame + 5 : frame + 9] = struct.pack(">HH", height, width)
    return bytes(data)


def raw_pdf(objects: list[bytes]) -> bytes:
    """A PDF of these object bodies (object 1 is the catalog), with a correct cross-reference table."""
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
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


def stream(data: bytes, dictionary: bytes = b"") -> bytes:
    return b"<< /Length %d %s >>\nstream\n" % (len(data), dictionary) + data + b"\nendstream"


def one_page_pdf(content: bytes = b"0 0 m 150 150 l S", *, catalog=b"", page=b"", content_dict=b"", more=()) -> bytes:
    """Catalog (1), pages (2), the page (3), its content (4), then ``more`` objects (5, 6...)."""
    return raw_pdf(
        [
            b"<< /Type /Catalog /Pages 2 0 R " + catalog + b" >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 300] /Contents 4 0 R " + page + b" >>",
            stream(content, content_dict),
            *more,
        ]
    )


def pypdf_pdf(pages: int = 1, *, password: str | None = None, owner_password: str | None = None) -> bytes:
    writer = pypdf.PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(200, 300)
    if password is not None:
        writer.encrypt(user_password=password, owner_password=owner_password, algorithm="AES-256")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


# The check and the upload -------------------------------------------------------------------


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return Path(settings.MEDIA_ROOT)


@pytest.fixture
def check(db):
    account = AccountFactory()
    return IdentityCheck.objects.create(person=account.person)


def store(check, content: bytes, name: str = "scan.pdf") -> IdentityDocument:
    actor = Actor(channel=Channel.WEB, account=check.person.account, session_key="k" * 32)
    upload = SimpleUploadedFile(name, content, content_type="application/pdf")
    document = document_store(actor=actor, check=check, uploaded_file=upload, kind="identity_card")
    document.refresh_from_db()
    return document


def stored_bytes(document: IdentityDocument, media) -> bytes:
    content = (Path(media) / document.file.name).read_bytes()
    # What is recorded is what is stored.
    assert document.size == len(content) and document.sha256 == hashlib.sha256(content).hexdigest()
    return content


def refused(check, media: Path, content: bytes, code: str) -> DocumentError:
    with pytest.raises(DocumentError) as error:
        store(check, content)
    assert (error.value.code, error.value.field) == (code, "document"), error.value.message
    assert not IdentityDocument.objects.exists()
    assert not media.exists() or not any(path.is_file() for path in media.rglob("*"))
    return error.value


# Good files are stored, rewritten -----------------------------------------------------------


def test_a_jpeg_is_stored_re_encoded_upright_and_without_metadata(check, media):
    # A phone photo held sideways: orientation 6 (turn 90° clockwise), with its position.
    original = jpeg((60, 40), exif=exif_with_gps(orientation=6), comment=b"Rue des Lilas")
    assert b"Appareil de Marc" in original and b"Rue des Lilas" in original
    document = store(check, original, name="photo.png")
    content = stored_bytes(document, media)
    assert document.content_type == "image/jpeg" and document.file.name.endswith(".jpg")
    assert content != original
    image = Image.open(io.BytesIO(content))
    image.load()
    assert image.format == "JPEG" and image.size == (40, 60)  # turned upright
    assert not image.getexif() and "exif" not in image.info and "comment" not in image.info
    assert b"Exif" not in content and b"Appareil de Marc" not in content and b"Rue des Lilas" not in content
    # The red corner is now at the top right: the picture was turned, not only its tag dropped.
    red, green, _ = image.convert("RGB").getpixel((35, 3))
    assert red > 200 and green < 60


def test_a_png_is_stored_re_encoded_pixel_for_pixel_without_its_chunks(check, media):
    text = PngImagePlugin.PngInfo()
    text.add_text("Author", "Marc Durand")
    original = png((60, 40), pnginfo=text, exif=exif_with_gps())
    assert b"Marc Durand" in original and b"eXIf" in original
    document = store(check, original)
    content = stored_bytes(document, media)
    assert document.content_type == "image/png" and document.file.name.endswith(".png")
    assert b"Marc Durand" not in content and b"eXIf" not in content and b"tEXt" not in content
    image = Image.open(io.BytesIO(content))
    assert image.format == "PNG" and not image.getexif()
    assert image.convert("RGB").tobytes() == Image.open(io.BytesIO(original)).convert("RGB").tobytes()


def test_a_pdf_is_stored_as_a_copy_of_its_pages_only(check, media):
    original = one_page_pdf(
        catalog=b"/OpenAction [3 0 R /Fit] /AcroForm << /Fields [] >> /Metadata 6 0 R",
        page=b"/Annots [5 0 R] /Rotate 90",
        more=[
            b"<< /Type /Annot /Subtype /Link /Rect [0 0 50 50] /A << /S /URI /URI (https://phishing.example) >> >>",
            stream(b"<x:xmpmeta>Marc Durand</x:xmpmeta>", b"/Type /Metadata /Subtype /XML"),
        ],
    )
    document = store(check, original)
    content = stored_bytes(document, media)
    assert document.content_type == "application/pdf" and document.file.name.endswith(".pdf")
    reader = pypdf.PdfReader(io.BytesIO(content))
    [page] = reader.pages
    assert [float(value) for value in page.mediabox] == [0, 0, 200, 300] and page.rotation == 90
    assert page.get_contents().get_data().strip() == b"0 0 m 150 150 l S"
    assert "/Annots" not in page
    for key in ("/OpenAction", "/AcroForm", "/Metadata"):
        assert key not in reader.trailer["/Root"], key
    assert b"phishing" not in content and b"Marc Durand" not in content


def test_a_pdf_of_the_last_allowed_page_count_is_stored(check, media, settings):
    settings.MONCOMPTE_DOCUMENT_MAX_PAGES = 3
    document = store(check, pypdf_pdf(3))
    assert len(pypdf.PdfReader(io.BytesIO(stored_bytes(document, media))).pages) == 3


# Hostile or broken images -------------------------------------------------------------------


@pytest.mark.parametrize(
    "content, code",
    [
        (b"\xff\xd8\xff", "unreadable"),
        (jpeg((300, 200))[:400], "unreadable"),
        (png((300, 200))[:120], "unreadable"),
        (png_claiming(100_000, 100_000), "too_many_pixels"),
        # A broken checksum in the header: what the first bytes claim, the file is not.
        (
            png_claiming(60, 40).replace(
                png_chunk(b"IHDR", struct.pack(">IIBBBBB", 60, 40, 8, 2, 0, 0, 0))[-4:], b"abcd"
            ),
            "unreadable",
        ),
        (b"\xff\xd8\xff\xe0<html><script>alert(1)</script></html>", "unreadable"),
        # More start-of-scan markers than a progressive JPEG has scans (each decodes it all again).
        (jpeg((60, 40)) + b"\xff\xda" * 101, "too_complex"),
    ],
    ids=[
        "three-byte-jpeg",
        "truncated-jpeg",
        "truncated-png",
        "png-100000x100000",
        "png-bad-crc",
        "html-as-jpeg",
        "jpeg-too-many-scans",
    ],
)
def test_hostile_or_broken_images_are_refused(check, media, content, code):
    error = refused(check, media, content, code)
    assert error.message.startswith("Cette image")


def test_the_pixel_limit_is_read_from_the_settings(check, media, settings):
    settings.MONCOMPTE_DOCUMENT_MAX_PIXELS = 1000
    error = refused(check, media, jpeg((40, 30)), "too_many_pixels")
    assert "1\u202f000 pixels au maximum" in error.message
    assert store(check, jpeg((30, 30))).content_type == "image/jpeg"


# Hostile or broken PDFs ---------------------------------------------------------------------


def test_a_decompression_bomb_in_the_page_content_is_refused(check, media):
    bomb = zeros_deflated(400 * 1024 * 1024)
    assert len(bomb) < 1024 * 1024
    error = refused(check, media, one_page_pdf(bomb, content_dict=b"/Filter /FlateDecode"), "too_complex")
    assert error.message.startswith("Ce PDF est trop lourd")


def test_a_decompression_bomb_anywhere_in_what_is_kept_is_refused(check, media):
    # An image of a plausible size whose data inflates to 400 MiB: only counted, never kept.
    bomb = zeros_deflated(400 * 1024 * 1024)
    image = b"/Type /XObject /Subtype /Image /Width 1000 /Height 1000 /ColorSpace /DeviceGray /BitsPerComponent 8"
    content = one_page_pdf(
        b"q 200 0 0 300 0 0 cm /Im0 Do Q",
        page=b"/Resources << /XObject << /Im0 5 0 R >> >>",
        more=[stream(bomb, image + b" /Filter /FlateDecode")],
    )
    refused(check, media, content, "too_complex")


@pytest.mark.parametrize(
    "content",
    [
        # An image XObject declaring 100000 × 100000 pixels.
        one_page_pdf(
            b"/Im0 Do",
            page=b"/Resources << /XObject << /Im0 5 0 R >> >>",
            more=[
                stream(
                    zlib.compress(b"\x00" * 1000),
                    b"/Type /XObject /Subtype /Image /Width 100000 /Height 100000 /ColorSpace /DeviceGray "
                    b"/BitsPerComponent 8 /Filter /FlateDecode",
                )
            ],
        ),
        # The same as an inline image in the content.
        one_page_pdf(b"BI /W 100000 /H 100000 /BPC 8 /CS /G /F /Fl ID " + zlib.compress(b"\x00" * 1000) + b" EI"),
        # A JPEG image that says 10 × 10 in the PDF and 65000 × 65000 in its own header.
        one_page_pdf(
            b"/Im0 Do",
            page=b"/Resources << /XObject << /Im0 5 0 R >> >>",
            more=[
                stream(
                    jpeg_claiming(65_000, 65_000),
                    b"/Type /XObject /Subtype /Image /Width 10 /Height 10 /ColorSpace /DeviceRGB "
                    b"/BitsPerComponent 8 /Filter /DCTDecode",
                )
            ],
        ),
    ],
    ids=["image-xobject", "inline-image", "jpeg-header"],
)
def test_images_of_too_many_pixels_in_a_pdf_are_refused(check, media, content):
    error = refused(check, media, content, "too_many_pixels")
    assert error.message.startswith("Ce PDF contient une image trop grande")


@pytest.mark.parametrize(
    "content",
    [
        one_page_pdf(catalog=b"/OpenAction << /S /JavaScript /JS (app.alert\\(1\\)) >>"),
        one_page_pdf(catalog=b"/OpenAction << /S /Launch /F (cmd.exe) >>"),
        # Not a script, but it runs on opening: only a plain destination is accepted there.
        one_page_pdf(catalog=b"/OpenAction << /S /URI /URI (https://phishing.example) >>"),
        one_page_pdf(page=b"/AA << /O << /S /GoTo /D [3 0 R /Fit] >> >>"),
        one_page_pdf(
            catalog=b"/Names << /JavaScript 5 0 R >>", more=[b"<< /Names [(a) << /S /JavaScript /JS (x) >>] >>"]
        ),
        one_page_pdf(
            catalog=b"/Names << /EmbeddedFiles << /Names [(facture.exe) 5 0 R] >> >>",
            more=[b"<< /Type /Filespec /F (facture.exe) /EF << /F 6 0 R >> >>", stream(b"MZ")],
        ),
        one_page_pdf(catalog=b"/AcroForm << /Fields [] /XFA 5 0 R >>", more=[stream(b"<xdp:xdp/>")]),
        one_page_pdf(
            page=b"/Annots [5 0 R]",
            more=[
                b"<< /Type /Annot /Subtype /Widget /Rect [0 0 9 9] /A << /S /SubmitForm /F (https://x.example) >> >>"
            ],
        ),
        one_page_pdf(page=b"/Annots [5 0 R]", more=[b"<< /Type /Annot /Subtype /RichMedia /Rect [0 0 9 9] >>"]),
        # Somewhere the copy would not keep (an outline item): refused all the same.
        one_page_pdf(
            catalog=b"/Outlines 5 0 R",
            more=[
                b"<< /First 6 0 R /Last 6 0 R >>",
                b"<< /Title (x) /A 7 0 R >>",
                b"<< /S /JavaScript /JS 8 0 R >>",
                stream(b"app.alert(1)"),
            ],
        ),
    ],
    ids=[
        "openaction-javascript",
        "openaction-launch",
        "openaction-uri",
        "page-additional-action",
        "document-javascript",
        "embedded-file",
        "xfa",
        "submit-form",
        "rich-media",
        "outline-javascript",
    ],
)
def test_pdfs_with_active_content_are_refused(check, media, content):
    error = refused(check, media, content, "active_content")
    assert "éléments actifs" in error.message


@pytest.mark.parametrize("owner_password", [None, "proprietaire"], ids=["password", "owner-only"])
def test_encrypted_pdfs_are_refused(check, media, owner_password):
    # "owner-only": no password to open it, but encrypted all the same.
    content = pypdf_pdf(password="" if owner_password else "secret", owner_password=owner_password)
    error = refused(check, media, content, "encrypted")
    assert "protégé" in error.message


def test_pdfs_of_too_many_pages_are_refused(check, media, settings):
    error = refused(check, media, pypdf_pdf(21), "too_many_pages")
    assert "20 au maximum" in error.message
    settings.MONCOMPTE_DOCUMENT_MAX_PAGES = 3
    refused(check, media, pypdf_pdf(4), "too_many_pages")
    # A page tree far larger than the limit stops pypdf before it lists it all.
    kids = b" ".join(b"3 0 R" for _ in range(5000))
    huge_tree = raw_pdf(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [" + kids + b"] /Count 5000 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 300] >>",
        ]
    )
    refused(check, media, huge_tree, "too_many_pages")


@pytest.mark.parametrize(
    "content",
    [
        b"%PDF-1.7\n<html><body>Bonjour</body></html>",
        one_page_pdf()[:300],
        pypdf_pdf()[:-40],
        # A content stream whose compressed data is corrupt.
        one_page_pdf(b"x\x9c\x00garbage" * 20, content_dict=b"/Filter /FlateDecode"),
        # A filter nobody knows.
        one_page_pdf(b"0 0 m", content_dict=b"/Filter /MaisonDecode"),
    ],
    ids=["html-as-pdf", "truncated", "truncated-end", "corrupt-stream", "unknown-filter"],
)
def test_broken_pdfs_are_refused(check, media, content):
    error = refused(check, media, content, "unreadable")
    assert error.message.startswith("Ce PDF n'a pas pu être lu")


# Bounded resources --------------------------------------------------------------------------


def test_a_pdf_too_slow_to_parse_is_stopped_by_the_cpu_limit(check, media, settings):
    """Within every count (pages, objects, arrays of pypdf's limits), but 3 million numbers for
    pypdf to parse: the child is stopped at its CPU limit, the person gets an answer."""
    settings.MONCOMPTE_DOCUMENT_PARSER_CPU_SECONDS = 1
    arrays = [b"[" + b"0 " * 50_000 + b"]" for _ in range(60)]
    references = b" ".join(b"%d 0 R" % (5 + index) for index in range(len(arrays)))
    content = one_page_pdf(catalog=b"/Extra [" + references + b"]", more=arrays)
    assert len(content) < 10 * 1024 * 1024
    refused(check, media, content, "too_complex")


def test_an_image_too_large_for_the_memory_limit_is_refused(check, media, settings):
    """36 million pixels, within the pixel limit, but more memory than the child may take."""
    settings.MONCOMPTE_DOCUMENT_PARSER_MEMORY_BYTES = 150 * 1024 * 1024
    width = height = 6000
    content = png_claiming(width, height, zeros_deflated(height * (1 + 3 * width)))
    refused(check, media, content, "too_complex")
