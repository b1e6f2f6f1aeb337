"""Writes on the Caf's requests (moncompte.caf_requests.services): creation and who is told,
answers with text and files (checked by content, size-limited, scanned), refusals."""

import datetime
import hashlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation

from moncompte.audit.models import JournalEntry
from moncompte.caf_requests.models import CafRequest, CafRequestAnswer, CafRequestAttachment, ScanState
from moncompte.caf_requests.services import (
    CafRequestError,
    CafRequestNotAllowed,
    caf_request_answer,
    caf_request_create,
    sanitise_name,
)
from moncompte.core.actors import Actor, Channel
from moncompte.notifications.models import Message
from moncompte.web.templatetags.french import date_fr
from tests.caf_requests.conftest import stored_files
from tests.caf_requests.scanner import DOWN, EICAR, NOT_A_RESULT
from tests.factories import AccountFactory, CafRequestFactory, ContactFactory, MemberFactory, make_household
from tests.identity.test_document_parsing import jpeg, one_page_pdf, png, stream

pytestmark = pytest.mark.django_db

DUE = datetime.date.today() + datetime.timedelta(days=20)


def web_actor(member) -> Actor:
    """The member (a HouseholdPerson, or anything with an ``account``) acting on the web."""
    return Actor(channel=Channel.WEB, account=member.account, session_key="s" * 32)


def answer_as(member, request, text: str = "", files=()):
    return caf_request_answer(actor=web_actor(member), request=request, text=text, files=list(files))


def create(dossier, addressed_to=None, **changes) -> CafRequest:
    values = {
        "kind": "document",
        "title": "Justificatif de domicile",
        "body": "Envoyez-nous une quittance de loyer de moins de 3 mois.",
        "due_on": DUE,
    }
    values.update(changes)
    return caf_request_create(actor=Actor.system(), dossier=dossier, addressed_to=addressed_to, **values)


def emails_of(*members) -> set[str]:
    return {c.value for m in members for c in m.account.contacts.filter(verified_at__isnull=False)}


def recipients() -> set[str]:
    return set(Message.objects.values_list("recipient", flat=True))


def upload(content: bytes, name: str = "quittance.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="application/pdf")


# Creation and who is told -----------------------------------------------------------------------


def test_a_request_to_the_household_is_told_to_those_who_act_on_the_whole_file(delegated_family):
    family = delegated_family
    # A second validated contact of R, an unvalidated one of S+: every validated contact, only those.
    phone = ContactFactory(account=family.responsible.account, phone=True)
    ContactFactory(account=family.spouse.account, unverified=True)
    request = create(family.dossier)
    assert (request.state, request.addressed_to, request.created_by_label) == (
        CafRequest.State.WAITING,
        None,
        family.caf.name,
    )
    assert recipients() == emails_of(family.responsible, family.spouse) | {phone.value}
    entry = JournalEntry.objects.get(action="caf_request.created")
    assert entry.dossier == family.dossier and entry.actor_person is None
    assert entry.detail["addressed_to"] == "household" and entry.detail["notified"] == 3


def test_a_request_to_the_household_is_not_told_to_a_spouse_without_delegation_nor_a_child(family):
    create(family.dossier)
    assert recipients() == emails_of(family.responsible)


@pytest.mark.parametrize("addressee", ["spouse", "child"])
def test_a_request_to_one_member_is_told_to_them_and_to_the_responsible_person(family, addressee):
    member = getattr(family, addressee)
    request = create(family.dossier, addressed_to=member.person)
    assert request.addressed_to == member.person
    # R (whole file) and the addressee (own part); not the other one.
    assert recipients() == emails_of(family.responsible, member)
    assert JournalEntry.objects.get(action="caf_request.created").subject_person == member.person


def test_the_message_says_a_request_waits_with_its_title_and_due_date_only(family):
    create(family.dossier, title="Attestation de scolarité", body="Le secret du dossier : 4242.")
    message = Message.objects.get()
    body = message.get_body()
    with translation.override("fr"):
        assert "Attestation de scolarité" in body and date_fr(DUE, "j F Y") in body
    assert "4242" not in body and family.dossier.numero not in body
    assert family.responsible.person.display_name not in body + message.subject


def test_a_request_to_someone_who_is_no_member_now_is_refused(family):
    former = MemberFactory(dossier=family.dossier, spouse=True, ended=True)
    stranger = make_household().responsible.person
    for person in (former.person, stranger):
        with pytest.raises(CafRequestError) as error:
            create(family.dossier, addressed_to=person)
        assert error.value.code == "addressed_to"
    assert not CafRequest.objects.exists() and not Message.objects.exists()


@pytest.mark.parametrize(
    "changes, code",
    [
        ({"kind": "autre"}, "kind"),
        ({"title": "   "}, "title"),
        ({"title": "x" * 201}, "title"),
        ({"body": ""}, "body"),
        ({"due_on": datetime.date.today() - datetime.timedelta(days=1)}, "due_on"),
        ({"due_on": "2026-12-31"}, "due_on"),
    ],
)
def test_wrong_values_create_nothing(family, changes, code):
    with pytest.raises(CafRequestError) as error:
        create(family.dossier, **changes)
    assert error.value.code == code
    assert not CafRequest.objects.exists() and not JournalEntry.objects.filter(action="caf_request.created").exists()


def test_a_person_cannot_create_a_request(family):
    with pytest.raises(CafRequestNotAllowed):
        caf_request_create(
            actor=web_actor(family.responsible),
            dossier=family.dossier,
            addressed_to=None,
            kind="document",
            title="Faux",
            body="Faux",
            due_on=DUE,
        )
    assert not CafRequest.objects.exists()


# Answers ----------------------------------------------------------------------------------------


def test_a_text_answer_marks_the_request_answered_and_is_journaled(family, media):
    request = CafRequestFactory(dossier=family.dossier)
    answer = answer_as(family.responsible, request, "  Envoyé par la poste. ")
    request.refresh_from_db()
    assert request.state == CafRequest.State.ANSWERED and request.answered_at == answer.created_at
    assert (answer.author, answer.text, answer.channel) == (family.responsible.person, "Envoyé par la poste.", "web")
    entry = JournalEntry.objects.get(action="caf_request.answered")
    assert entry.detail == {"request": request.pk, "answer": answer.pk, "text": True, "files": [], "late": False}
    assert entry.actor_person == family.responsible.person and entry.dossier == family.dossier


@pytest.mark.parametrize(
    "content, name, content_type, extension",
    [
        (one_page_pdf(), "quittance.pdf", "application/pdf", "pdf"),
        (jpeg(), "photo.JPEG", "image/jpeg", "jpg"),
        (png(), "capture.png", "image/png", "png"),
    ],
    ids=["pdf", "jpeg", "png"],
)
def test_pdf_jpeg_and_png_files_are_stored_rewritten(family, media, content, name, content_type, extension):
    request = CafRequestFactory(dossier=family.dossier)
    answer = answer_as(family.responsible, request, "", [upload(content, name)])
    attachment = answer.attachments.get()
    stored = (media / attachment.file.name).read_bytes()
    assert attachment.file.name.startswith("caf-requests/") and attachment.file.name.endswith(f".{extension}")
    assert attachment.content_type == content_type and attachment.original_name == name
    assert attachment.size == len(stored) and attachment.sha256 == hashlib.sha256(stored).hexdigest()
    assert attachment.scan_state == ScanState.CLEAN and "test suite" in attachment.scan_detail
    assert stored_files(media) == [media / attachment.file.name]


def test_without_a_scanner_a_file_is_stored_marked_not_scanned(family, media, settings):
    settings.MONCOMPTE_VIRUS_SCANNER = "moncompte.caf_requests.scanning.clamd_scan"
    settings.MONCOMPTE_CLAMD_SOCKET = ""
    request = CafRequestFactory(dossier=family.dossier)
    answer = answer_as(family.responsible, request, "", [upload(png(), "a.png")])
    assert answer.attachments.get().scan_state == ScanState.NOT_SCANNED


def _refused(family, media, files, *, text="", code) -> CafRequestError:
    request = CafRequestFactory(dossier=family.dossier)
    with pytest.raises(CafRequestError) as error:
        answer_as(family.responsible, request, text, files)
    assert error.value.code == code, error.value.message
    request.refresh_from_db()
    assert request.state == CafRequest.State.WAITING
    assert not CafRequestAnswer.objects.exists() and not CafRequestAttachment.objects.exists()
    assert stored_files(media) == []
    assert not JournalEntry.objects.filter(action="caf_request.answered").exists()
    return error.value


@pytest.mark.parametrize(
    "content, code, words",
    [
        (b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + bytes(100), "type", "ni un PDF"),
        (b"<!DOCTYPE html><html><script>alert(1)</script></html>", "type", "ni un PDF"),
        (b"%PDF-1.7\n<html><script>alert(1)</script></html>", "unreadable", "n'a pas pu être lu"),
        (b"", "empty", "Le fichier est vide"),
    ],
    ids=["exe-named-pdf", "html-named-pdf", "html-after-pdf-header", "empty"],
)
def test_disguised_broken_and_empty_files_are_refused_with_their_name(family, media, content, code, words):
    error = _refused(family, media, [upload(content, "justificatif.pdf")], code=code)
    assert error.message.startswith("« justificatif.pdf » : ") and words in error.message
    assert error.field == "files"


def test_a_file_over_the_limit_is_refused(family, media, settings):
    settings.MONCOMPTE_CAF_REQUEST_MAX_BYTES = 2048
    big = one_page_pdf(more=(stream(b"0" * 4096),))
    error = _refused(family, media, [upload(big)], code="too_large")
    assert "trop volumineux : 2 Ko au maximum" in error.message
    # At the limit exactly, it is taken.
    settings.MONCOMPTE_CAF_REQUEST_MAX_BYTES = len(png())
    request = CafRequestFactory(dossier=family.dossier)
    answer_as(family.responsible, request, "", [upload(png(), "a.png")])


def test_the_default_limit_is_10_mib(family, media):
    from moncompte.caf_requests.services import caf_request_max_bytes

    assert caf_request_max_bytes() == 10 * 1024 * 1024


def test_an_infected_file_is_refused_journaled_and_nothing_is_stored(family, media):
    infected = one_page_pdf(more=(stream(EICAR),))
    clean = png()
    error = _refused(family, media, [upload(clean, "a.png"), upload(infected, "facture.pdf")], code="infected")
    assert error.message.startswith("« facture.pdf » : ") and "antivirus" in error.message
    entry = JournalEntry.objects.get(action="caf_request.file_infected")
    assert entry.detail["signature"] == "Eicar-Test-Signature" and entry.actor_person == family.responsible.person
    assert entry.dossier == family.dossier


@pytest.mark.parametrize("scanner", [DOWN, NOT_A_RESULT], ids=["down", "not-a-result"])
def test_a_scanner_without_an_answer_refuses_the_file(family, media, settings, scanner):
    settings.MONCOMPTE_VIRUS_SCANNER = scanner
    error = _refused(family, media, [upload(png(), "a.png")], code="scan_unavailable")
    assert "réessayez dans quelques minutes" in error.message


def test_six_files_are_refused_before_any_is_read(family, media):
    error = _refused(family, media, [upload(png(), f"{n}.png") for n in range(6)], code="too_many")
    assert "5 fichiers au plus" in error.message


def test_five_files_and_a_text_make_one_answer(family, media):
    request = CafRequestFactory(dossier=family.dossier)
    files = [upload(png(), f"page {n}.png") for n in range(5)]
    answer = answer_as(family.responsible, request, "Les 5 pages.", files)
    assert [a.original_name for a in answer.attachments.order_by("id")] == [f"page {n}.png" for n in range(5)]
    assert len(JournalEntry.objects.get(action="caf_request.answered").detail["files"]) == 5


def test_an_answer_needs_a_text_or_a_file_and_a_text_of_at_most_5000_characters(family, media):
    assert _refused(family, media, [], text="   ", code="nothing").field == "text"
    assert _refused(family, media, [], text="x" * 5001, code="text").field == "text"


def test_a_late_request_can_still_be_answered_and_says_it_was_late(family, media):
    request = CafRequestFactory(dossier=family.dossier, late=True)
    assert request.is_late()
    answer_as(family.responsible, request, "Pardon du retard.")
    request.refresh_from_db()
    assert request.state == CafRequest.State.ANSWERED and not request.is_late()
    assert JournalEntry.objects.get(action="caf_request.answered").detail["late"] is True


def test_an_answered_request_can_be_completed(family, media):
    request = CafRequestFactory(dossier=family.dossier)
    answer_as(family.responsible, request, "Première partie.")
    answer_as(family.responsible, request, "Seconde partie.")
    texts = list(request.answers.order_by("id").values_list("text", flat=True))
    assert texts == ["Première partie.", "Seconde partie."]


def test_a_closed_request_refuses_answers(family, media):
    request = CafRequestFactory(dossier=family.dossier, closed=True)
    with pytest.raises(CafRequestError) as error:
        answer_as(family.responsible, request, "Trop tard ?")
    assert error.value.code == "closed" and not CafRequestAnswer.objects.exists()


def test_a_request_closed_meanwhile_refuses_the_answer(family, media):
    request = CafRequestFactory(dossier=family.dossier)
    CafRequest.objects.filter(pk=request.pk).update(state=CafRequest.State.CLOSED)  # by an agent, meanwhile
    with pytest.raises(CafRequestError) as error:
        answer_as(family.responsible, request, "Voilà.", [upload(png())])
    assert error.value.code == "closed"
    assert not CafRequestAnswer.objects.exists() and stored_files(media) == []


def test_who_may_answer_follows_the_policy(family, media):
    """R: everything of the file; S and M: only what is addressed to them; X, O: nothing."""
    former = MemberFactory(dossier=family.dossier, spouse=True, ended=True)
    former.account = AccountFactory(person=former.person)
    stranger = make_household().responsible
    household = CafRequestFactory(dossier=family.dossier)
    to_spouse = CafRequestFactory(dossier=family.dossier, addressed_to=family.spouse.person)
    to_child = CafRequestFactory(dossier=family.dossier, addressed_to=family.child.person)
    to_former = CafRequestFactory(dossier=family.dossier, addressed_to=former.person)
    allowed = {
        "R": (family.responsible, {household, to_spouse, to_child, to_former}),
        "S": (family.spouse, {to_spouse}),
        "M": (family.child, {to_child}),
        "X": (former, set()),
        "O": (stranger, set()),
    }
    for role, (member, may) in allowed.items():
        for request in (household, to_spouse, to_child, to_former):
            if request in may:
                answer_as(member, request, f"{role}")
            else:
                with pytest.raises(CafRequestNotAllowed):
                    answer_as(member, request, f"{role}")
    answered = {(a.author_id, a.request_id) for a in CafRequestAnswer.objects.all()}
    expected = {(m.person.pk, r.pk) for m, may in allowed.values() for r in may}
    assert answered == expected


def test_a_delegated_spouse_answers_every_request_and_loses_it_with_the_delegation(delegated_family, media):
    family = delegated_family
    household = CafRequestFactory(dossier=family.dossier)
    to_child = CafRequestFactory(dossier=family.dossier, addressed_to=family.child.person)
    for request in (household, to_child):
        answer_as(family.spouse, request, "S+")
    family.spouse.member.delegation_granted_at = None
    family.spouse.member.save(update_fields=["delegation_granted_at"])
    with pytest.raises(CafRequestNotAllowed):
        answer_as(family.spouse, household, "S")


def test_names_are_sanitised_for_the_history():
    assert sanitise_name("../../etc/passwd", "pdf") == "passwd.pdf"
    assert sanitise_name("C:\\Users\\marc\\scan 1.pdf", "pdf") == "scan 1.pdf"
    assert sanitise_name("photo.pdf", "png") == "photo.pdf.png"
    assert sanitise_name("photo.jpeg", "jpg") == "photo.jpeg"
    assert sanitise_name('a<b>"c|\x00\x1f.pdf', "pdf") == "abc.pdf"
    assert sanitise_name("", "pdf") == "document.pdf"
    long = sanitise_name("x" * 300 + ".pdf", "pdf")
    assert len(long) == 120 and long.endswith(".pdf")


def test_the_stored_name_is_random_and_never_the_persons(family, media):
    request = CafRequestFactory(dossier=family.dossier)
    answer = answer_as(family.responsible, request, "", [upload(png(), "../../mon nom.png")])
    attachment = answer.attachments.get()
    assert "mon nom" not in attachment.file.name and attachment.original_name == "mon nom.png"


def test_the_message_renders_in_french_and_fits_one_gsm_sms():
    from moncompte.notifications.rendering import message_render

    context = {"title": "Justificatif de domicile", "due_on": datetime.date(2026, 12, 1)}
    sms = message_render(channel="sms", template="caf_request_waiting", context=context)
    gsm7 = set(
        "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿"
        "abcdefghijklmnopqrstuvwxyzäöñüà"
    )
    assert len(sms.body) <= 160 and set(sms.body) <= gsm7 and "01/12/2026" in sms.body
    mail = message_render(channel="email", template="caf_request_waiting", context=context)
    assert mail.subject == "Une demande de la Caf attend votre réponse"
    assert "« Justificatif de domicile »" in mail.body and "avant le 1er décembre 2026" in mail.body
