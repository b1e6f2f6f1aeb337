"""Writes on the Caf's requests: a request created, an answer with its files, a request viewed.

Who may answer is the policy's (``Action.ANSWER_CAF_REQUEST``: R and S+ every request of their
file, S and M those addressed to them personally), read through the same scoped read as the
pages (moncompte.caf_requests.selectors). Each write is one transaction with its journal entry
and its messages; a refusal raises ``CafRequestError`` (a DomainError with a French message and
the form field it concerns) or ``CafRequestNotAllowed`` (also a NotAllowed: not found).

Files (docs/caf-requests.md): 1 to 5 per answer, each at most ``MONCOMPTE_CAF_REQUEST_MAX_BYTES``
(10 MiB), read from their content and rewritten by moncompte.identity.documents (PDF, JPEG or PNG
only, whatever their name says), scanned by the configured virus scanner
(moncompte.caf_requests.scanning) and stored by Django's default storage under
``caf-requests/<random>.<extension of the detected type>``. One refused file refuses the whole
answer: nothing is stored, nothing is marked answered.
"""

from __future__ import annotations

import datetime
import hashlib
import logging
import re
import unicodedata
import uuid
from dataclasses import dataclass

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone

from moncompte.access.agents import AgentPermission, agent_may
from moncompte.access.policy import Action, members_allowed_on_concerning
from moncompte.accounts.services import notify_people
from moncompte.audit.actions import JournalAction
from moncompte.audit.services import journal_record
from moncompte.caf_requests.models import CafRequest, CafRequestAnswer, CafRequestAttachment, ScanState
from moncompte.caf_requests.scanning import ScannerUnavailable, scan
from moncompte.caf_requests.selectors import answerable, caf_request_attachment_for
from moncompte.core.actors import Actor, Channel
from moncompte.core.errors import DomainError, NotAllowed
from moncompte.households.models import Dossier, Member
from moncompte.identity.documents import DocumentError, document_rewrite, max_size_text

logger = logging.getLogger(__name__)

MAX_FILES = 5
MAX_TEXT = 5000
MAX_TITLE = 200
_CHUNK = 64 * 1024
_NAME_LENGTH = 120
# Characters no file name shows: controls, path separators and what file systems refuse.
_NAME_REFUSED = re.compile(r'[\x00-\x1f\x7f<>:"/\\|?*]')

MESSAGE_CLOSED = "Cette demande est close : elle n'attend plus de réponse."
MESSAGE_NOTHING = "Écrivez votre réponse ou ajoutez au moins un fichier."
MESSAGE_TOO_MANY = f"Vous pouvez joindre {MAX_FILES} fichiers au plus à une réponse."
MESSAGE_TEXT_TOO_LONG = f"Votre réponse est trop longue : {MAX_TEXT} caractères au plus."
MESSAGE_SCAN_UNAVAILABLE = (
    "Vos fichiers n'ont pas pu être vérifiés par l'antivirus pour le moment : réessayez dans quelques minutes."
)
MESSAGE_INFECTED = (
    "Ce fichier a été refusé : l'antivirus y a détecté un programme malveillant. Votre appareil est peut-être "
    "infecté : analysez-le, puis envoyez une nouvelle copie du document (une nouvelle numérisation ou une photo)."
)


class CafRequestError(DomainError):
    """A request or an answer refused; nothing was changed. ``code``: "closed", "nothing",
    "too_many", "text", "infected", "scan_unavailable", a moncompte.identity.documents code for a
    file ("empty", "too_large", "type", ...), or one of the creation's ("kind", "title"...)."""


class CafRequestNotAllowed(CafRequestError, NotAllowed):
    code = "not_found"
    message = NotAllowed.message


def caf_request_max_bytes() -> int:
    return int(getattr(settings, "MONCOMPTE_CAF_REQUEST_MAX_BYTES", 10 * 1024 * 1024))


def too_large_message() -> str:
    return (
        f"Le fichier est trop volumineux : {max_size_text(caf_request_max_bytes())} au maximum. Vous pouvez le "
        "numériser avec une résolution plus faible ou envoyer chaque page séparément."
    )


def _clean_name(name: str | None) -> str:
    """A file's name without its path, control characters nor those file systems refuse."""
    text = unicodedata.normalize("NFC", str(name or ""))
    text = re.split(r"[/\\]", text)[-1]
    text = _NAME_REFUSED.sub("", text)
    return " ".join(text.split()).strip(" .")


def sanitise_name(name: str | None, extension: str) -> str:
    """The name of a person's file as the history shows it: its last component only, without
    control characters nor those file systems refuse, spaces collapsed, at most 120 characters,
    ending with the extension of the type read from its content ("scan.exe.pdf" stays, a PNG
    named "photo.pdf" becomes "photo.pdf.png"). Never a path: stored files have random names."""
    text = _clean_name(name)
    suffix = f".{extension}"
    lowered = text.lower()
    if not (lowered.endswith(suffix) or (extension == "jpg" and lowered.endswith(".jpeg"))):
        text = f"{text}{suffix}" if text else f"document{suffix}"
    if len(text) > _NAME_LENGTH:
        ending = text[text.rfind(".") :]
        text = text[: _NAME_LENGTH - len(ending)].rstrip(" .") + ending
    return text


# Creation ------------------------------------------------------------------------------------


def _creation_problem(*, kind: str, title: str, body: str, due_on) -> CafRequestError | None:
    if kind not in CafRequest.Kind.values:
        return CafRequestError("Choisissez le type de demande : document ou information.", code="kind", field="kind")
    if not title:
        return CafRequestError("Saisissez l'objet de la demande.", code="title", field="title")
    if len(title) > MAX_TITLE:
        return CafRequestError(f"L'objet a {MAX_TITLE} caractères au plus.", code="title", field="title")
    if not body:
        return CafRequestError("Saisissez le texte de la demande.", code="body", field="body")
    if len(body) > MAX_TEXT:
        return CafRequestError(f"Le texte a {MAX_TEXT} caractères au plus.", code="body", field="body")
    if not isinstance(due_on, datetime.date) or isinstance(due_on, datetime.datetime):
        return CafRequestError("Saisissez la date limite de réponse.", code="due_on", field="due_on")
    if due_on < timezone.localdate():
        return CafRequestError("La date limite de réponse est déjà passée.", code="due_on", field="due_on")
    return None


def caf_request_create(
    *,
    actor: Actor,
    dossier: Dossier,
    addressed_to,
    kind: str,
    title: str,
    body: str,
    due_on: datetime.date,
    created_by_label: str | None = None,
) -> CafRequest:
    """The Caf asks the household of ``dossier`` (``addressed_to`` None) or one of its current
    members personally for a document or a piece of information, to answer by ``due_on``.

    Made by a command (Actor.system()) or by an agent who may manage the Caf's requests of the
    file's Caf (issue 12, moncompte.caf_requests.agents; the agent is then ``created_by``): a
    person acting for themselves may not create one (CafRequestNotAllowed). The people who may answer it are told
    that a request is waiting (its title and due date, nothing else), on every validated contact.
    Raises CafRequestError (nothing created) on a missing or wrong value or an addressee who is
    not a current member of the file."""
    if actor.person is not None or (actor.agent is None and actor.channel != Channel.SYSTEM):
        raise CafRequestNotAllowed()
    if actor.agent is not None and not agent_may(
        actor.agent, AgentPermission.MANAGE_CAF_REQUESTS, caf_id=dossier.caf_id
    ):
        raise CafRequestNotAllowed()
    title = " ".join(str(title or "").split())
    body = str(body or "").replace("\r\n", "\n").strip()
    problem = _creation_problem(kind=kind, title=title, body=body, due_on=due_on)
    if problem is not None:
        raise problem
    with transaction.atomic():
        members = list(Member.objects.current().filter(dossier=dossier).select_related("person").order_by("id"))
        if addressed_to is not None and not any(m.person_id == addressed_to.pk for m in members):
            raise CafRequestError(
                "La personne à qui la demande est adressée n'est pas membre du dossier.",
                code="addressed_to",
                field="addressed_to",
            )
        request = CafRequest.objects.create(
            dossier=dossier,
            addressed_to=addressed_to,
            kind=kind,
            title=title,
            body=body,
            due_on=due_on,
            created_by_label=created_by_label or dossier.caf.name,
            created_by=actor.agent,
        )
        answering = members_allowed_on_concerning(
            members, Action.ANSWER_CAF_REQUEST, concerning_person_id=getattr(addressed_to, "pk", None)
        )
        told = notify_people(
            [m.person for m in answering],
            template="caf_request_waiting",
            context={"title": title, "due_on": due_on},
        )
        journal_record(
            action=JournalAction.CAF_REQUEST_CREATED,
            actor=actor,
            subject_person=addressed_to,
            dossier=dossier,
            detail={
                "request": request.pk,
                "kind": kind,
                "addressed_to": "member" if addressed_to is not None else "household",
                "due_on": due_on.isoformat(),
                "notified": told,
            },
        )
    return request


# Answers -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _CheckedFile:
    name: str
    content: bytes
    content_type: str
    extension: str
    scan_state: str
    scan_detail: str


def _read(uploaded) -> bytes:
    """The bytes really there, up to the limit (the size a browser announced is not trusted)."""
    limit = caf_request_max_bytes()
    if (getattr(uploaded, "size", None) or 0) > limit:
        raise DocumentError(too_large_message(), code="too_large")
    received = bytearray()
    if hasattr(uploaded, "seek"):
        uploaded.seek(0)
    chunks = uploaded.chunks(_CHUNK) if hasattr(uploaded, "chunks") else [uploaded.read()]
    for chunk in chunks:
        received += chunk
        if len(received) > limit:
            raise DocumentError(too_large_message(), code="too_large")
    return bytes(received)


def _refused(name: str, message: str, code: str) -> CafRequestError:
    return CafRequestError(f"« {name} » : {message}", code=code, field="files")


def _check_file(actor: Actor, request: CafRequest, uploaded) -> _CheckedFile:
    """One file read, rewritten from its content and scanned; CafRequestError naming it if refused."""
    shown = _clean_name(getattr(uploaded, "name", ""))[:_NAME_LENGTH] or "document"
    try:
        data = _read(uploaded)
        # Empty, not a PDF/JPEG/PNG by its content, unreadable, too many pages or pixels...
        copy = document_rewrite(data)
    except DocumentError as error:
        raise _refused(shown, error.message, error.code) from None
    try:
        result = scan(data)
    except ScannerUnavailable:
        raise CafRequestError(MESSAGE_SCAN_UNAVAILABLE, code="scan_unavailable", field="files") from None
    if result.infected:
        # Its own transaction, before the refusal: the trace stays though nothing else is written.
        journal_record(
            action=JournalAction.CAF_REQUEST_FILE_INFECTED,
            actor=actor,
            dossier=request.dossier,
            detail={
                "request": request.pk,
                "signature": result.signature[:100],
                "content_type": copy.content_type,
                "size": len(data),
            },
        )
        logger.warning("caf request file refused by the virus scanner: %s", result.signature[:100])
        raise _refused(shown, MESSAGE_INFECTED, "infected")
    return _CheckedFile(
        name=sanitise_name(getattr(uploaded, "name", ""), copy.extension),
        content=copy.content,
        content_type=copy.content_type,
        extension=copy.extension,
        scan_state=ScanState.CLEAN if result.scanned else ScanState.NOT_SCANNED,
        scan_detail=result.detail[:200],
    )


def caf_request_answer(*, actor: Actor, request: CafRequest, text: str, files) -> CafRequestAnswer:
    """Answer ``request`` with a text and/or 1 to 5 files, in the actor's own name.

    Allowed to whoever the policy lets answer it (else CafRequestNotAllowed: not found). A
    request past its due date can still be answered; a closed one cannot. The request is then
    answered (it may still be completed by another answer until the Caf closes it). Raises
    CafRequestError (nothing stored): closed, nothing to send, text too long, more than 5 files,
    a file refused (its name and the reason: empty, too large, not a PDF/JPEG/PNG by its
    content, unreadable, infected), the virus scanner unavailable."""
    if actor.subject is None or not answerable(actor=actor).filter(pk=request.pk).exists():
        raise CafRequestNotAllowed()
    if not request.is_open:
        raise CafRequestError(MESSAGE_CLOSED, code="closed")
    text = str(text or "").replace("\r\n", "\n").strip()
    files = [f for f in (files or []) if f is not None]
    if not text and not files:
        raise CafRequestError(MESSAGE_NOTHING, code="nothing", field="text")
    if len(text) > MAX_TEXT:
        raise CafRequestError(MESSAGE_TEXT_TOO_LONG, code="text", field="text")
    if len(files) > MAX_FILES:
        raise CafRequestError(MESSAGE_TOO_MANY, code="too_many", field="files")
    # Parsed, rewritten and scanned before the transaction: the slow part holds no lock.
    checked = [_check_file(actor, request, uploaded) for uploaded in files]

    stored = []
    try:
        with transaction.atomic():
            # Asked again on the locked row: the standing or the request may have changed since.
            locked = answerable(actor=actor).select_for_update().filter(pk=request.pk).first()
            if locked is None:
                raise CafRequestNotAllowed()
            if not locked.is_open:
                raise CafRequestError(MESSAGE_CLOSED, code="closed")
            now = timezone.now()
            late = locked.is_late()
            answer = CafRequestAnswer.objects.create(
                request=locked, author=actor.subject, channel=actor.channel, text=text, created_at=now
            )
            for item in checked:
                attachment = CafRequestAttachment(
                    answer=answer,
                    content_type=item.content_type,
                    size=len(item.content),
                    sha256=hashlib.sha256(item.content).hexdigest(),
                    original_name=item.name,
                    scan_state=item.scan_state,
                    scan_detail=item.scan_detail,
                    created_at=now,
                )
                attachment.file.save(f"{uuid.uuid4().hex}.{item.extension}", ContentFile(item.content), save=False)
                stored.append(attachment.file.name)
                attachment.save()
            locked.state = CafRequest.State.ANSWERED
            locked.answered_at = now
            locked.save(update_fields=["state", "answered_at"])
            journal_record(
                action=JournalAction.CAF_REQUEST_ANSWERED,
                actor=actor,
                dossier=locked.dossier,
                detail={
                    "request": locked.pk,
                    "answer": answer.pk,
                    "text": bool(text),
                    "files": [
                        {"content_type": item.content_type, "size": len(item.content), "scan": item.scan_state}
                        for item in checked
                    ],
                    "late": late,
                },
            )
    except BaseException:
        for name in stored:
            default_storage.delete(name)
        raise
    request.state, request.answered_at = locked.state, locked.answered_at
    return answer


def caf_request_viewed(*, actor: Actor, request: CafRequest, attachment: CafRequestAttachment | None = None) -> None:
    """Journal that the actor opened ``request``, or downloaded one of its files (both given by
    the selectors: already allowed)."""
    detail = {"request": request.pk}
    if attachment is not None:
        detail["attachment"] = attachment.pk
    journal_record(action=JournalAction.CAF_REQUEST_VIEWED, actor=actor, dossier=request.dossier, detail=detail)


def caf_request_attachment_open(*, actor: Actor, request_id: int, attachment_id: int):
    """A file of an answer to a request the actor may see, opened for its download (the caller
    closes it, a FileResponse does), the download journaled: every channel's one way to hand it.
    NotAllowed when the actor may not see the request, and when the stored file is gone (past its
    retention). Returns the attachment and the open binary file."""
    attachment = caf_request_attachment_for(actor=actor, request_id=request_id, attachment_id=attachment_id)
    try:
        handle = attachment.file.open("rb")
    except FileNotFoundError:
        raise NotAllowed("Ce fichier n'est plus disponible.") from None
    caf_request_viewed(actor=actor, request=attachment.answer.request, attachment=attachment)
    return attachment, handle
