"""The mails, in French: a subject, a plain-text body and an HTML body per kind of notice.

Every value from the database is escaped in the HTML; the link opens the letter in the SPA
(`APP_URL/#/documents/<id>`), where the reader logs in as usual: a mail never carries a token.
"""
from dataclasses import dataclass
from html import escape

from flask import current_app

SUBJECT_MAX = 255


@dataclass(frozen=True)
class Mail:
    subject: str
    text: str
    html: str


# kind → (subject, first sentence); `{service}` is the treating service, `{echeance}` the deadline (JJ/MM/AAAA).
TEMPLATES = {
    "assigned": ("{reference} vous est imputé : {objet}",
                 "Le courrier {reference} vous a été imputé : vous en êtes le responsable."),
    "assigned_service": ("{reference} imputé au service {service} : {objet}",
                         "Le courrier {reference} a été imputé au service {service}."),
    "copy": ("{reference} en copie : {objet}", "Le courrier {reference} vous a été adressé en copie."),
    "validated": ("{reference} validé : {objet}", "Le courrier {reference} que vous avez enregistré a été validé."),
    "rejected": ("{reference} rejeté : {objet}", "Le courrier {reference} que vous avez enregistré a été rejeté."),
    "due_soon": ("{reference} arrive à échéance le {echeance} : {objet}",
                 "Le courrier {reference} doit être traité au plus tard le {echeance}."),
    "late": ("{reference} en retard (échéance du {echeance}) : {objet}",
             "Le courrier {reference} est en retard : son échéance était le {echeance}."),
}


def document_link(document_id):
    return f"{current_app.config['APP_URL']}/#/documents/{document_id}"


def one_line(text):
    """A header value on one line: a newline in `objet` must never start a new header."""
    return " ".join(str(text).split())


def render(kind, document, motif=None):
    """The mail of `kind` about `document` (a Document), with the reason of a rejection or a re-routing."""
    subject_template, lead_template = TEMPLATES[kind]
    values = {
        "reference": document.reference,
        "objet": document.objet,
        "service": document.service.code if document.service is not None else "",
        "echeance": document.echeance.strftime("%d/%m/%Y") if document.echeance is not None else "",
    }
    subject = one_line("[courrier] " + subject_template.format(**values))[:SUBJECT_MAX]
    lead = lead_template.format(**values)
    link = document_link(document.id)
    facts = [("Objet", document.objet), ("Expéditeur", document.expediteur), ("Destinataire", document.destinataire)]
    if document.echeance is not None:
        facts.append(("Échéance", values["echeance"]))
    if motif:
        facts.append(("Motif", motif))
    text = "\n".join([
        "Bonjour,", "", lead, "",
        *(f"{label} : {value}" for label, value in facts), "",
        f"Ouvrir le courrier : {link}", "",
        "Vous recevez ce message car les notifications par e-mail sont activées sur votre profil ;",
        "vous pouvez les désactiver depuis l'application.",
    ]) + "\n"
    rows = "".join(f"<tr><th scope=\"row\" style=\"text-align:left;padding-right:1em\">{escape(label)}</th>"
                   f"<td>{escape(str(value))}</td></tr>" for label, value in facts)
    html = (
        "<!DOCTYPE html><html lang=\"fr\"><head><meta charset=\"utf-8\">"
        f"<title>{escape(subject)}</title></head><body>"
        f"<p>Bonjour,</p><p>{escape(lead)}</p><table>{rows}</table>"
        f"<p><a href=\"{escape(link)}\">Ouvrir le courrier {escape(document.reference)}</a></p>"
        "<p style=\"color:#666;font-size:small\">Vous recevez ce message car les notifications par e-mail sont "
        "activées sur votre profil ; vous pouvez les désactiver depuis l'application.</p>"
        "</body></html>")
    return Mail(subject, text, html)
