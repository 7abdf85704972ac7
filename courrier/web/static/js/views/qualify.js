// A draft's screen (statut a_qualifier: a message captured from the mailbox, a scan dropped by the mail office):
// its files in the viewer beside the letter's form, prefilled from what the capture read, with « Enregistrer au
// registre » (POST /qualifier: the letter gets its reference) and « Écarter » (POST /ecarter {motif}: spam,
// duplicate), each offered when the letter's `actions` (the server's rules) list it.

import * as api from "../api.js";
import { h, label, formatDateTime } from "../dom.js";
import { field, formOf, onSubmit, showMissing, withoutEmpty } from "../forms.js";
import { pageHeader, linkButton, may } from "../components.js";
import { loadServices, loadTypologies } from "../lookups.js";
import { registrationRoutingFields } from "../panels/routing.js";
import { letterForm } from "../panels/letter-fields.js";
import { attachmentsSection } from "../panels/attachments.js";

const QUEUE = "#/documents?bannette=a_qualifier";
const OPTIONAL = ["date_courrier", "date_reception", "description", "typologie_id", "numero_recommande", "expediteur_id", "destinataire_id"];

/** The proposed correspondent's words (`expediteur_propose`: a name and an address, or a text), or null. */
function proposedSender(doc) {
  const proposed = doc.expediteur_propose;
  if (!proposed) return null;
  if (typeof proposed === "string") return proposed;
  const name = proposed.nom || [proposed.prenom, proposed.nom].filter(Boolean).join(" ") || proposed.organisation || "";
  return [name, proposed.email ? `<${proposed.email}>` : ""].filter(Boolean).join(" ") || null;
}

/** « Écarter »: a motif, confirmed, then back to the queue. */
function discardPanel(doc, { navigate, flash }) {
  const motif = field({ id: "discard-motif", name: "motif", label: "Motif (courriel indésirable, doublon…)", required: true, maxlength: 500, testid: "discard-motif" });
  const confirm = h("button", { type: "submit", class: "btn btn-danger", id: "discard-confirm" }, "Écarter ce courrier");
  const cancel = h("button", { type: "button", class: "btn btn-secondary", id: "discard-cancel" }, "Annuler");
  const { form, errors } = formOf({ id: "discard-form", className: "confirm-panel", alertId: "discard-error", fields: { motif }, buttons: [confirm, cancel], actionsRow: true, attrs: { hidden: true } });
  const open = h("button", { type: "button", class: "btn btn-secondary", id: "discard-button", "aria-expanded": "false", "aria-controls": "discard-form" }, "Écarter");
  const toggle = (shown) => {
    form.hidden = !shown;
    open.setAttribute("aria-expanded", String(shown));
    (shown ? motif.input : open).focus();
  };
  open.addEventListener("click", () => toggle(form.hidden));
  cancel.addEventListener("click", () => toggle(false));
  onSubmit(form, confirm, errors, async () => {
    const text = motif.input.value.trim();
    if (!text) return showMissing(errors, "motif", "Dites pourquoi ce courrier est écarté.");
    await api.request(`/api/documents/${encodeURIComponent(doc.id)}/ecarter`, { method: "POST", json: { motif: text } });
    flash(`Courrier « ${doc.objet} » écarté.`);
    navigate("/documents?bannette=a_qualifier");
  });
  return { open, form };
}

export async function qualifyView(context) {
  const { params: [id], navigate, flash, isCurrent } = context;
  const base = `/api/documents/${encodeURIComponent(id)}`;
  let doc;
  try {
    doc = (await api.request(base)).data;
  } catch (err) {
    if (err.status !== 404) throw err;
    return h("section", { class: "page" }, pageHeader("Courrier introuvable"), h("p", {}, "Ce courrier n'existe pas ou vous n'y avez pas accès."), linkButton(QUEUE, "← Courriers à qualifier"));
  }
  if (doc.statut !== "a_qualifier") {
    return h(
      "section",
      { class: "page", "data-testid": "qualify-page" },
      pageHeader(doc.objet),
      h("p", { class: "alert alert-success", "data-testid": "qualify-done" }, doc.reference ? `Ce courrier est déjà enregistré sous la référence ${doc.reference}.` : `Ce courrier est ${label("statut", doc.statut).toLowerCase()}.`),
      linkButton(`#/documents/${encodeURIComponent(doc.id)}`, "Voir le courrier"),
    );
  }
  const [attachments, services, typologies] = await Promise.all([
    api.request(`${base}/attachments`).then((payload) => payload.data || []),
    may(doc, "qualifier") ? loadServices() : [],
    may(doc, "qualifier") ? loadTypologies({ is_active: "true" }) : [],
  ]);
  if (!isCurrent()) return null;

  const reload = async (message) => {
    flash(message);
    navigate(`/documents/${encodeURIComponent(doc.id)}/qualifier`);
  };
  const proposed = proposedSender(doc);
  const discard = may(doc, "ecarter") ? discardPanel(doc, { navigate, flash }) : null;
  let form = null;
  if (may(doc, "qualifier")) {
    const prefilled = { ...doc, type: doc.type || "entrant", expediteur: doc.expediteur_contact ? doc.expediteur : doc.expediteur || proposed || "" };
    ({ form } = letterForm({
      doc: prefilled,
      typologies,
      prefilled: true,
      submitText: "Enregistrer au registre",
      buttons: discard ? [discard.open] : [],
      cancelHref: QUEUE,
      routing: services.length ? registrationRoutingFields(services) : null,
      send: async (values) => {
        const payload = await api.request(`${base}/qualifier`, { method: "POST", json: withoutEmpty(values, ...OPTIONAL) });
        flash(`Courrier enregistré au registre sous la référence ${payload.data.reference}.`);
        navigate(`/documents/${encodeURIComponent(payload.data.id)}`);
      },
    }));
    form.id = "qualify-form";
    form.setAttribute("aria-label", "Champs du courrier");
    form.querySelector("#document-submit").id = "qualify-submit";
  }

  return h(
    "section",
    { class: "page", "data-testid": "qualify-page" },
    pageHeader(`À qualifier — ${doc.objet || "sans objet"}`, linkButton(QUEUE, "← Courriers à qualifier", { class: "btn btn-secondary" })),
    h(
      "p",
      { class: "muted", "data-testid": "qualify-intro" },
      `Reçu le ${formatDateTime(doc.created_at)}. Vérifiez les champs d'après le document, puis enregistrez-le au registre : il reçoit alors sa référence.`,
    ),
    proposed && !doc.expediteur_contact
      ? h("p", { class: "alert alert-warning", "data-testid": "qualify-proposed" }, `Expéditeur inconnu de l'annuaire : ${proposed}. Choisissez-le ou créez-le avec le champ « Expéditeur ».`)
      : null,
    h(
      "div",
      { class: "qualify-grid" },
      h("div", { class: "qualify-files" }, attachmentsSection(doc, attachments, reload, { showFirst: true })),
      h(
        "div",
        { class: "qualify-form" },
        form || h("p", { class: "alert alert-error" }, "Vous ne pouvez pas qualifier ce courrier."),
        discard && !form ? discard.open : null,
        discard ? discard.form : null,
      ),
    ),
  );
}
