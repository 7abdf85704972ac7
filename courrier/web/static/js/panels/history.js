// The "Historique" card of a letter's screen: its events, each with the lines worth reading in its
// `details`, in French (the routing, treatment and correspondence panels give theirs).

import { h, label, formatDate, formatDateTime, formatSize, personName } from "../dom.js";
import { routingHistoryLines } from "./routing.js";
import { treatmentHistoryLines } from "./treatment.js";
import { correspondenceHistoryLines } from "./correspondence.js";

const FIELD_LABELS = {
  objet: "Objet",
  expediteur: "Expéditeur",
  destinataire: "Destinataire",
  date_courrier: "Date du courrier",
  date_reception: "Date de réception",
  priorite: "Priorité",
  description: "Description",
  typologie_id: "Typologie",
  echeance: "Échéance",
  expediteur_id: "Correspondant expéditeur",
  destinataire_id: "Correspondant destinataire",
  nature: "Nature",
  numero_recommande: "N° de recommandé",
};

function shown(value) {
  if (value === null || value === undefined || value === "") return "(vide)";
  return typeof value === "object" ? JSON.stringify(value) : String(value);
}

/** "CODE — Nom" of a typologie id of a history entry, from the typologies read with the letter. */
function typologieShown(id, typologies) {
  if (!id) return "aucune";
  const found = typologies.find((typologie) => typologie.id === id);
  return found ? `${found.code} — ${found.nom}` : String(id);
}

/** The lines worth reading in a history entry's `details`, in French. */
function historyLines(action, details, typologies = []) {
  if (!details || typeof details !== "object") return details ? [String(details)] : [];
  if (action === "updated" && details.changes && typeof details.changes === "object") {
    return Object.entries(details.changes).map(([name, change]) => {
      const fieldLabel = FIELD_LABELS[name] || name;
      if (name === "priorite" || name === "nature") return `${fieldLabel} : ${label(name, change?.before)} → ${label(name, change?.after)}`;
      if (name === "expediteur_id" || name === "destinataire_id") return `${fieldLabel} : ${change?.after ? "lié à une fiche de l'annuaire" : "détaché de l'annuaire"}`;
      if (name === "typologie_id") return `${fieldLabel} : ${typologieShown(change?.before, typologies)} → ${typologieShown(change?.after, typologies)}`;
      if (name.startsWith("date_") || name === "echeance") return `${fieldLabel} : ${formatDate(change?.before)} → ${formatDate(change?.after)}`;
      return `${fieldLabel} : « ${shown(change?.before)} » → « ${shown(change?.after)} »`;
    });
  }
  if ((action === "rejected" || action === "set_aside") && details.motif) return [`Motif : ${details.motif}`];
  if (action === "qualified" && details.reference) return [`Référence : ${details.reference}`];
  if (action === "captured") {
    const origins = { courriel: "Reçu par courriel", numerisation: "Numérisé" };
    return [origins[details.origine] || "Capturé", details.fichier ? `Fichier : ${details.fichier}` : null].filter(Boolean);
  }
  if (action === "assigned") return routingHistoryLines(details);
  if (["taken_in_charge", "treated", "reopened"].includes(action)) return treatmentHistoryLines(action, details);
  if (["acknowledged", "answered", "contact_merged"].includes(action)) return correspondenceHistoryLines(action, details);
  if (action === "attachment_added" && details.filename) {
    return [`${details.filename}${typeof details.size === "number" ? ` (${formatSize(details.size)})` : ""}`];
  }
  if (["created", "validated", "rejected", "attachment_added"].includes(action)) return [];
  return Object.entries(details).map(([key, value]) => `${key} : ${shown(value)}`);
}

function historyDetails(action, details, typologies) {
  const lines = historyLines(action, details, typologies);
  return lines.length ? h("ul", { class: "history-details" }, lines.map((line) => h("li", {}, line))) : null;
}

/** The "Historique" card: `events` (GET …/history), the typologies naming a changed typologie. */
export function historySection(events, typologies) {
  return h(
    "section",
    { class: "card", "aria-labelledby": "history-title" },
    h("h2", { id: "history-title" }, "Historique"),
    events.length
      ? h(
          "ol",
          { class: "timeline", "data-testid": "history" },
          events.map((event) =>
            h(
              "li",
              { "data-testid": "history-item", "data-action": event.action },
              h("time", { datetime: event.at }, formatDateTime(event.at)),
              h("strong", {}, label("action", event.action)),
              event.actor ? h("span", { class: "muted" }, ` — ${personName(event.actor)}`) : null,
              historyDetails(event.action, event.details, typologies),
            ),
          ),
        )
      : h("p", { class: "empty" }, "Aucun événement."),
  );
}
