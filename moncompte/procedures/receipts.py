"""The receipt of a submitted request, as a PDF (the "accusé de réception" the person keeps).

The same content as the receipt page: the Caf, the type of request, its reference, when and by
whom it was sent, the file, what was declared (``procedure_summary``, section by section), the
partner data the person corrected, what happens next and the history (who did what, when).

Written with reportlab's base fonts (Helvetica: WinAnsi, which has the French accents, the
guillemets, the apostrophe and the euro sign). They have no narrow no-break space (U+202F, the
thousands separator of the summary): the PDF writes a plain space instead, and any other
character those fonts lack falls back to its unaccented letter (never a missing glyph).
"""

from __future__ import annotations

import datetime
import io
import unicodedata
import zoneinfo
from xml.sax.saxutils import escape

from django.utils import timezone
from reportlab.lib import colors
from reportlab.lib.enums import TA_LEFT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import KeepTogether, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from moncompte.core.actors import Channel
from moncompte.core.errors import NotAllowed
from moncompte.procedures.models import Procedure, ProcedureEvent
from moncompte.procedures.summary import date_text, field_display, field_label, procedure_summary

PARIS = zoneinfo.ZoneInfo("Europe/Paris")
_FONT, _BOLD = "Helvetica", "Helvetica-Bold"
_BLUE = colors.HexColor("#000091")  # the DSFR's "bleu France"
_GREY = colors.HexColor("#666666")


# Text -----------------------------------------------------------------------------------------


def pdf_text(text) -> str:
    """``text`` in the characters the base fonts have (WinAnsi): U+202F and U+00A0 become a plain
    space, a letter they lack its unaccented form ("ł" stays "l", "ő" becomes "o"), anything else "?"."""
    text = str(text).replace("\u202f", " ").replace("\u00a0", " ")
    out = []
    for char in text:
        try:
            char.encode("cp1252")
        except UnicodeEncodeError:
            base = "".join(c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c))
            try:
                base.encode("cp1252")
            except UnicodeEncodeError:
                base = {"ł": "l", "Ł": "L", "đ": "d", "Đ": "D", "ı": "i"}.get(char, "?")
            out.append(base or "?")
        else:
            out.append(char)
    return "".join(out)


def _markup(text) -> str:
    """For a Paragraph (which reads a little XML): the text in the fonts' characters, escaped."""
    return escape(pdf_text(text))


def moment_text(value: datetime.datetime) -> str:
    """ "2 décembre 2026 à 14:05", in Paris time (as the pages write it: ``date_fr:"j F Y à H:i"``)."""
    local = timezone.localtime(value, PARIS)
    return f"{date_text(local.date())} à {local:%H:%M}"


# Styles ---------------------------------------------------------------------------------------


def _styles() -> dict[str, ParagraphStyle]:
    body = ParagraphStyle("body", fontName=_FONT, fontSize=10, leading=13.5, alignment=TA_LEFT)
    return {
        "body": body,
        "small": ParagraphStyle("small", parent=body, fontSize=8.5, leading=11, textColor=_GREY),
        "caf": ParagraphStyle("caf", parent=body, fontName=_BOLD, fontSize=11, leading=14, textColor=_BLUE),
        "title": ParagraphStyle("title", parent=body, fontName=_BOLD, fontSize=20, leading=25, spaceBefore=6),
        "label": ParagraphStyle("label", parent=body, fontSize=13, leading=17, spaceAfter=6),
        "reference_caption": ParagraphStyle("reference_caption", parent=body, textColor=_GREY),
        "reference": ParagraphStyle("reference", parent=body, fontName=_BOLD, fontSize=24, leading=30, spaceAfter=4),
        "h2": ParagraphStyle(
            "h2", parent=body, fontName=_BOLD, fontSize=13, leading=17, spaceBefore=12, spaceAfter=4, textColor=_BLUE
        ),
        "h3": ParagraphStyle("h3", parent=body, fontName=_BOLD, fontSize=11, leading=14, spaceBefore=8, spaceAfter=3),
        "cell": ParagraphStyle("cell", parent=body, fontSize=9.5, leading=12.5),
        "cell_label": ParagraphStyle("cell_label", parent=body, fontSize=9.5, leading=12.5, textColor=_GREY),
    }


def _rows_table(rows: list[tuple[str, str]], styles, widths=(62 * mm, 108 * mm)) -> Table:
    data = [
        [Paragraph(_markup(label), styles["cell_label"]), Paragraph(_markup(value), styles["cell"])]
        for label, value in rows
    ]
    table = Table(data, colWidths=list(widths), hAlign="LEFT")
    table.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LINEBELOW", (0, 0), (-1, -1), 0.25, colors.HexColor("#dddddd")),
                ("TOPPADDING", (0, 0), (-1, -1), 3),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
            ]
        )
    )
    return table


# What the receipt says ------------------------------------------------------------------------


def _caf_name(procedure: Procedure) -> str:
    dossier = procedure.dossier
    return dossier.caf.name if dossier is not None and dossier.caf_id else "Caf"


def _form_of(procedure: Procedure, name: str):
    """The form of the step a corrected field belongs to (the pre-filled one first)."""
    steps = [s for s in procedure.type.steps if s.form is not None]
    for step in steps:
        if name in step.prefill:
            return step.form
    for step in steps:
        if name in step.form.base_fields or any(name == p.key for p in getattr(step.form, "date_parts", ())):
            return step.form
    return None


def corrections_rows(procedure: Procedure) -> list[tuple[str, str]]:
    """Each partner value the person typed otherwise: (the field, what was typed and what the partner said)."""
    rows = []
    for name, correction in procedure.corrections.items():
        form = _form_of(procedure, name)
        source = correction.get("label") or correction.get("source") or "un partenaire"
        fetched = _parse_moment(correction.get("fetched_at"))
        told = f"transmise par {source}" + (
            f" le {date_text(timezone.localtime(fetched, PARIS).date())}" if fetched else ""
        )
        typed = field_display(form, name, correction.get("typed"))
        partner = field_display(form, name, correction.get("partner"))
        rows.append((field_label(form, name), f"{typed}, corrigé (valeur {told} : {partner})"))
    return rows


def _parse_moment(value) -> datetime.datetime | None:
    if not value:
        return None
    try:
        moment = datetime.datetime.fromisoformat(str(value))
    except ValueError:
        return None
    return moment if timezone.is_aware(moment) else timezone.make_aware(moment, datetime.UTC)


def _who(event: ProcedureEvent) -> str:
    if event.person is not None:
        return event.person.display_name
    if event.channel == Channel.SYSTEM:
        return "Mon Compte"
    return "Le demandeur, avant la création de son compte"


def _what(event: ProcedureEvent, procedure: Procedure) -> str:
    what = event.get_kind_display()
    if event.step:
        try:
            what += f" : {procedure.type.step(event.step).title}"
        except KeyError:
            pass
    if event.kind == ProcedureEvent.Kind.CORRECTED and event.detail.get("field"):
        form = _form_of(procedure, event.detail["field"])
        what += f" ({field_label(form, event.detail['field'])})"
    if event.kind == ProcedureEvent.Kind.SUBMITTED and procedure.reference:
        what += f" (référence {procedure.reference})"
    return what


def history_rows(procedure: Procedure, history) -> list[tuple[str, str, str]]:
    return [(moment_text(event.at), _who(event), _what(event, procedure)) for event in history]


def receipt_pdf(procedure: Procedure, history) -> bytes:
    """The receipt of the submitted ``procedure`` (``history``: its events, as
    services.procedure_history gives them), as the bytes of an A4 PDF. A draft has none
    (NotAllowed: not found)."""
    if procedure.state != Procedure.State.SUBMITTED or not procedure.reference:
        raise NotAllowed()
    ptype = procedure.type
    styles = _styles()
    generated = timezone.now()
    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=20 * mm,
        rightMargin=20 * mm,
        topMargin=18 * mm,
        bottomMargin=20 * mm,
        title=pdf_text(f"Accusé de réception {procedure.reference}"),
        subject=pdf_text(ptype.label),
        author=pdf_text(_caf_name(procedure)),
        creator="Mon Compte",
        lang="fr-FR",
    )
    story = [
        Paragraph(_markup(_caf_name(procedure)), styles["caf"]),
        Paragraph(_markup("Accusé de réception"), styles["title"]),
        Paragraph(_markup(ptype.label), styles["label"]),
        Paragraph(_markup("Référence de votre demande"), styles["reference_caption"]),
        Paragraph(_markup(procedure.reference), styles["reference"]),
    ]
    sent_by = procedure.submitted_by.display_name if procedure.submitted_by else ""
    sent = f"Demande envoyée le {moment_text(procedure.submitted_at)} (heure de Paris)"
    story.append(Paragraph(_markup(sent + (f" par {sent_by}." if sent_by else ".")), styles["body"]))
    if procedure.dossier is not None:
        story.append(Paragraph(_markup(f"Dossier n° {procedure.dossier.numero}"), styles["body"]))
    story.append(
        Paragraph(
            _markup("Gardez ce document : la référence permet de retrouver votre demande auprès de votre Caf."),
            styles["small"],
        )
    )

    story.append(Paragraph(_markup("Ce que vous avez déclaré"), styles["h2"]))
    for section in procedure_summary(procedure):
        if not section.rows:
            continue
        table = _rows_table([(row.label, row.value) for row in section.rows], styles)
        # The title stays with its rows (a section longer than a page flows on).
        story.append(KeepTogether([Paragraph(_markup(section.title), styles["h3"]), table]))

    corrections = corrections_rows(procedure)
    if corrections:
        story.append(Paragraph(_markup("Informations des partenaires que vous avez corrigées"), styles["h2"]))
        story.append(_rows_table(corrections, styles))

    story.append(Paragraph("Et maintenant ?", styles["h2"]))
    story.append(Paragraph(_markup(ptype.next_steps), styles["body"]))

    rows = history_rows(procedure, history)
    if rows:
        story.append(Paragraph("Historique de la demande", styles["h2"]))
        data = [[Paragraph(_markup(cell), styles["cell"]) for cell in row] for row in rows]
        header = [Paragraph(_markup(text), styles["cell_label"]) for text in ("Date", "Par", "Action")]
        table = Table([header, *data], colWidths=[42 * mm, 50 * mm, 78 * mm], hAlign="LEFT", repeatRows=1)
        table.setStyle(
            TableStyle(
                [
                    ("VALIGN", (0, 0), (-1, -1), "TOP"),
                    ("LINEBELOW", (0, 0), (-1, -1), 0.25, colors.HexColor("#dddddd")),
                    ("LEFTPADDING", (0, 0), (-1, -1), 0),
                    ("TOPPADDING", (0, 0), (-1, -1), 3),
                    ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
                ]
            )
        )
        story.append(table)

    story.append(Spacer(1, 8 * mm))
    footer = pdf_text(f"Document généré par Mon Compte le {moment_text(generated)} (heure de Paris)")
    story.append(Paragraph(escape(footer) + ".", styles["small"]))

    def page_footer(canvas, doc):
        canvas.saveState()
        canvas.setFont(_FONT, 8)
        canvas.setFillColor(_GREY)
        canvas.drawString(20 * mm, 10 * mm, pdf_text(f"{procedure.reference} — {ptype.label}"))
        canvas.drawRightString(A4[0] - 20 * mm, 10 * mm, f"Page {doc.page}")
        canvas.restoreState()

    document.build(story, onFirstPage=page_footer, onLaterPages=page_footer)
    return buffer.getvalue()
