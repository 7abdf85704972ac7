// The export of the chronological register: every letter of one type and period, in reference order, as a
// CSV file (for a spreadsheet, downloaded at once) or a PDF (to print, for the archives: made in the
// background by a job, followed here until its file is ready). Offered when the register list's
// `meta.actions` says "exporter_registre" (the server's rule).

import * as api from "../api.js";
import { h, LABELS } from "../dom.js";
import { field, FormErrors, formAlert, attempt } from "../forms.js";
import { jobTracker } from "../job-tracker.js";

/** The "Exporter le registre" panel: type, period, then CSV (a download) or PDF (a job, then its file). */
export function registerExportPanel() {
  const alert = formAlert("register-export-error");
  const type = field({ id: "register-type", name: "type", label: "Registre", type: "select", value: "entrant", options: Object.entries(LABELS.type).map(([value, text]) => [value, `${text}s`]) });
  const from = field({ id: "register-date-from", name: "date_from", label: "Du", type: "date" });
  const to = field({ id: "register-date-to", name: "date_to", label: "Au", type: "date", hint: "Sans dates : l'année en cours." });
  const errors = new FormErrors({ type, date_from: from, date_to: to }, alert);
  const status = h("p", { class: "visually-hidden", "aria-live": "polite", id: "register-export-status" });
  const period = () => ({ type: type.input.value, date_from: from.input.value, date_to: to.input.value });

  const button = (format, text) => h("button", { type: "button", class: "btn btn-secondary", id: `register-export-${format}`, "data-testid": `register-export-${format}` }, text);

  const csv = button("csv", "Exporter en CSV");
  csv.addEventListener("click", () =>
    attempt(csv, errors, async () => {
      status.textContent = "Préparation du registre en CSV…";
      await api.download("/api/registre", null, { query: { ...period(), format: "csv" } });
      status.textContent = "Registre en CSV téléchargé.";
    }, { onError: () => { status.textContent = ""; } }),
  );

  const pdf = button("pdf", "Exporter en PDF");
  const job = jobTracker({
    id: "register-export-job",
    what: "Registre en PDF",
    downloadText: "Télécharger le PDF",
    onEnd: () => { pdf.disabled = false; },
  });
  pdf.addEventListener("click", () =>
    attempt(pdf, errors, async () => {
      const body = Object.fromEntries(Object.entries(period()).filter(([, value]) => value));
      const payload = await api.request("/api/registre/exports", { method: "POST", json: body });
      job.follow(payload.data);
    }).then(() => {
      // One PDF at a time: the button comes back when the job ends (attempt re-enabled it meanwhile).
      if (job.busy()) pdf.disabled = true;
    }),
  );

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
      "Tous les courriers du type choisi enregistrés pendant la période, dans l'ordre des références : CSV pour un tableur, PDF à imprimer ou archiver. Le PDF se prépare en arrière-plan : son état s'affiche ici, puis le bouton pour le télécharger.",
    ),
    alert,
    form,
    job.element,
    status,
  );
}
