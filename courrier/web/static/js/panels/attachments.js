// The "Pièces jointes" card of a letter's screen: the files (each downloadable) and, when the letter's
// `actions` (the server's rules) list "joindre", the upload form (PDF, PNG or JPEG).

import * as api from "../api.js";
import { h, label, formatDateTime, formatSize, personName } from "../dom.js";
import { field, FormErrors, formAlert, attempt, onSubmit, showMissing } from "../forms.js";
import { may } from "../components.js";

/** "PDF · 245 Ko · ajoutée par Claire Martin le 07/12/2026 14:05": what a reader needs to tell two files apart. */
function attachmentFacts(attachment) {
  const added = attachment.uploaded_by ? `ajoutée par ${personName(attachment.uploaded_by)}` : "ajoutée";
  return [
    label("mime", attachment.content_type),
    formatSize(attachment.size),
    attachment.created_at ? `${added} le ${formatDateTime(attachment.created_at)}` : null,
  ]
    .filter(Boolean)
    .join(" · ");
}

/**
 * One attachment: its name, type, size, who added it and when, « Télécharger », and — folded, for whoever
 * checks a copy — its full SHA-256 fingerprint.
 */
function attachmentItem(attachment, base, errors) {
  const button = h("button", { type: "button", class: "btn btn-secondary btn-small", "data-testid": "attachment-download" }, "Télécharger", h("span", { class: "visually-hidden" }, ` ${attachment.filename}`));
  button.addEventListener("click", () =>
    attempt(button, errors, () => api.download(`${base}/${encodeURIComponent(attachment.id)}`, attachment.filename)),
  );
  return h(
    "li",
    { class: "attachment", "data-testid": "attachment", "data-id": attachment.id },
    h(
      "div",
      { class: "attachment-text" },
      h("span", { class: "attachment-name", "data-testid": "attachment-name" }, attachment.filename),
      h("span", { class: "attachment-facts muted", "data-testid": "attachment-facts" }, attachmentFacts(attachment)),
      attachment.sha256
        ? h(
            "details",
            { class: "attachment-fingerprint" },
            h("summary", {}, "Empreinte SHA-256"),
            h("code", { "data-testid": "attachment-sha256" }, attachment.sha256),
          )
        : null,
    ),
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
