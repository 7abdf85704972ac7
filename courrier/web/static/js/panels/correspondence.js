// A letter's correspondents, nature and links: the rows of the detail list (sender and
// recipient with their directory card, nature, registered-mail number, acknowledgement of receipt,
// the letter it answers), the "Réponses" card with its "Répondre" button, the acknowledgement form,
// and the history lines of those steps. "Répondre" and the acknowledgement form are shown when the
// letter's `actions` (the server's rules) list them; a refusal is shown with the server's message.

import * as api from "../api.js";
import { h, badge, label, formatDate, contactName, REGISTERED_NATURES } from "../dom.js";
import { field, FormErrors, formAlert, attempt, onSubmit, showMissing } from "../forms.js";
import { docHref, may } from "../components.js";

/** The text the letter carries, and — when linked — a link to the contact's card. */
function party(text, contact, testid) {
  return h(
    "span",
    { class: "party" },
    h("span", { "data-testid": `${testid}-text` }, text || "—"),
    contact
      ? h(
          "a",
          { href: `#/contacts/${encodeURIComponent(contact.id)}`, class: "party-contact", "data-testid": `${testid}-contact`, "data-id": contact.id },
          h("span", { class: "visually-hidden" }, "Fiche du correspondant : "),
          contactName(contact),
        )
      : null,
  );
}

/** "REF — objet", a link to a linked letter (the one answered, or a reply). */
function letterLink(link, testid) {
  return h(
    "a",
    { href: docHref(link), class: "letter-link", "data-testid": testid, "data-id": link.id },
    h("span", { class: "reference" }, link.reference || "—"),
    ` — ${link.objet}`,
  );
}

/** The detail-list rows: expéditeur, destinataire, nature, number, acknowledgement, "En réponse à". */
export function linkDetails(doc, item) {
  const registered = REGISTERED_NATURES.includes(doc.nature);
  return [
    item("Expéditeur", party(doc.expediteur, doc.expediteur_contact, "detail-expediteur"), "detail-expediteur"),
    item("Destinataire", party(doc.destinataire, doc.destinataire_contact, "detail-destinataire"), "detail-destinataire"),
    item("Nature", label("nature", doc.nature || "courrier_simple"), "detail-nature"),
    doc.numero_recommande || registered ? item("N° de recommandé", doc.numero_recommande || "—", "detail-numero-recommande") : null,
    doc.date_accuse_reception || doc.nature === "recommande_ar"
      ? item("Accusé de réception", doc.date_accuse_reception ? `Revenu le ${formatDate(doc.date_accuse_reception)}` : "Pas encore revenu", "detail-accuse-reception")
      : null,
    doc.en_reponse_a_id
      ? item("En réponse à", doc.en_reponse_a ? letterLink(doc.en_reponse_a, "detail-en-reponse-a-link") : "un courrier que vous ne pouvez pas voir", "detail-en-reponse-a")
      : null,
  ];
}

/** The "Réponses" card: the replies (each a link) and, on an incoming letter, "Répondre". */
export function correspondenceSection(doc, { navigate, flash }) {
  const replies = doc.reponses || [];
  const canReply = may(doc, "repondre");
  if (doc.type !== "entrant" && !replies.length) return null;

  const alert = formAlert("reply-error");
  const errors = new FormErrors({}, alert);
  let button = null;
  if (canReply) {
    button = h("button", { type: "button", class: "btn", id: "reply-button", "data-testid": "reply-button" }, "Répondre");
    button.addEventListener("click", () =>
      attempt(button, errors, async () => {
        const payload = await api.request(`/api/documents/${encodeURIComponent(doc.id)}/reponses`, { method: "POST", json: {} });
        flash(`Réponse ${payload.data.reference} créée, adressée à ${payload.data.destinataire}. Complétez-la si besoin, puis faites-la valider : le courrier ${doc.reference} sera alors traité.`);
        navigate(`/documents/${encodeURIComponent(payload.data.id)}`);
      }),
    );
  }

  return h(
    "section",
    { class: "card correspondence", "aria-labelledby": "replies-title", "data-testid": "replies-panel" },
    h("h2", { id: "replies-title" }, "Réponses"),
    alert,
    replies.length
      ? h(
          "ul",
          { class: "link-list", "data-testid": "replies" },
          replies.map((reply) => h("li", { "data-testid": "reply", "data-id": reply.id }, letterLink(reply, "reply-link"), " ", badge("statut", reply.statut))),
        )
      : h("p", { class: "empty", "data-testid": "replies-empty" }, "Aucune réponse enregistrée."),
    button
      ? h(
          "div",
          { class: "form-actions" },
          button,
          h("p", { class: "field-hint" }, "Crée un courrier sortant adressé à l'expéditeur, lié à celui-ci ; le valider traite ce courrier."),
        )
      : null,
  );
}

/** Today in the browser, YYYY-MM-DD (the most recent date an acknowledgement can bear). */
function today() {
  const now = new Date();
  const pad = (n) => String(n).padStart(2, "0");
  return `${now.getFullYear()}-${pad(now.getMonth() + 1)}-${pad(now.getDate())}`;
}

/** The "Accusé de réception" card, when the server lists it (only registered mail has one). */
export function acknowledgementSection(doc, reload) {
  if (!may(doc, "accuser_reception")) return null;
  const alert = formAlert("ack-error");
  const date = field({
    id: "ack-date",
    name: "date",
    label: doc.date_accuse_reception ? "Corriger la date de l'accusé de réception" : "Date de retour de l'accusé de réception",
    type: "date",
    required: true,
    value: doc.date_accuse_reception || today(),
    hint: "La date portée sur l'avis revenu signé ; pas après aujourd'hui.",
  });
  date.input.max = today();
  const errors = new FormErrors({ date }, alert);
  const submit = h("button", { type: "submit", class: "btn", id: "ack-submit" }, "Enregistrer l'accusé de réception");
  const form = h("form", { id: "ack-form", class: "upload-form", noValidate: true }, date.row, submit);
  onSubmit(form, submit, errors, async () => {
    const value = date.input.value;
    if (!value) return showMissing(errors, "date", "Indiquez la date de l'accusé de réception.");
    await api.request(`/api/documents/${encodeURIComponent(doc.id)}/accuse-reception`, { method: "POST", json: { date: value } });
    await reload(`Accusé de réception du ${formatDate(value)} enregistré.`);
  });
  return h(
    "section",
    { class: "card", "aria-labelledby": "ack-title", "data-testid": "ack-panel" },
    h("h2", { id: "ack-title" }, "Accusé de réception"),
    h(
      "p",
      { "data-testid": "ack-state" },
      doc.date_accuse_reception ? `Revenu le ${formatDate(doc.date_accuse_reception)}.` : "Pas encore enregistré.",
      doc.numero_recommande ? ` Recommandé n° ${doc.numero_recommande}.` : null,
    ),
    alert,
    form,
  );
}

/** The history lines of an acknowledgement, a validated reply, a merged correspondent. */
export function correspondenceHistoryLines(action, details) {
  if (action === "acknowledged") {
    const lines = [`Date : ${formatDate(details.date)}`];
    if (details.before) lines.push(`Remplace le ${formatDate(details.before)}`);
    return lines;
  }
  if (action === "answered") return details.reference ? [`Répond au courrier ${details.reference}`] : [];
  if (action === "contact_merged") {
    const roles = (details.roles || []).map((role) => (role === "expediteur" ? "expéditeur" : role)).join(", ");
    return [`« ${details.from || "?"} » → « ${details.into || "?"} »`, roles ? `Rôle : ${roles}` : null].filter(Boolean);
  }
  return [];
}
