// The treatment of a letter: its deadline badge, its typologie, the treatment rows of
// the detail list, the "Traitement" panel (take in charge, mark treated, reopen) and the history
// lines of those steps. A button is shown when the letter's `actions` (the server's rules) list its
// step; a refusal (a change made meanwhile) is shown with the server's message.

import * as api from "../api.js";
import { h, label, formatDate, formatDateTime, personName } from "../dom.js";
import { field, FormErrors, formAlert, attempt, onSubmit, confirmStep, showMissing } from "../forms.js";
import { may } from "../components.js";

/** "Silence vaut acceptation", "Silence vaut rejet", or null for a normal letter. */
export function silenceModeOf(doc) {
  const mode = doc.traitement?.mode || doc.typologie?.mode;
  return mode === "sva" || mode === "svr" ? mode : null;
}

// The words of each state: in full on a letter's screen, the state word alone in a column headed « Échéance ».
const DEADLINE_WORDS = {
  late: { icon: "⚠ ", full: "En retard — échéance le ", short: "En retard" },
  soon: { icon: "⏱ ", full: "Échéance proche — le ", short: "Proche" },
  done: { icon: null, full: "Traité — échéance le ", short: "Traité" },
  ok: { icon: null, full: "Échéance le ", short: null },
};

/**
 * The deadline of a letter as a badge that says it in words (never by its colour alone). In a table
 * (the default) the column's header says « Échéance »: "⚠ En retard · 12/03/2026", "12/03/2026".
 * With `full` (a letter's screen): "En retard — échéance le …", "Échéance proche — le …", "Échéance le …".
 */
export function deadlineBadge(doc, testid = null, { full = false } = {}) {
  const traitement = doc.traitement || {};
  if (!traitement.echeance) return h("span", { class: "muted", "data-testid": testid }, "—");
  const state = traitement.en_retard ? "late" : traitement.bientot_en_retard ? "soon" : traitement.etat === "traite" ? "done" : "ok";
  const words = DEADLINE_WORDS[state];
  const text = full ? words.full : words.short ? `${words.short} · ` : null;
  return h(
    "span",
    { class: ["badge badge-deadline", state === "ok" ? "" : `badge-deadline-${state}`], "data-testid": testid, "data-state": state },
    words.icon ? h("span", { "aria-hidden": "true" }, words.icon) : null,
    text,
    h("time", { datetime: traitement.echeance }, formatDate(traitement.echeance)),
  );
}

/** The treatment state as a badge ("À traiter", "En cours", "Traité"), or null when there is none. */
export function etatBadge(etat, testid = null) {
  if (!etat) return null;
  return h("span", { class: `badge badge-etat-${etat}`, "data-testid": testid }, label("etat", etat));
}

/** "CODE — Nom (30 jours ouvrés)" for a typologie summary. */
export function typologieName(typologie, none = "—") {
  if (!typologie) return none;
  const days = `${typologie.delai_jours} jour${typologie.delai_jours > 1 ? "s" : ""} ouvré${typologie.delai_jours > 1 ? "s" : ""}`;
  const mode = typologie.mode && typologie.mode !== "normal" ? `, ${label("mode", typologie.mode).toLowerCase()}` : "";
  return `${typologie.code} — ${typologie.nom} (${days}${mode})`;
}

/** The prominent sentence of a sva/svr letter: what the silence of the administration will mean. */
export function silenceNotice(doc) {
  const mode = silenceModeOf(doc);
  const sentence = doc.traitement?.silence;
  if (!mode || !sentence) return null;
  return h(
    "p",
    { class: `alert alert-silence alert-silence-${mode}`, "data-testid": "detail-silence" },
    h("strong", {}, sentence),
    doc.traitement?.echeance ? ` Échéance : le ${formatDate(doc.traitement.echeance)}.` : null,
  );
}

/** The treatment rows of the detail list: typologie, deadline, state, treated by/at, comment. */
export function treatmentDetails(doc, item) {
  const traitement = doc.traitement || {};
  return [
    item("Typologie", typologieName(doc.typologie, "Aucune (délai de la priorité)"), "detail-typologie"),
    item("Échéance", deadlineBadge(doc, null, { full: true }), "detail-echeance"),
    item("Traitement", traitement.etat ? etatBadge(traitement.etat) : h("span", { class: "muted" }, "Pas encore à traiter"), "detail-traitement"),
    traitement.traite_at || traitement.traite_par
      ? item("Traité par", `${personName(traitement.traite_par)}, le ${formatDateTime(traitement.traite_at)}`, "detail-traite-par")
      : null,
    traitement.commentaire ? item("Commentaire de traitement", h("span", { class: "pre-wrap" }, traitement.commentaire), "detail-commentaire") : null,
  ];
}

// ---------------------------------------------------------------- the panel

/** The "Traitement" card of the letter detail, or null when this user has no step to take. */
export function treatmentPanel(doc, reload) {
  const etat = doc.traitement?.etat;
  const canTake = may(doc, "prendre_en_charge");
  const canFinish = may(doc, "traiter");
  const canOpen = may(doc, "rouvrir");
  if (!canTake && !canFinish && !canOpen) return null;

  const base = `/api/documents/${encodeURIComponent(doc.id)}`;
  const alert = formAlert("treatment-error");
  const errors = new FormErrors({}, alert);

  const takeButton = canTake ? h("button", { type: "button", class: "btn", id: "take-button" }, "Prendre en charge") : null;
  const treatButton = canFinish ? h("button", { type: "button", class: "btn btn-success", id: "treat-button" }, "Marquer traité") : null;
  const reopenButton = canOpen ? h("button", { type: "button", class: "btn btn-secondary", id: "reopen-button" }, "Rouvrir") : null;

  const commentaire = field({
    id: "treat-commentaire",
    name: "commentaire",
    label: "Commentaire (facultatif)",
    type: "textarea",
    rows: 3,
    maxlength: 5000,
    hint: "Par exemple la réponse apportée ou la référence du courrier de réponse.",
  });
  const treatErrors = new FormErrors({ commentaire }, alert);
  const treat = confirmStep({ id: "treat-form", body: commentaire.row, confirmId: "treat-confirm", confirmText: "Confirmer le traitement", confirmClass: "btn btn-success" });

  const motif = field({ id: "reopen-motif", name: "motif", label: "Motif de la réouverture", type: "textarea", required: true, rows: 3, maxlength: 2000 });
  const reopenErrors = new FormErrors({ motif }, alert);
  const reopen = confirmStep({ id: "reopen-form", body: motif.row, confirmId: "reopen-confirm", confirmText: "Confirmer la réouverture" });

  const show = (step) => {
    treat.step.hidden = step !== treat.step;
    reopen.step.hidden = step !== reopen.step;
    errors.clear();
    treatErrors.clear();
    reopenErrors.clear();
  };
  // Each step opens from its button, its field focused; « Annuler » closes it and goes back to the button.
  for (const [button, step, input] of [[treatButton, treat, commentaire.input], [reopenButton, reopen, motif.input]]) {
    button?.addEventListener("click", () => {
      show(step.step);
      input.focus();
    });
    step.cancel.addEventListener("click", () => {
      show(null);
      button?.focus();
    });
  }

  takeButton?.addEventListener("click", () =>
    attempt(takeButton, errors, async () => {
      show(null);
      await api.request(`${base}/prendre-en-charge`, { method: "POST" });
      await reload("Courrier pris en charge.");
    }),
  );
  onSubmit(treat.step, treat.confirm, treatErrors, async () => {
    const text = commentaire.input.value.trim();
    await api.request(`${base}/traiter`, { method: "POST", json: text ? { commentaire: text } : {} });
    await reload("Courrier traité.");
  });
  onSubmit(reopen.step, reopen.confirm, reopenErrors, async () => {
    const text = motif.input.value.trim();
    if (!text) return showMissing(reopenErrors, "motif", "Indiquez le motif de la réouverture.");
    await api.request(`${base}/rouvrir`, { method: "POST", json: { motif: text } });
    await reload("Courrier rouvert : il est de nouveau à traiter.");
  });

  return h(
    "section",
    { class: "card treatment", "aria-labelledby": "treatment-title", "data-testid": "treatment-panel" },
    h("h2", { id: "treatment-title" }, "Traitement"),
    h(
      "p",
      { class: "treatment-state" },
      etatBadge(etat, "treatment-etat"),
      " ",
      deadlineBadge(doc, "treatment-echeance", { full: true }),
    ),
    alert,
    h("div", { class: "form-actions" }, takeButton, treatButton, reopenButton),
    treat.step,
    reopen.step,
  );
}

// ---------------------------------------------------------------- history

/** The lines of a treatment step's history entry: "État : À traiter → En cours", "Commentaire : …". */
export function treatmentHistoryLines(action, details) {
  const lines = [];
  // A letter closed by its reply's validation had no `from` recorded before: its state alone, not « — → ».
  if (details.from) lines.push(`État : ${label("etat", details.from)} → ${label("etat", details.to)}`);
  else if (details.to) lines.push(`État : ${label("etat", details.to)}`);
  if (action === "taken_in_charge" && details.responsable_id) lines.push("Devient responsable du courrier");
  if (action === "treated" && details.reponse) lines.push(`Par la validation de la réponse ${details.reponse}`);
  if (details.commentaire) lines.push(`Commentaire : ${details.commentaire}`);
  if (details.motif) lines.push(`Motif : ${details.motif}`);
  return lines;
}
