// The "Pièces jointes" card of a letter's screen: the files, each shown in the viewer below the list
// (« Afficher ») or downloaded, with the state of its text (extracted, recognised by OCR…) and its searchable
// PDF when OCR made one; and, when the letter's `actions` (the server's rules) list "joindre", the upload form
// (PDF, PNG or JPEG).

import * as api from "../api.js";
import { h, label, formatDateTime, formatSize, personName } from "../dom.js";
import { field, FormErrors, formAlert, attempt, onSubmit, showMissing } from "../forms.js";
import { may } from "../components.js";
import { attachmentViewer, viewKind } from "./viewer.js";

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

/** The state of the attachment's text, in words (`texte: {etat, motif}`), or null when the server says nothing. */
export function texteState(attachment) {
  const etat = attachment.texte?.etat;
  if (!etat) return null;
  const motif = attachment.texte.motif && etat !== "indisponible" ? ` : ${attachment.texte.motif}` : "";
  return h("span", { class: `attachment-texte texte-${etat}`, "data-testid": "attachment-texte", "data-etat": etat }, `${label("texte", etat)}${motif}`);
}

/** The searchable PDF that OCR made beside the file (its URL), or null. */
const searchablePdf = (attachment) => attachment.ocr || null;

/**
 * One attachment: its name, type, size, who added it and when, the state of its text, « Afficher » (in the
 * viewer), « Télécharger », its searchable PDF, and — folded, for whoever checks a copy — its SHA-256 fingerprint.
 */
function attachmentItem(attachment, base, errors, viewer) {
  const url = `${base}/${encodeURIComponent(attachment.id)}`;
  const hidden = (text) => h("span", { class: "visually-hidden" }, ` ${text}`);
  const download = h("button", { type: "button", class: "btn btn-secondary btn-small", "data-testid": "attachment-download" }, "Télécharger", hidden(attachment.filename));
  download.addEventListener("click", () => attempt(download, errors, () => api.download(url, attachment.filename)));
  const ocr = searchablePdf(attachment);
  // A scan is shown through its searchable PDF when OCR made one: the same pages, with their text readable
  // under the picture (and a TIFF, which the browser cannot draw, shown at all); « Télécharger » keeps the original.
  const viewUrl = ocr || (viewKind(attachment) ? url : null);
  let show = null;
  if (viewUrl) {
    show = h("button", { type: "button", class: "btn btn-small", "data-testid": "attachment-show", "aria-controls": viewer.element.id }, "Afficher", hidden(attachment.filename));
    show.addEventListener("click", () => {
      viewer.show(attachment, viewUrl).then(() => viewer.element.scrollIntoView({ block: "nearest" }));
    });
  }
  let searchable = null;
  if (ocr) {
    const name = `${attachment.filename.replace(/\.[^.]*$/, "")}-texte.pdf`;
    searchable = h("button", { type: "button", class: "btn btn-secondary btn-small", "data-testid": "attachment-ocr" }, "PDF cherchable", hidden(attachment.filename));
    searchable.addEventListener("click", () => attempt(searchable, errors, () => api.download(ocr, name)));
  }
  return h(
    "li",
    { class: "attachment", "data-testid": "attachment", "data-id": attachment.id },
    h(
      "div",
      { class: "attachment-text" },
      h("span", { class: "attachment-name", "data-testid": "attachment-name" }, attachment.filename),
      h("span", { class: "attachment-facts muted", "data-testid": "attachment-facts" }, attachmentFacts(attachment)),
      texteState(attachment),
      attachment.sha256
        ? h(
            "details",
            { class: "attachment-fingerprint" },
            h("summary", {}, "Empreinte SHA-256"),
            h("code", { "data-testid": "attachment-sha256" }, attachment.sha256),
          )
        : null,
    ),
    h("div", { class: "attachment-buttons" }, show, download, searchable),
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

/**
 * The "Pièces jointes" card of `doc`, listing `attachments`, with the viewer. `showFirst`: open the first file
 * that can be shown at once (the qualify screen, where the file is what the office reads).
 */
export function attachmentsSection(doc, attachments, reload, { showFirst = false } = {}) {
  const base = `/api/documents/${encodeURIComponent(doc.id)}/attachments`;
  const alert = formAlert("attachment-error");
  const downloadErrors = new FormErrors({}, alert);
  const viewer = attachmentViewer();
  const section = h(
    "section",
    { class: "card attachments-card", "aria-labelledby": "attachments-title" },
    h("h2", { id: "attachments-title" }, "Pièces jointes"),
    alert,
    attachments.length
      ? h("ul", { class: "attachments", "data-testid": "attachments" }, attachments.map((attachment) => attachmentItem(attachment, base, downloadErrors, viewer)))
      : h("p", { class: "empty" }, "Aucune pièce jointe."),
    viewer.element,
    may(doc, "joindre") ? uploadForm(base, alert, reload) : null,
  );
  if (showFirst) {
    // A scan (PDF, image) rather than the e-mail that brought it: the office reads the letter first.
    const order = ["pdf", "image", "email", "text"];
    const first = attachments
      .map((attachment) => ({ attachment, kind: viewKind(attachment) || (searchablePdf(attachment) ? "pdf" : null) }))
      .filter(({ kind }) => kind)
      .sort((a, b) => order.indexOf(a.kind) - order.indexOf(b.kind))[0];
    if (first) {
      const url = searchablePdf(first.attachment) || `${base}/${encodeURIComponent(first.attachment.id)}`;
      viewer.show(first.attachment, url);
    }
  }
  return section;
}
