// The export of the chronological register: every letter of one type and period, in
// reference order, as a CSV file (for a spreadsheet) or a PDF (to print, for the archives). Offered
// when the register list's `meta.actions` says "exporter_registre" (the server's rule).

import * as api from "../api.js";
import { h, LABELS } from "../dom.js";
import { field, FormErrors, formAlert, attempt } from "../forms.js";

/** The "Exporter le registre" panel: type, period, then CSV or PDF (the file the server names). */
export function registerExportPanel() {
  const alert = formAlert("register-export-error");
  const type = field({ id: "register-type", name: "type", label: "Registre", type: "select", value: "entrant", options: Object.entries(LABELS.type).map(([value, text]) => [value, `${text}s`]) });
  const from = field({ id: "register-date-from", name: "date_from", label: "Du", type: "date" });
  const to = field({ id: "register-date-to", name: "date_to", label: "Au", type: "date", hint: "Sans dates : l'année en cours." });
  const errors = new FormErrors({ type, date_from: from, date_to: to }, alert);
  const status = h("p", { class: "visually-hidden", "aria-live": "polite", id: "register-export-status" });

  /** « Exporter en CSV » / « en PDF »: the register of the chosen type and period in that format. */
  const exportButton = (format) => {
    const button = h("button", { type: "button", class: "btn btn-secondary", id: `register-export-${format}`, "data-testid": `register-export-${format}` }, `Exporter en ${format.toUpperCase()}`);
    const onError = () => {
      status.textContent = "";
    };
    button.addEventListener("click", () =>
      attempt(button, errors, async () => {
        status.textContent = `Préparation du registre en ${format.toUpperCase()}…`;
        await api.download("/api/registre", null, {
          query: { type: type.input.value, date_from: from.input.value, date_to: to.input.value, format },
        });
        status.textContent = `Registre en ${format.toUpperCase()} téléchargé.`;
      }, { onError }),
    );
    return button;
  };
  const csv = exportButton("csv");
  const pdf = exportButton("pdf");

  const form = h(
    "form",
    { class: "export-form", id: "register-export-form", noValidate: true },
    type.row,
    from.row,
    to.row,
    h("div", { class: "form-actions" }, csv, pdf),
  );
  form.addEventListener("submit", (event) => event.preventDefault()); // Enter does not pick a format
  return h(
    "details",
    { class: "card register-export", id: "register-export", "data-testid": "register-export" },
    h("summary", { id: "register-export-summary" }, h("h2", { class: "inline-heading" }, "Exporter le registre chronologique")),
    h(
      "p",
      { class: "muted" },
      "Tous les courriers du type choisi enregistrés pendant la période, dans l'ordre des références : CSV pour un tableur, PDF à imprimer ou archiver.",
    ),
    alert,
    form,
    status,
  );
}
