// Creating a correspondent without leaving the form one is filling in: a modal dialog (<dialog>, so the
// focus stays in it and Escape closes it) with the few fields POST /api/contacts needs, prefilled with what
// was typed in the picker. A probable duplicate (409) offers the existing contact or « Créer quand même ».
// The dialog is appended to <body>: its own <form> is never nested in the letter's.

import * as api from "./api.js";
import { h, replace, LABELS } from "./dom.js";
import { field, FormErrors, formAlert, busy, valuesOf } from "./forms.js";

// The name each type of contact cannot do without (the server says so too, with a 422).
const NAME_OF_TYPE = { personne: "nom", organisation: "organisation" };
const ADDRESS = ["code_postal", "commune"];
// Rows only a person has (an organisation is known by its name alone).
const PERSON_ONLY = ["civilite", "nom", "prenom"];

function creationFields(idPrefix) {
  const text = (name, labelText, extra = {}) => field({ id: `${idPrefix}-${name.replace("_", "-")}`, name, label: labelText, maxlength: 255, autocomplete: "off", ...extra });
  return {
    type: field({ id: `${idPrefix}-type`, name: "type", label: "Type", type: "select", required: true, value: "personne", options: Object.entries(LABELS.contact_type) }),
    civilite: field({ id: `${idPrefix}-civilite`, name: "civilite", label: "Civilité", type: "select", value: "", options: [["", "—"], ...Object.entries(LABELS.civilite)] }),
    nom: text("nom", "Nom", { required: true }),
    prenom: text("prenom", "Prénom"),
    organisation: text("organisation", "Organisation", { required: true, hint: "Pour une personne : l'organisme où elle travaille (facultatif)." }),
    code_postal: text("code_postal", "Code postal", { maxlength: 20, inputmode: "numeric", hint: "5 chiffres en France ; avec la commune, il distingue deux homonymes." }),
    commune: text("commune", "Commune"),
  };
}

/** Follow the type: the required name, the rows of a person, and the typed text moved to the name that counts. */
function followType(fields, typed) {
  let previous = fields.type.input.value;
  const apply = () => {
    const type = fields.type.input.value;
    const isPerson = type === "personne";
    for (const name of PERSON_ONLY) fields[name].row.hidden = !isPerson;
    for (const [kind, name] of Object.entries(NAME_OF_TYPE)) {
      fields[name].input.required = kind === type;
      const mark = fields[name].row.querySelector(".required");
      if (mark) mark.hidden = kind !== type;
    }
    const from = fields[NAME_OF_TYPE[previous]].input;
    const to = fields[NAME_OF_TYPE[type]].input;
    if (from !== to && from.value.trim() === typed && !to.value.trim()) {
      to.value = from.value;
      from.value = "";
    }
    previous = type;
  };
  fields.type.input.addEventListener("change", apply);
  apply();
}

/** The body POST /api/contacts reads: blanks left out, the address only when given. */
function bodyOf(fields) {
  const values = valuesOf(fields);
  const isPerson = values.type === "personne";
  const body = { type: values.type };
  for (const name of ["nom", "prenom", "organisation", "civilite"]) {
    if (values[name] && (isPerson || !PERSON_ONLY.includes(name))) body[name] = values[name];
  }
  if (ADDRESS.some((name) => values[name])) body.adresse = Object.fromEntries(ADDRESS.filter((name) => values[name]).map((name) => [name, values[name]]));
  return body;
}

/** The address errors ("code_postal : …" under `adresse`) shown under their own inputs. */
function withAddressErrors(err) {
  const errors = { ...(err.errors || {}) };
  const rest = [];
  for (const message of [errors.adresse || []].flat()) {
    const found = /^(\w+) : (.*)$/s.exec(String(message));
    if (found && ADDRESS.includes(found[1])) errors[found[1]] = [...(errors[found[1]] || []), found[2]];
    else rest.push(message);
  }
  delete errors.adresse;
  if (rest.length) errors.adresse = rest;
  return { code: err.code, message: err.message, status: err.status, errors };
}

/**
 * Ask for a new correspondent, `typed` prefilled as its name; `idPrefix` makes the ids unique (one dialog per
 * picker). Resolves to the contact created (or the existing one chosen instead), or null when cancelled.
 */
export function createContactDialog(typed, { idPrefix = "contact-create", testid = "contact-create" } = {}) {
  return new Promise((resolve) => {
    const fields = creationFields(idPrefix);
    fields.nom.input.value = typed;
    followType(fields, typed);
    const alert = formAlert(`${idPrefix}-error`);
    const errors = new FormErrors(fields, alert, { plain: ["adresse"] });
    const extra = h("div", { class: "form-extra" }); // the duplicate warning goes here
    const submit = h("button", { type: "submit", class: "btn", id: `${idPrefix}-submit`, "data-testid": `${testid}-submit` }, "Créer et choisir");
    const cancel = h("button", { type: "button", class: "btn btn-secondary", id: `${idPrefix}-cancel`, "data-testid": `${testid}-cancel` }, "Annuler");
    const form = h(
      "form",
      { id: `${idPrefix}-form`, class: "form-grid contact-create-form", noValidate: true },
      alert,
      extra,
      Object.values(fields).map((f) => f.row),
      h("div", { class: "form-actions" }, submit, cancel),
    );
    const titleId = `${idPrefix}-title`;
    const introId = `${idPrefix}-intro`;
    const dialog = h(
      "dialog",
      { class: "contact-dialog card", "aria-labelledby": titleId, "aria-describedby": introId, "data-testid": `${testid}-dialog` },
      h("h2", { id: titleId }, "Nouveau correspondant"),
      h("p", { id: introId }, "Il est ajouté à l'annuaire des correspondants et lié à ce courrier. Les autres renseignements (adresse complète, e-mail…) se complètent depuis sa fiche."),
      form,
    );

    let settled = false;
    const close = (contact) => {
      if (settled) return;
      settled = true;
      if (dialog.open) dialog.close();
      dialog.remove();
      resolve(contact);
    };
    cancel.addEventListener("click", () => close(null));
    dialog.addEventListener("close", () => close(null)); // Escape

    const send = async (force) => {
      const payload = await api.request("/api/contacts", { method: "POST", json: bodyOf(fields), query: force ? { force: "true" } : undefined });
      close(payload.data);
    };
    const duplicateWarning = (err) => {
      const found = /\(id ([\w-]+)\)/.exec(err.message || "");
      const sentence = (err.message || "").split(" Pour le créer quand même")[0].replace(/\s*\(id [\w-]+\)/, "");
      const force = h("button", { type: "button", class: "btn btn-secondary", "data-testid": `${testid}-force` }, "Créer quand même");
      force.addEventListener("click", () =>
        busy(force, async () => {
          try {
            await send(true);
          } catch (again) {
            if (!again.sessionEnded) errors.show(withAddressErrors(again));
          }
        }),
      );
      let existing = null;
      if (found) {
        existing = h("button", { type: "button", class: "btn", "data-testid": `${testid}-existing` }, "Choisir le correspondant existant");
        existing.addEventListener("click", () =>
          busy(existing, async () => {
            try {
              const payload = await api.request(`/api/contacts/${encodeURIComponent(found[1])}`);
              close(payload.data);
            } catch (again) {
              if (!again.sessionEnded) errors.show(again);
            }
          }),
        );
      }
      return h(
        "div",
        { class: "alert alert-warning", role: "alert", tabindex: "-1", "data-testid": `${testid}-duplicate` },
        h("p", {}, h("strong", {}, "Doublon probable. "), sentence),
        h("div", { class: "form-actions" }, existing, force),
      );
    };

    form.addEventListener("submit", (event) => {
      event.preventDefault();
      busy(submit, async () => {
        errors.clear();
        replace(extra);
        try {
          await send(false);
        } catch (err) {
          if (err.sessionEnded) return close(null);
          if (err.status === 409 && err.code === "conflict") {
            const warning = duplicateWarning(err);
            replace(extra, warning);
            warning.focus();
            return undefined;
          }
          errors.show(withAddressErrors(err));
        }
        return undefined;
      });
    });

    document.body.append(dialog);
    dialog.showModal();
    fields.type.input.focus();
  });
}
