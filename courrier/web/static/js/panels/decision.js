// The "Décision" card of a letter's screen: « Valider » and « Rejeter » (with its motif), each shown
// when the letter's `actions` (the server's rules) list it; each asks for a confirmation first.

import * as api from "../api.js";
import { h } from "../dom.js";
import { field, FormErrors, formAlert, attempt, onSubmit, confirmStep, showMissing } from "../forms.js";
import { may } from "../components.js";

/** The "Décision" card, or null when the caller may neither validate nor reject the letter. */
export function decisionPanel(doc, reload) {
  if (!may(doc, "valider") && !may(doc, "rejeter")) return null;
  const base = `/api/documents/${encodeURIComponent(doc.id)}`;
  const alert = formAlert("decision-error");
  const errors = new FormErrors({}, alert);

  const validateButton = h("button", { type: "button", class: "btn btn-success", id: "validate-button" }, "Valider");
  const rejectButton = h("button", { type: "button", class: "btn btn-danger", id: "reject-button" }, "Rejeter");

  const validate = confirmStep({
    id: "validate-panel",
    tag: "div",
    body: h("p", {}, "Valider ce courrier ? Cette décision est définitive."),
    confirmId: "validate-confirm",
    confirmText: "Confirmer la validation",
    confirmClass: "btn btn-success",
  });
  const motif = field({ id: "reject-motif", name: "motif", label: "Motif du rejet", type: "textarea", required: true, rows: 3 });
  const rejectErrors = new FormErrors({ motif }, alert);
  const reject = confirmStep({ id: "reject-form", body: motif.row, confirmId: "reject-confirm", confirmText: "Confirmer le rejet", confirmClass: "btn btn-danger" });

  const show = (step) => {
    validate.step.hidden = step !== validate.step;
    reject.step.hidden = step !== reject.step;
    errors.clear();
  };
  validateButton.addEventListener("click", () => {
    show(validate.step);
    validate.confirm.focus();
  });
  rejectButton.addEventListener("click", () => {
    show(reject.step);
    motif.input.focus();
  });
  validate.cancel.addEventListener("click", () => show(null));
  reject.cancel.addEventListener("click", () => show(null));

  validate.confirm.addEventListener("click", () =>
    attempt(validate.confirm, errors, async () => {
      await api.request(`${base}/validate`, { method: "POST" });
      await reload("Courrier validé.");
    }),
  );
  onSubmit(reject.step, reject.confirm, rejectErrors, async () => {
    const text = motif.input.value.trim();
    if (!text) return showMissing(rejectErrors, "motif", "Indiquez le motif du rejet.");
    await api.request(`${base}/reject`, { method: "POST", json: { motif: text } });
    await reload("Courrier rejeté.");
  });

  return h(
    "section",
    { class: "card decision", "aria-labelledby": "decision-title", "data-testid": "decision-panel" },
    h("h2", { id: "decision-title" }, "Décision"),
    alert,
    h("div", { class: "form-actions" }, may(doc, "valider") ? validateButton : null, may(doc, "rejeter") ? rejectButton : null),
    validate.step,
    reject.step,
  );
}
