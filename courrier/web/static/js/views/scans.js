// « Numériser / déposer »: the mail office drops (or chooses) several scans at once; each file becomes a draft
// « À qualifier » (POST /api/numerisations, multipart, one `file` part per file), sent to OCR by the
// server; the drafts made are listed, each a link to its qualify screen.

import * as api from "../api.js";
import { h, replace, formatSize } from "../dom.js";
import { field, formOf, onSubmit, showMissing } from "../forms.js";
import { pageHeader, linkButton, docHref } from "../components.js";

const ACCEPT = ".pdf,.png,.jpg,.jpeg,.tif,.tiff,application/pdf,image/png,image/jpeg,image/tiff";

/** The list of the files chosen (name and size), said to screen readers when it changes. */
function chosenList(files) {
  if (!files.length) return h("p", { class: "muted" }, "Aucun fichier choisi.");
  return h(
    "ul",
    { class: "scan-files", "data-testid": "scan-files" },
    files.map((file) => h("li", {}, `${file.name} (${formatSize(file.size)})`)),
  );
}

/** The drafts made: each one's objet, a link to its qualify screen. */
function madeList(drafts) {
  return h(
    "section",
    { class: "card", "aria-labelledby": "scan-made-title", "data-testid": "scan-made" },
    h("h2", { id: "scan-made-title" }, drafts.length > 1 ? `${drafts.length} courriers à qualifier créés` : "1 courrier à qualifier créé"),
    h(
      "ul",
      { class: "scan-drafts" },
      drafts.map((doc) => h("li", {}, h("a", { href: docHref(doc), "data-testid": "scan-draft", "data-id": doc.id }, doc.objet || "Courrier numérisé"))),
    ),
    h("p", {}, "Leur texte est reconnu en arrière-plan : la recherche les trouvera dans quelques instants."),
  );
}

export async function scansView() {
  const input = field({
    id: "scan-files-input",
    name: "file",
    label: "Fichiers numérisés (PDF, PNG, JPEG ou TIFF ; plusieurs à la fois)",
    type: "file",
    accept: ACCEPT,
    hint: "Un courrier à qualifier est créé par fichier.",
    testid: "scan-input",
  });
  input.input.multiple = true;
  let files = [];
  const chosen = h("div", { class: "scan-chosen", "aria-live": "polite", "data-testid": "scan-chosen" }, chosenList(files));
  const results = h("div", { "data-testid": "scan-results" });
  const choose = (list) => {
    files = [...list];
    replace(chosen, chosenList(files));
  };
  input.input.addEventListener("change", () => choose(input.input.files));

  // Dropping files anywhere on the zone is the same as choosing them (the input stays the keyboard's way).
  const zone = h("div", { class: "drop-zone", "data-testid": "scan-drop-zone" }, input.row, h("p", { class: "drop-zone-text muted", "aria-hidden": "true" }, "… ou déposez les fichiers ici."), chosen);
  zone.addEventListener("dragover", (event) => {
    event.preventDefault();
    zone.classList.add("drop-zone-active");
  });
  zone.addEventListener("dragleave", () => zone.classList.remove("drop-zone-active"));
  zone.addEventListener("drop", (event) => {
    event.preventDefault();
    zone.classList.remove("drop-zone-active");
    if (event.dataTransfer?.files?.length) choose(event.dataTransfer.files);
  });

  const submit = h("button", { type: "submit", class: "btn", id: "scan-submit" }, "Déposer");
  const { form, errors } = formOf({ id: "scan-form", className: "card", alertId: "scan-error", fields: {}, aliases: { file: input }, buttons: [zone, h("div", { class: "form-actions" }, submit)] });
  onSubmit(form, submit, errors, async () => {
    if (!files.length) return showMissing(errors, "file", "Choisissez ou déposez au moins un fichier.");
    const body = new FormData();
    for (const file of files) body.append("file", file);
    const payload = await api.request("/api/numerisations", { method: "POST", form: body });
    replace(results, madeList(payload.data || []));
    choose([]);
    input.input.value = "";
    results.querySelector("h2")?.setAttribute("tabindex", "-1");
    results.querySelector("h2")?.focus();
  });

  return h(
    "section",
    { class: "page page-narrow", "data-testid": "scans-page" },
    pageHeader("Numériser / déposer", linkButton("#/documents?bannette=a_qualifier", "Courriers à qualifier", { class: "btn btn-secondary" })),
    h("p", { class: "muted" }, "Déposez les courriers numérisés : chacun devient un courrier « À qualifier », dont le texte est reconnu pour la recherche."),
    form,
    results,
  );
}
