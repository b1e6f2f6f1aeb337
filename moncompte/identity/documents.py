"""Identity documents sent for an identity check: parsed and rewritten, size-limited, stored apart.

A document reaches the agents' viewer, so it is never stored as it arrived: it is decoded by a
maintained library (Pillow, pypdf) under limits, and what is stored is a copy written from what
was decoded (moncompte.identity.document_parsing says how). Whatever cannot be decoded within the
limits is refused with a French sentence, never with a 500.

- **Type**: read from the first bytes, never from the name or the type the browser announced:
  ``%PDF-`` (PDF), ``FF D8 FF`` (JPEG), ``89 50 4E 47 0D 0A 1A 0A`` (PNG); anything else (an
  executable renamed ".pdf", a Word file, an HTML page) is refused. The first bytes only choose
  the parser: a file that the parser of its type cannot read is refused too ("not really what
  its bytes claim": a 3-byte "JPEG", a truncated PNG, HTML after ``%PDF-``).
- **Size**: at most ``settings.MONCOMPTE_DOCUMENT_MAX_BYTES`` (10 MiB by default); an empty file is
  refused. The web channel also stops reading a larger upload while it arrives, so that it never
  fills the disk (moncompte.web.signup.uploads).
- **Images** (JPEG, PNG only: an identity document is a photo or a scan): at most
  ``settings.MONCOMPTE_DOCUMENT_MAX_PIXELS`` (50 million) pixels, checked on the header before
  decoding; fully decoded, turned upright, re-encoded without metadata (no EXIF, so no GPS).
- **PDFs**: at most ``settings.MONCOMPTE_DOCUMENT_MAX_PAGES`` (20) pages; encrypted files and
  active content (JavaScript, automatic actions, launch, embedded files, XFA, rich media...)
  refused; the stored copy is written anew from the pages only, after every stream of it has
  been decompressed under a budget (bombs) and its content parsed.
- **Bounded resources**: the parsing runs in a child process of its own (a fresh Python, without
  the web process's environment and secrets), limited to
  ``settings.MONCOMPTE_DOCUMENT_PARSER_CPU_SECONDS`` (10) seconds of CPU and
  ``settings.MONCOMPTE_DOCUMENT_PARSER_MEMORY_BYTES`` (1 GiB) of memory. The counts of
  document_parsing give the precise refusals; the child's limits bound what no count sees (a
  PDF whose millions of tokens pypdf would parse for a minute, a picture needing more memory).
  The web thread only waits (neither the worker's CPU nor its memory is spent on the file), and
  process-wide settings (Pillow's ``MAX_IMAGE_PIXELS``, the warnings filters) are changed in the
  child only, so no other request sees them. Starting the child costs about half a second.
- Stored by Django's default storage (``MEDIA_ROOT``, never served) under
  ``identity-documents/<random uuid>.<extension of the detected type>``; the name the person
  gave is not kept. ``size`` and ``sha256`` are those of the stored copy.

Errors are ``DocumentError`` (a DomainError) with a French sentence that can be shown as it is,
and the field it concerns: ``kind`` or ``document``. A refusal is logged with its code and the
class of the exception behind it, never the content.
"""

from __future__ import annotations

import hashlib
import json
import logging
import subprocess
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction

from moncompte.audit.actions import JournalAction
from moncompte.audit.services import journal_record
from moncompte.core.actors import Actor
from moncompte.core.errors import DomainError, NotAllowed
from moncompte.identity import document_parsing
from moncompte.identity.models import DocumentContentType, DocumentKind, IdentityCheck, IdentityDocument

__all__ = [
    "MAX_DOCUMENTS_PER_CHECK",
    "DocumentError",
    "RewrittenDocument",
    "detect_content_type",
    "document_max_bytes",
    "document_max_pages",
    "document_max_pixels",
    "document_rewrite",
    "document_store",
    "max_size_text",
]

logger = logging.getLogger(__name__)

# Enough for both sides of a card and a few pages; a check is not a file store.
MAX_DOCUMENTS_PER_CHECK = 6
_SIGNATURES = [
    (b"%PDF-", DocumentContentType.PDF, "pdf"),
    (b"\xff\xd8\xff", DocumentContentType.JPEG, "jpg"),
    (b"\x89PNG\r\n\x1a\n", DocumentContentType.PNG, "png"),
]
_HEAD_BYTES = 8
_CHUNK = 64 * 1024
# The child process: a fresh interpreter (-I: no PYTHON* variables, no user site, nor the current
# directory on its path), with the project's root on its path and nothing of our environment.
_PROJECT_ROOT = str(Path(__file__).resolve().parents[2])
_CHILD = (
    "import sys; sys.path.insert(0, sys.argv[2]); "
    "from moncompte.identity.document_parsing import child_main; child_main()"
)
_CHILD_ENVIRONMENT = {"LC_ALL": "C.UTF-8"}


class DocumentError(DomainError, ValueError):
    code = "invalid"

    def __init__(self, message: str, *, code: str = "invalid"):
        super().__init__(message, code=code, field="kind" if code == "kind" else "document")


def document_max_bytes() -> int:
    return int(getattr(settings, "MONCOMPTE_DOCUMENT_MAX_BYTES", 10 * 1024 * 1024))


def document_max_pixels() -> int:
    return int(getattr(settings, "MONCOMPTE_DOCUMENT_MAX_PIXELS", 50_000_000))


def document_max_pages() -> int:
    return int(getattr(settings, "MONCOMPTE_DOCUMENT_MAX_PAGES", 20))


def _parser_cpu_seconds() -> int:
    return int(getattr(settings, "MONCOMPTE_DOCUMENT_PARSER_CPU_SECONDS", 10))


def _parser_memory_bytes() -> int:
    return int(getattr(settings, "MONCOMPTE_DOCUMENT_PARSER_MEMORY_BYTES", 1024 * 1024 * 1024))


def max_size_text(size: int | None = None) -> str:
    """ "10 Mo", "500 Ko": the limit as people read it."""
    size = document_max_bytes() if size is None else size
    if size >= 1024 * 1024:
        value, unit = size / (1024 * 1024), "Mo"
    else:
        value, unit = size / 1024, "Ko"
    number = f"{value:.1f}".rstrip("0").rstrip(".").replace(".", ",")
    return f"{number} {unit}"


def _pixels_text(pixels: int) -> str:
    """ "50 millions de pixels", "1,5 million de pixels", "10 000 pixels"."""
    if pixels >= 1_000_000:
        number = f"{pixels / 1_000_000:.1f}".rstrip("0").rstrip(".").replace(".", ",")
        return f"{number} million{'s' if pixels >= 2_000_000 else ''} de pixels"
    return f"{pixels:,}".replace(",", "\u202f") + " pixels"


def too_large_message() -> str:
    return (
        f"Le fichier est trop volumineux : {max_size_text()} au maximum. Vous pouvez le numériser avec une "
        "résolution plus faible ou envoyer chaque page séparément."
    )


def _refusal_message(code: str, content_type: str) -> str:
    pdf = content_type == DocumentContentType.PDF
    pixels = _pixels_text(document_max_pixels())
    if code == "too_many_pixels":
        return (
            f"Ce PDF contient une image trop grande : {pixels} au maximum. Numérisez le document avec une "
            "résolution plus faible, ou envoyez une photo du document."
            if pdf
            else f"Cette image est trop grande : {pixels} au maximum. Réduisez sa taille ou numérisez le document "
            "avec une résolution plus faible, puis envoyez-la de nouveau."
        )
    if code == "too_complex":
        return (
            "Ce PDF est trop lourd ou trop complexe pour être vérifié. Numérisez le document avec une résolution "
            "plus faible, ou envoyez une photo du document."
            if pdf
            else "Cette image est trop lourde ou trop complexe pour être vérifiée. Enregistrez-la de nouveau en "
            "JPEG ou en PNG, ou prenez une nouvelle photo du document."
        )
    if code == "encrypted":
        return (
            "Ce PDF est protégé (mot de passe ou chiffrement) : enregistrez-le sans protection ou envoyez une "
            "photo du document."
        )
    if code == "too_many_pages":
        return (
            f"Ce PDF a trop de pages : {document_max_pages()} au maximum. Envoyez seulement les pages de votre "
            "justificatif."
        )
    if code == "active_content":
        return (
            "Ce PDF contient des éléments actifs (script, action automatique, formulaire dynamique ou fichier "
            "joint), refusés dans un justificatif. Imprimez le document en PDF ou envoyez-en une photo."
        )
    if code == "unavailable":
        return "Votre justificatif n'a pas pu être vérifié pour le moment : réessayez dans quelques minutes."
    return (
        "Ce PDF n'a pas pu être lu : le fichier est incomplet, abîmé ou n'est pas vraiment un PDF. "
        "Enregistrez-le de nouveau ou envoyez une photo du document."
        if pdf
        else "Cette image n'a pas pu être lue : le fichier est incomplet, abîmé ou n'est pas vraiment une image "
        "JPEG ou PNG. Enregistrez-la de nouveau ou prenez une nouvelle photo du document."
    )


def detect_content_type(head: bytes) -> tuple[str, str] | None:
    """(content type, extension) read from the first bytes of a file; None if not accepted."""
    for signature, content_type, extension in _SIGNATURES:
        if head.startswith(signature):
            return content_type, extension
    return None


@dataclass(frozen=True)
class RewrittenDocument:
    content: bytes
    content_type: str
    extension: str


def document_rewrite(data: bytes) -> RewrittenDocument:
    """The copy of an uploaded file to store: decoded within the limits and written anew, in a
    child process. Raises DocumentError (empty, wrong type, unreadable, too many pixels or pages,
    too heavy once decompressed, encrypted, active content...). Touches no database."""
    if not data:
        raise DocumentError("Le fichier est vide : choisissez le bon fichier.", code="empty")
    if len(data) > document_max_bytes():
        raise DocumentError(too_large_message(), code="too_large")
    detected = detect_content_type(data[:_HEAD_BYTES])
    if detected is None:
        raise DocumentError(
            "Ce fichier n'est ni un PDF, ni une image JPEG ou PNG (son contenu a été vérifié, quel que soit "
            "son nom). Enregistrez votre justificatif dans l'un de ces formats.",
            code="type",
        )
    content_type, extension = detected
    code, cause, content = _parse_in_child(data, content_type)
    if code is not None:
        logger.info("identity document refused: %s (%s%s)", code, content_type, f", {cause}" if cause else "")
        raise DocumentError(_refusal_message(code, content_type), code=code)
    return RewrittenDocument(content=content, content_type=content_type, extension=extension)


def _parse_in_child(data: bytes, content_type: str) -> tuple[str | None, str, bytes]:
    """(refusal code or None, its cause, the copy) from document_parsing.child_main."""
    cpu_seconds = _parser_cpu_seconds()
    limits = document_parsing.Limits(
        max_pixels=document_max_pixels(), max_pages=document_max_pages(), max_bytes=document_max_bytes()
    )
    request = document_parsing.child_request(
        content_type, limits, cpu_seconds=cpu_seconds, memory_bytes=_parser_memory_bytes()
    )
    try:
        child = subprocess.run(  # noqa: S603  (our interpreter, our code, fixed arguments)
            [sys.executable, "-I", "-c", _CHILD, request, _PROJECT_ROOT],
            input=data,
            capture_output=True,
            env=_CHILD_ENVIRONMENT,
            # Wall time for a loaded machine; the CPU limit is the real one.
            timeout=3 * cpu_seconds + 10,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return "too_complex", "wall time", b""
    except OSError as error:
        logger.error("identity document parser could not start: %s", type(error).__name__)
        return "unavailable", type(error).__name__, b""
    written = detect_content_type(child.stdout[:_HEAD_BYTES])
    if child.returncode == 0 and written is not None and written[0] == content_type:
        return None, "", child.stdout
    if child.returncode == document_parsing.REFUSED_EXIT:
        try:
            answer = json.loads(child.stdout)
            return str(answer["code"]), str(answer.get("cause", "")), b""
        except (ValueError, KeyError, TypeError):
            pass
    if child.returncode < 0:
        # Killed by a signal: over its CPU time (SIGXCPU, then SIGKILL), or a decoder crashed on the file.
        return "too_complex", f"signal {-child.returncode}", b""
    # The child itself failed (it could not import its libraries...): our problem, not the file's.
    last_line = child.stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or [""]
    logger.error("identity document parser failed (exit %s): %s", child.returncode, last_line[0][:200])
    return "unavailable", f"exit {child.returncode}", b""


# Storing ------------------------------------------------------------------------------------


def document_store(*, actor: Actor, check: IdentityCheck, uploaded_file, kind: str) -> IdentityDocument:
    """Check an uploaded file and keep its rewritten copy as a document of ``check``; raises DocumentError.

    Only the person whose identity is checked sends documents for it (NotAllowed otherwise)."""
    if actor.subject is None or actor.subject.pk != check.person_id:
        raise NotAllowed()
    if kind not in DocumentKind.values:
        raise DocumentError("Choisissez le type de document.", code="kind")
    if check.state != "to_verify":
        raise DocumentError("Cette vérification d'identité est terminée : aucun document n'est attendu.", code="closed")
    if uploaded_file is None:
        raise DocumentError("Ajoutez le fichier de votre justificatif.", code="missing")
    size = getattr(uploaded_file, "size", None) or 0
    if size > document_max_bytes():
        raise DocumentError(too_large_message(), code="too_large")

    # The size the browser announced is not trusted: read what is really there, up to the limit.
    received = bytearray()
    uploaded_file.seek(0)
    for chunk in uploaded_file.chunks(_CHUNK):
        received += chunk
        if len(received) > document_max_bytes():
            raise DocumentError(too_large_message(), code="too_large")
    # Parsed and rewritten before the transaction: the slow part holds no lock.
    document_copy = document_rewrite(bytes(received))
    content = document_copy.content

    with transaction.atomic():
        check = IdentityCheck.objects.select_for_update().get(pk=check.pk)
        if check.state != "to_verify":
            raise DocumentError(
                "Cette vérification d'identité est terminée : aucun document n'est attendu.", code="closed"
            )
        if check.documents.count() >= MAX_DOCUMENTS_PER_CHECK:
            raise DocumentError(
                f"Vous avez déjà envoyé {MAX_DOCUMENTS_PER_CHECK} documents : un agent va les examiner.",
                code="too_many",
            )
        document = IdentityDocument(
            identity_check=check,
            kind=kind,
            content_type=document_copy.content_type,
            size=len(content),
            sha256=hashlib.sha256(content).hexdigest(),
        )
        document.file.save(f"{uuid.uuid4().hex}.{document_copy.extension}", ContentFile(content), save=False)
        try:
            document.save()
            journal_record(
                action=JournalAction.IDENTITY_DOCUMENT_UPLOADED,
                actor=actor,
                subject_person=check.person,
                detail={
                    "check": check.pk,
                    "kind": kind,
                    "content_type": document_copy.content_type,
                    "size": len(content),
                },
            )
        except Exception:
            document.file.delete(save=False)
            raise
    return document
