// The letter's form, shared by the screens that register, correct or qualify a letter: the contact pickers of
// the sender and the recipient (which can create a correspondent), the registered-mail number shown for the
// registered natures, and, at registration, the routing (service, responsable, copies) and the date of
// receipt prefilled with today for an incoming letter.

import { h, replace, REGISTERED_NATURES } from "../dom.js";
import { field, formOf, onSubmit, valuesOf } from "../forms.js";
import { optionsOf } from "../lookups.js";
import { contactPicker } from "../contact-picker.js";
import { typologieName } from "./treatment.js";

/** The options of the typologie select: the active ones, plus the letter's own if it was deactivated since. */
function typologieOptions(typologies, current) {
  const options = [["", "— Aucune (délai de la priorité) —"]];
  const list = current && !typologies.some((typologie) => typologie.id === current.id) ? [...typologies, current] : typologies;
  for (const typologie of list) options.push([typologie.id, typologieName(typologie)]);
  return options;
}

export function documentFields(doc = {}, typologies = []) {
  return {
    type: field({ id: "doc-type", name: "type", label: "Type", type: "select", required: true, value: doc.type || "entrant", options: optionsOf("type") }),
    priorite: field({ id: "doc-priorite", name: "priorite", label: "Priorité", type: "select", value: doc.priorite || "normale", options: optionsOf("priorite") }),
    objet: field({ id: "doc-objet", name: "objet", label: "Objet", required: true, maxlength: 255, value: doc.objet }),
    expediteur: field({
      id: "doc-expediteur",
      name: "expediteur",
      label: "Expéditeur",
      required: true,
      maxlength: 255,
      value: doc.expediteur,
      hint: PARTY_HINT,
      testid: "doc-expediteur",
    }),
    destinataire: field({
      id: "doc-destinataire",
      name: "destinataire",
      label: "Destinataire",
      required: true,
      maxlength: 255,
      value: doc.destinataire,
      hint: PARTY_HINT,
      testid: "doc-destinataire",
    }),
    nature: field({ id: "doc-nature", name: "nature", label: "Nature du pli", type: "select", value: doc.nature || "courrier_simple", options: optionsOf("nature"), testid: "doc-nature" }),
    numero_recommande: field({
      id: "doc-numero-recommande",
      name: "numero_recommande",
      label: "Numéro du recommandé",
      required: true,
      maxlength: 20,
      autocomplete: "off",
      value: doc.numero_recommande,
      hint: "13 caractères : 2 lettres ou chiffres puis 11 chiffres, par exemple 1A 123 456 789 01 (espaces permis).",
      testid: "doc-numero-recommande",
    }),
    date_courrier: field({ id: "doc-date-courrier", name: "date_courrier", label: "Date du courrier", type: "date", value: doc.date_courrier }),
    date_reception: field({
      id: "doc-date-reception",
      name: "date_reception",
      label: "Date de réception",
      type: "date",
      value: doc.date_reception,
      hint: doc.id ? "L'échéance est recalculée à partir de cette date." : RECEIPT_HINTS.entrant,
    }),
    typologie_id: field({
      id: "doc-typologie",
      name: "typologie_id",
      label: "Typologie (facultative)",
      type: "select",
      value: doc.typologie?.id || "",
      options: typologieOptions(typologies, doc.typologie),
      hint: "Son délai, en jours ouvrés, remplace celui de la priorité.",
      testid: "doc-typologie",
    }),
    description: field({ id: "doc-description", name: "description", label: "Description", type: "textarea", maxlength: 5000, rows: 5, value: doc.description }),
  };
}

const PARTY_HINT = "Tapez quelques lettres pour choisir un correspondant de l'annuaire, le créer s'il n'y est pas, ou écrivez librement.";

const RECEIPT_HINTS = {
  entrant: "Aujourd'hui par défaut. L'échéance part de cette date.",
  other: "Facultative pour un courrier sortant ou interne ; sans elle, l'échéance part du jour de l'enregistrement.",
};

/** Today's date in Paris as YYYY-MM-DD (the office's day, whatever the computer's time zone). */
function parisToday() {
  return new Intl.DateTimeFormat("en-CA", { timeZone: "Europe/Paris" }).format(new Date());
}

/**
 * At registration, the date of receipt follows the type: today for an incoming letter, empty for an outgoing
 * or internal one (nothing was received). Only a date the form wrote itself is cleared; one typed is kept.
 */
function followType(fields) {
  const input = fields.date_reception.input;
  const hint = fields.date_reception.row.querySelector(".field-hint");
  let prefilled = null;
  const apply = () => {
    const incoming = fields.type.input.value === "entrant";
    if (incoming && !input.value) {
      prefilled = parisToday();
      input.value = prefilled;
    } else if (!incoming && input.value && input.value === prefilled) {
      input.value = "";
      prefilled = null;
    }
    replace(hint, incoming ? RECEIPT_HINTS.entrant : RECEIPT_HINTS.other);
  };
  fields.type.input.addEventListener("change", apply);
  apply();
}

/** Show the registered-mail number (and require it) only for the registered natures. */
function followNature(fields) {
  const apply = () => {
    const registered = REGISTERED_NATURES.includes(fields.nature.input.value);
    fields.numero_recommande.row.hidden = !registered;
    fields.numero_recommande.input.required = registered;
  };
  fields.nature.input.addEventListener("change", apply);
  apply();
}

/** The contact pickers of the sender and the recipient, under their text inputs. */
function partyPickers(fields, doc) {
  const pickers = {};
  for (const party of ["expediteur", "destinataire"]) {
    const picker = contactPicker(fields[party].input, { chosen: doc[`${party}_contact`] || null, testid: `${party}-picker`, create: true });
    fields[party].row.insertBefore(picker.chip, fields[party].error);
    pickers[party] = picker;
  }
  return pickers;
}

/**
 * The letter's form (registration, correction, qualification of a draft). `routing` (registration only) is
 * registrationRoutingFields(): its rows, and the values it sends; `files` a file field() sent after the
 * letter (its name is not a letter's field); `buttons` more buttons after the submit one; `prefilled` marks
 * the form as one of a draft (its date of receipt is the draft's, not today). Returns {form, fields, errors}.
 */
export function letterForm({ doc = {}, typologies, submitText, send, cancelHref, routing = null, files = null, buttons = [], prefilled = false }) {
  const ownFields = documentFields(doc, typologies);
  const fields = { ...ownFields, ...(routing?.fields || {}) };
  followNature(fields);
  if (!doc.id || prefilled) followType(fields);
  const pickers = partyPickers(fields, doc);
  const submit = h("button", { type: "submit", class: "btn", id: "document-submit" }, submitText);
  const { form, errors } = formOf({
    id: "document-form",
    className: "card form-grid",
    alertId: "document-form-error",
    fields,
    // A refused contact id is shown under its text input.
    aliases: { expediteur_id: fields.expediteur, destinataire_id: fields.destinataire },
    buttons: [submit, ...buttons, h("a", { href: cancelHref, class: "btn btn-secondary" }, "Annuler")],
    actionsRow: true,
  });
  if (files) form.querySelector(".form-actions").before(files.row);
  onSubmit(form, submit, errors, () => {
    const values = { ...valuesOf(ownFields), ...(routing ? routing.values() : {}) };
    if (fields.numero_recommande.row.hidden) values.numero_recommande = "";
    values.expediteur_id = pickers.expediteur.current()?.id || null;
    values.destinataire_id = pickers.destinataire.current()?.id || null;
    return send(values);
  });
  return { form, fields, errors };
}
