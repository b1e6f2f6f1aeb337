"""Identity documents sent for an identity check: checked by content, size-limited, stored apart.

- The type is read from the first bytes of the file, never from its name or from the type the
  browser announced: ``%PDF-`` (PDF), ``FF D8 FF`` (JPEG), ``89 50 4E 47 0D 0A 1A 0A`` (PNG).
  Anything else (an executable renamed ".pdf", a Word file, an HTML page) is refused.
- At most ``settings.MONCOMPTE_DOCUMENT_MAX_BYTES`` (10 MiB by default); an empty file is
  refused. The web channel also stops reading a larger upload while it arrives, so that it never
  fills the disk (moncompte.web.signup.uploads).
- Stored by Django's default storage (``MEDIA_ROOT``, never served) under
  ``identity-documents/<random uuid>.<extension of the detected type>``; the name the person
  gave is not kept. The SHA-256 of the content is recorded.

Errors are ``DocumentError`` (a DomainError) with a French sentence that can be shown as it is,
and the field it concerns: ``kind`` or ``document``.
"""

from __future__ import annotations

import hashlib
import uuid

from django.conf import settings
from django.db import transaction

from moncompte.audit.actions import JournalAction
from moncompte.audit.services import journal_record
from moncompte.core.actors import Actor
from moncompte.core.errors import DomainError, NotAllowed
from moncompte.identity.models import DocumentContentType, DocumentKind, IdentityCheck, IdentityDocument

__all__ = [
    "MAX_DOCUMENTS_PER_CHECK",
    "DocumentError",
    "detect_content_type",
    "document_max_bytes",
    "document_store",
    "max_size_text",
]

# Enough for both sides of a card and a few pages; a check is not a file store.
MAX_DOCUMENTS_PER_CHECK = 6
_SIGNATURES = [
    (b"%PDF-", DocumentContentType.PDF, "pdf"),
    (b"\xff\xd8\xff", DocumentContentType.JPEG, "jpg"),
    (b"\x89PNG\r\n\x1a\n", DocumentContentType.PNG, "png"),
]
_HEAD_BYTES = 8
_CHUNK = 64 * 1024


class DocumentError(DomainError, ValueError):
    code = "invalid"

    def __init__(self, message: str, *, code: str = "invalid"):
        super().__init__(message, code=code, field="kind" if code == "kind" else "document")


def document_max_bytes() -> int:
    return int(getattr(settings, "MONCOMPTE_DOCUMENT_MAX_BYTES", 10 * 1024 * 1024))


def max_size_text(size: int | None = None) -> str:
    """ "10 Mo", "500 Ko": the limit as people read it."""
    size = document_max_bytes() if size is None else size
    if size >= 1024 * 1024:
        value, unit = size / (1024 * 1024), "Mo"
    else:
        value, unit = size / 1024, "Ko"
    number = f"{value:.1f}".rstrip("0").rstrip(".").replace(".", ",")
    return f"{number} {unit}"


def too_large_message() -> str:
    return (
        f"Le fichier est trop volumineux : {max_size_text()} au maximum. Vous pouvez le numériser avec une "
        "résolution plus faible ou envoyer chaque page séparément."
    )


def detect_content_type(head: bytes) -> tuple[str, str] | None:
    """(content type, extension) read from the first bytes of a file; None if not accepted."""
    for signature, content_type, extension in _SIGNATURES:
        if head.startswith(signature):
            return content_type, extension
    return None


def document_store(*, actor: Actor, check: IdentityCheck, uploaded_file, kind: str) -> IdentityDocument:
    """Check an uploaded file and keep it as a document of ``check``; raises DocumentError.

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

    uploaded_file.seek(0)
    head = uploaded_file.read(_HEAD_BYTES)
    if not head:
        raise DocumentError("Le fichier est vide : choisissez le bon fichier.", code="empty")
    detected = detect_content_type(head)
    if detected is None:
        raise DocumentError(
            "Ce fichier n'est ni un PDF, ni une image JPEG ou PNG (son contenu a été vérifié, quel que soit "
            "son nom). Enregistrez votre justificatif dans l'un de ces formats.",
            code="type",
        )
    content_type, extension = detected

    # The size the browser announced is not trusted: count and hash what is really there.
    digest = hashlib.sha256()
    real_size = 0
    uploaded_file.seek(0)
    for chunk in uploaded_file.chunks(_CHUNK):
        real_size += len(chunk)
        if real_size > document_max_bytes():
            raise DocumentError(too_large_message(), code="too_large")
        digest.update(chunk)
    uploaded_file.seek(0)

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
            content_type=content_type,
            size=real_size,
            sha256=digest.hexdigest(),
        )
        document.file.save(f"{uuid.uuid4().hex}.{extension}", uploaded_file, save=False)
        try:
            document.save()
            journal_record(
                action=JournalAction.IDENTITY_DOCUMENT_UPLOADED,
                actor=actor,
                subject_person=check.person,
                detail={"check": check.pk, "kind": kind, "content_type": content_type, "size": real_size},
            )
        except Exception:
            document.file.delete(save=False)
            raise
    return document
