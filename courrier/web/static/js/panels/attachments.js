// The "Pièces jointes" card of a letter's screen: the files (each downloadable) and, when the letter's
// `actions` (the server's rules) list "joindre", the upload form (PDF, PNG or JPEG).

import * as api from "../api.js";
import { h, label, formatSize } from "../dom.js";
import { field, FormErrors, formAlert, attempt, onSubmit, showMissing } from "../forms.js";
import { may } from "../components.js";

/** One attachment: its name, type, size, the start of its SHA-256, and « Télécharger ». */
function attachmentItem(attachment, base, errors) {
  const button = h("button", { type: "button", class: "btn btn-secondary btn-small", "data-testid": "attachment-download" }, "Télécharger");
  button.addEventListener("click", () =>
    attempt(button, errors, () => api.download(`${base}/${encodeURIComponent(attachment.id)}`, attachment.filename)),
  );
  return h(
    "li",
    { "data-testid": "attachment", "data-id": attachment.id },
    h("span", { class: "attachment-name", "data-testid": "attachment-name" }, attachment.filename),
    h("span", { class: "muted" }, ` ${label("mime", attachment.content_type)} · ${formatSize(attachment.size)}`),
    attachment.sha256 ? h("code", { class: "sha", title: `SHA-256 ${attachment.sha256}` }, attachment.sha256.slice(0, 12)) : null,
    button,
  );
}

/** The upload form; `errors` show under the file input or in the card's `alert`. */
function uploadForm(base, alert, reload) {
  const fileField = field({
    id: "attachment-file",
    name: "file",
    label: "Ajouter une pièce jointe (PDF, PNG ou JPEG)",
    type: "file",
    accept: ".pdf,.png,.jpg,.jpeg,application/pdf,image/png,image/jpeg",
  });
  const errors = new FormErrors({ file: fileField }, alert);
  const submit = h("button", { type: "submit", class: "btn", id: "attachment-submit" }, "Téléverser");
  const upload = h("form", { id: "attachment-form", class: "upload-form", noValidate: true }, fileField.row, submit);
  onSubmit(upload, submit, errors, async () => {
    const file = fileField.input.files[0];
    if (!file) return showMissing(errors, "file", "Choisissez un fichier.");
    const form = new FormData();
    form.append("file", file);
    await api.request(base, { method: "POST", form });
    await reload("Pièce jointe ajoutée.");
  });
  return upload;
}

/** The "Pièces jointes" card of `doc`, listing `attachments`. */
export function attachmentsSection(doc, attachments, reload) {
  const base = `/api/documents/${encodeURIComponent(doc.id)}/attachments`;
  const alert = formAlert("attachment-error");
  const downloadErrors = new FormErrors({}, alert);
  return h(
    "section",
    { class: "card", "aria-labelledby": "attachments-title" },
    h("h2", { id: "attachments-title" }, "Pièces jointes"),
    alert,
    attachments.length
      ? h("ul", { class: "attachments", "data-testid": "attachments" }, attachments.map((attachment) => attachmentItem(attachment, base, downloadErrors)))
      : h("p", { class: "empty" }, "Aucune pièce jointe."),
    may(doc, "joindre") ? uploadForm(base, alert, reload) : null,
  );
}
