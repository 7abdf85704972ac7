// The correspondents directory: search (case and accents ignored by the server), the
// create and edit form with the postal address, the duplicate warning with "Créer quand même", the
// CSV export, a contact's letters, and — for administrateurs — merge and delete.

import * as api from "../api.js";
import { h, replace, badge, label, formatDate, formatDateTime, contactName, LABELS } from "../dom.js";
import { field, FormErrors, formAlert, busy, valuesOf } from "../forms.js";
import { pageHeader, linkButton, dataTable, pagination, filterForm, pick } from "../components.js";
import { contactPicker, contactSummary } from "../contact-picker.js";

const ADDRESS = ["numero", "voie", "complement", "code_postal", "commune", "pays"];
const TEXTS = ["nom", "prenom", "organisation", "service", "fonction", "email", "telephone", "notes"];
// The field each type cannot do without (the server says so too, with a 422).
const NAME_OF_TYPE = { personne: "nom", organisation: "organisation" };

const contactHref = (contact) => `#/contacts/${encodeURIComponent(contact.id)}`;
const isAdmin = (user) => user?.role === "administrateur";

/** "12 rue de la Paix, Bât. B, 75002 Paris, France" — the address on one line, or null. */
export function addressLine(adresse) {
  if (!adresse) return null;
  const street = [adresse.numero, adresse.voie].filter(Boolean).join(" ");
  const town = [adresse.code_postal, adresse.commune].filter(Boolean).join(" ");
  const parts = [street, adresse.complement, town, adresse.pays].filter(Boolean);
  return parts.length ? parts.join(", ") : null;
}

// ---------------------------------------------------------------- the form

function contactFields(contact = {}) {
  const adresse = contact.adresse || {};
  const text = (name, labelText, extra = {}) =>
    field({ id: `contact-${name.replace("_", "-")}`, name, label: labelText, maxlength: 255, value: contact[name], autocomplete: "off", ...extra });
  const fields = {
    type: field({
      id: "contact-type",
      name: "type",
      label: "Type",
      type: "select",
      required: true,
      value: contact.type || "personne",
      options: Object.entries(LABELS.contact_type),
    }),
    civilite: field({
      id: "contact-civilite",
      name: "civilite",
      label: "Civilité",
      type: "select",
      value: contact.civilite || "",
      options: [["", "—"], ...Object.entries(LABELS.civilite)],
    }),
    nom: text("nom", "Nom", { required: true }),
    prenom: text("prenom", "Prénom"),
    organisation: text("organisation", "Organisation", { required: true, hint: "Pour une personne : l'organisme où elle travaille (facultatif)." }),
    service: text("service", "Service (dans l'organisation)"),
    fonction: text("fonction", "Fonction"),
  };
  const address = {
    numero: field({ id: "contact-adresse-numero", name: "numero", label: "Numéro", maxlength: 20, value: adresse.numero, autocomplete: "off" }),
    voie: field({ id: "contact-adresse-voie", name: "voie", label: "Voie", maxlength: 255, value: adresse.voie, autocomplete: "off", placeholder: "rue de la République" }),
    complement: field({ id: "contact-adresse-complement", name: "complement", label: "Complément d'adresse", maxlength: 255, value: adresse.complement, autocomplete: "off" }),
    code_postal: field({
      id: "contact-adresse-code-postal",
      name: "code_postal",
      label: "Code postal",
      maxlength: 20,
      inputmode: "numeric",
      value: adresse.code_postal,
      autocomplete: "off",
      hint: "5 chiffres pour une adresse en France.",
    }),
    commune: field({ id: "contact-adresse-commune", name: "commune", label: "Commune", maxlength: 255, value: adresse.commune, autocomplete: "off" }),
    pays: field({ id: "contact-adresse-pays", name: "pays", label: "Pays", maxlength: 100, value: adresse.pays, autocomplete: "off", hint: "Vide : France." }),
  };
  const contactWays = {
    email: field({ id: "contact-email", name: "email", label: "E-mail", type: "email", maxlength: 254, value: contact.email, autocomplete: "off" }),
    telephone: field({ id: "contact-telephone", name: "telephone", label: "Téléphone", type: "tel", maxlength: 30, value: contact.telephone, autocomplete: "off" }),
    notes: field({ id: "contact-notes", name: "notes", label: "Notes", type: "textarea", maxlength: 5000, rows: 3, value: contact.notes }),
  };
  return { fields, address, contactWays };
}

/** Show the required mark (and the attribute) on the name field of the chosen type only. */
function followType(fields) {
  const apply = () => {
    for (const [type, name] of Object.entries(NAME_OF_TYPE)) {
      const needed = fields.type.input.value === type;
      fields[name].input.required = needed;
      const mark = fields[name].row.querySelector(".required");
      if (mark) mark.hidden = !needed;
    }
  };
  fields.type.input.addEventListener("change", apply);
  apply();
}

/** The form's values as the API reads them: blanks are null, the address one object (null when empty). */
function contactValues({ fields, address, contactWays }) {
  const values = valuesOf({ ...fields, ...contactWays });
  const body = { type: values.type, civilite: values.civilite || null };
  for (const name of TEXTS) body[name] = values[name] || null;
  const adresse = valuesOf(address);
  body.adresse = ADDRESS.some((name) => adresse[name]) ? Object.fromEntries(ADDRESS.map((name) => [name, adresse[name] || null])) : null;
  return body;
}

/**
 * An ApiError whose `adresse` errors name the address inputs ("adresse.code_postal"): the envelope
 * flattens them into ["code_postal : message"] (a nested object is read too).
 */
function withAddressErrors(err) {
  const errors = { ...(err.errors || {}) };
  const nested = errors.adresse;
  if (nested && typeof nested === "object") {
    const rest = [];
    const add = (name, messages) => {
      errors[`adresse.${name}`] = [...(errors[`adresse.${name}`] || []), ...[messages].flat()];
    };
    if (Array.isArray(nested)) {
      for (const message of nested) {
        const found = /^(\w+) : (.*)$/s.exec(String(message));
        if (found && ADDRESS.includes(found[1])) add(found[1], found[2]);
        else rest.push(message);
      }
    } else {
      for (const [name, messages] of Object.entries(nested)) {
        if (ADDRESS.includes(name)) add(name, messages);
        else rest.push(...[messages].flat());
      }
    }
    if (rest.length) errors.adresse = rest;
    else delete errors.adresse;
  }
  return { code: err.code, message: err.message, status: err.status, errors };
}

/** The <form> of a contact; `onSubmit(body, {errors, alert})` sends it. */
function contactForm({ id, contact, submitText, onSubmit, cancel }) {
  const parts = contactFields(contact);
  const { fields, address, contactWays } = parts;
  followType(fields);
  const alert = formAlert(`${id}-error`);
  const errorFields = { ...fields, ...contactWays };
  for (const [name, spec] of Object.entries(address)) errorFields[`adresse.${name}`] = spec;
  const errors = new FormErrors(errorFields, alert, { plain: ["adresse"] });
  const submit = h("button", { type: "submit", class: "btn", id: `${id}-submit` }, submitText);
  const extra = h("div", { class: "form-extra" }); // the duplicate warning goes here
  const form = h(
    "form",
    { id, class: "form-grid contact-form", noValidate: true },
    alert,
    extra,
    Object.values(fields).map((f) => f.row),
    h(
      "fieldset",
      { class: "address-group" },
      h("legend", {}, "Adresse postale"),
      h("div", { class: "form-grid" }, Object.values(address).map((f) => f.row)),
    ),
    Object.values(contactWays).map((f) => f.row),
    h("div", { class: "form-actions" }, submit, cancel || null),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    busy(submit, async () => {
      errors.clear();
      replace(extra);
      try {
        await onSubmit(contactValues(parts), { extra, errors });
      } catch (err) {
        if (!err.sessionEnded) errors.show(withAddressErrors(err));
      }
    });
  });
  return { form, focus: () => fields.type.input.focus() };
}

/** The 409 of a probable duplicate: the server's sentence, a link to the one found, "Créer quand même". */
function duplicateWarning(err, retry) {
  const found = /\(id ([\w-]+)\)/.exec(err.message || "");
  const sentence = (err.message || "").split(" Pour le créer quand même")[0].replace(/\s*\(id [\w-]+\)/, "");
  const force = h("button", { type: "button", class: "btn btn-danger", id: "contact-force", "data-testid": "contact-force" }, "Créer quand même");
  force.addEventListener("click", () => busy(force, retry));
  return h(
    "div",
    { class: "alert alert-warning", role: "alert", id: "contact-duplicate", "data-testid": "contact-duplicate", tabindex: "-1" },
    h("p", {}, h("strong", {}, "Doublon probable. "), sentence),
    h("p", {}, "Vérifiez qu'il ne s'agit pas du même correspondant avant de le créer."),
    h(
      "div",
      { class: "form-actions" },
      force,
      found ? h("a", { href: `#/contacts/${encodeURIComponent(found[1])}`, class: "btn btn-secondary", "data-testid": "contact-duplicate-link" }, "Voir le correspondant existant") : null,
    ),
  );
}

export async function contactCreateView({ navigate, flash }) {
  const create = async (body, force) => {
    const payload = await api.request("/api/contacts", { method: "POST", json: body, query: force ? { force: "true" } : undefined });
    flash(`Correspondant « ${contactName(payload.data)} » créé.`);
    navigate(`/contacts/${encodeURIComponent(payload.data.id)}`);
  };
  const { form } = contactForm({
    id: "contact-form",
    submitText: "Créer le correspondant",
    cancel: h("a", { href: "#/contacts", class: "btn btn-secondary" }, "Annuler"),
    onSubmit: async (body, { extra, errors }) => {
      try {
        await create(body, false);
      } catch (err) {
        if (err.status !== 409 || err.code !== "conflict") throw err;
        const retry = async () => {
          try {
            await create(body, true);
          } catch (again) {
            if (!again.sessionEnded) errors.show(withAddressErrors(again));
          }
        };
        const warning = duplicateWarning(err, retry);
        replace(extra, warning);
        warning.focus();
      }
    },
  });
  return h("section", { class: "page page-narrow", "data-testid": "contact-new-page" }, pageHeader("Nouveau correspondant"), h("div", { class: "card" }, form));
}

// ---------------------------------------------------------------- list

/** The values of the filter form on screen, or null when the list is not on screen. */
function filtersOnScreen() {
  const form = document.getElementById("contact-filters");
  return form ? Object.fromEntries(new FormData(form)) : null;
}

/** Keep in `form` what the user changed in the form on screen while the search was on its way.
 *
 * The answer to a search rebuilds the screen, form included: a type chosen meanwhile for the next
 * search would be put back to the one of the search answered, and the next « Filtrer » would send that
 * one. The controls are the user's, not the response's: a value changed since the search was sent is
 * carried over. (An answer to a search superseded by a newer one is dropped by the router.) */
function keepEditsMadeMeanwhile(form, sent) {
  const now = filtersOnScreen();
  if (!sent || !now) return;
  for (const [name, value] of Object.entries(now)) {
    if (value !== sent[name] && form.elements[name]) form.elements[name].value = value;
  }
}

export async function contactsView({ query, navigate }) {
  const filters = pick(query, ["q", "type", "page"]);
  const sent = filtersOnScreen();
  const payload = await api.request("/api/contacts", { query: { per_page: 20, ...filters } });
  const contacts = payload.data || [];
  const alert = formAlert("contacts-export-error");

  const exportButton = h("button", { type: "button", class: "btn btn-secondary", id: "contacts-export-csv", "data-testid": "contacts-export-csv" }, "Exporter en CSV");
  exportButton.addEventListener("click", () =>
    busy(exportButton, async () => {
      try {
        const { q, type } = filters;
        await api.download("/api/contacts", null, { query: { format: "csv", q, type } });
      } catch (err) {
        if (!err.sessionEnded) new FormErrors({}, alert).show(err);
      }
    }),
  );

  const form = filterForm({
    id: "contact-filters",
    route: "/contacts",
    query,
    navigate,
    specs: {
      q: { label: "Recherche", type: "search", placeholder: "Nom, organisation, commune, e-mail…" },
      type: { label: "Type", type: "select", options: [["", "Tous"], ...Object.entries(LABELS.contact_type)] },
    },
  });
  keepEditsMadeMeanwhile(form, sent);

  const table = dataTable({
    testid: "contacts-table",
    caption: "Correspondants",
    empty: filters.q || filters.type ? "Aucun correspondant ne correspond à ces critères." : "Aucun correspondant pour l'instant.",
    rows: contacts,
    rowAttrs: (contact) => ({ "data-testid": "contact-row", "data-id": contact.id }),
    columns: [
      { label: "Nom", class: "cell-wide", cell: (contact) => h("a", { href: contactHref(contact), class: "contact-name", "data-testid": "contact-link" }, contactName(contact)) },
      { label: "Type", cell: (contact) => label("contact_type", contact.type) },
      {
        label: "Organisation",
        cell: (contact) => (contact.type === "personne" ? [contact.organisation, contact.service].filter(Boolean).join(" — ") || "—" : contact.service || "—"),
      },
      { label: "Commune", cell: (contact) => [contact.adresse?.code_postal, contact.adresse?.commune].filter(Boolean).join(" ") || "—" },
      { label: "E-mail", class: "cell-break", cell: (contact) => contact.email || "—" },
      { label: "Téléphone", cell: (contact) => contact.telephone || "—" },
    ],
  });

  const queryWithoutPage = { ...filters };
  delete queryWithoutPage.page;
  return h(
    "section",
    { class: "page", "data-testid": "contacts-page" },
    pageHeader("Correspondants", linkButton("#/contacts/new", "+ Nouveau correspondant", { id: "new-contact-button" }), exportButton),
    h(
      "p",
      { class: "muted" },
      "L'annuaire des personnes et organismes qui écrivent au bureau du courrier ou à qui il écrit. La recherche ne tient compte ni des majuscules ni des accents.",
    ),
    alert,
    form,
    table,
    pagination(payload.meta, "/contacts", queryWithoutPage),
  );
}

// ---------------------------------------------------------------- detail

function contactDetails(contact) {
  const item = (term, value, testid) => [h("dt", {}, term), h("dd", { "data-testid": testid }, value ?? "—")];
  return h(
    "dl",
    { class: "details" },
    item("Type", label("contact_type", contact.type), "contact-detail-type"),
    contact.type === "personne" ? item("Nom", contactName(contact), "contact-detail-nom") : null,
    item("Organisation", contact.organisation || "—", "contact-detail-organisation"),
    contact.service ? item("Service", contact.service, "contact-detail-service") : null,
    contact.fonction ? item("Fonction", contact.fonction, "contact-detail-fonction") : null,
    item("Adresse", addressLine(contact.adresse) || "—", "contact-detail-adresse"),
    item("E-mail", contact.email ? h("a", { href: `mailto:${contact.email}` }, contact.email) : "—", "contact-detail-email"),
    item("Téléphone", contact.telephone || "—", "contact-detail-telephone"),
    contact.notes ? item("Notes", h("span", { class: "pre-wrap" }, contact.notes), "contact-detail-notes") : null,
    item("Créé le", formatDateTime(contact.created_at), "contact-detail-created"),
    contact.updated_at && contact.updated_at !== contact.created_at ? item("Modifié le", formatDateTime(contact.updated_at), "contact-detail-updated") : null,
  );
}

/** The PATCH of what changed between `contact` and the form's `body` (the address is sent whole). */
function changesOf(contact, body) {
  const changes = {};
  if (body.type !== contact.type) changes.type = body.type;
  if ((body.civilite || null) !== (contact.civilite || null)) changes.civilite = body.civilite;
  for (const name of TEXTS) if ((body[name] || null) !== (contact[name] || null)) changes[name] = body[name];
  const before = contact.adresse || {};
  const after = body.adresse || {};
  if (ADDRESS.some((name) => (before[name] || null) !== (after[name] || null))) changes.adresse = body.adresse;
  return changes;
}

function editSection(contact, done) {
  const url = `/api/contacts/${encodeURIComponent(contact.id)}`;
  const { form, focus } = contactForm({
    id: "contact-edit-form",
    contact,
    submitText: "Enregistrer les modifications",
    onSubmit: async (body, { errors }) => {
      const changes = changesOf(contact, body);
      if (!Object.keys(changes).length) {
        errors.message("Aucune modification.", "success");
        return;
      }
      await api.request(url, { method: "PATCH", json: changes });
      await done("Correspondant modifié.");
    },
  });
  const section = h(
    "section",
    { class: "card", id: "contact-edit", hidden: true, "aria-labelledby": "contact-edit-title" },
    h("h2", { id: "contact-edit-title" }, "Modifier le correspondant"),
    form,
  );
  const toggle = h("button", { type: "button", class: "btn", id: "contact-edit-button", "aria-expanded": "false", "aria-controls": "contact-edit" }, "Modifier");
  toggle.addEventListener("click", () => {
    section.hidden = !section.hidden;
    toggle.setAttribute("aria-expanded", String(!section.hidden));
    if (!section.hidden) focus();
  });
  return { section, toggle };
}

async function lettersSection(contact, query) {
  const page = query.get("page") || undefined;
  let payload;
  try {
    payload = await api.request(`/api/contacts/${encodeURIComponent(contact.id)}/documents`, { query: { page, per_page: 10 } });
  } catch (err) {
    if (err.sessionEnded) throw err;
    return h(
      "section",
      { class: "card", "aria-labelledby": "contact-letters-title" },
      h("h2", { id: "contact-letters-title" }, "Courriers"),
      h("p", { class: "alert alert-error", "data-testid": "contact-letters-error" }, err.message),
    );
  }
  const role = (doc) =>
    [doc.expediteur_contact?.id === contact.id ? "Expéditeur" : null, doc.destinataire_contact?.id === contact.id ? "Destinataire" : null]
      .filter(Boolean)
      .join(", ") || "—";
  return h(
    "section",
    { class: "card contact-letters", "aria-labelledby": "contact-letters-title" },
    h("h2", { id: "contact-letters-title" }, "Courriers"),
    dataTable({
      testid: "contact-letters",
      caption: `Courriers de ou pour ${contactName(contact)}`,
      empty: "Aucun courrier visible ne mentionne ce correspondant.",
      rows: payload.data || [],
      rowAttrs: (doc) => ({ "data-testid": "contact-letter", "data-id": doc.id }),
      columns: [
        { label: "Référence", cell: (doc) => h("a", { href: `#/documents/${encodeURIComponent(doc.id)}`, class: "reference" }, doc.reference || "—") },
        { label: "Objet", class: "cell-wide", cell: (doc) => doc.objet },
        { label: "Type", cell: (doc) => label("type", doc.type) },
        { label: "Rôle", cell: role },
        { label: "Statut", cell: (doc) => badge("statut", doc.statut) },
        { label: "Enregistré le", cell: (doc) => formatDate(doc.created_at) },
      ],
    }),
    pagination(payload.meta, `/contacts/${encodeURIComponent(contact.id)}`, {}),
  );
}

function mergeSection(contact, { navigate, flash }) {
  const alert = formAlert("merge-error");
  const target = field({
    id: "merge-target",
    name: "into",
    label: "Correspondant qui reçoit les courriers",
    hint: "Tapez quelques lettres de son nom, puis choisissez-le dans la liste.",
    testid: "merge-target",
  });
  const errors = new FormErrors({ into: target }, alert);
  const summary = h("p", { class: "merge-summary", "data-testid": "merge-summary", "aria-live": "polite" });
  const submit = h("button", { type: "submit", class: "btn btn-danger", id: "merge-submit" }, "Fusionner");
  const picker = contactPicker(target.input, {
    exclude: contact.id,
    chosenLabel: "Fusionner dans",
    testid: "merge-picker",
    onChange: (chosen) => {
      replace(
        summary,
        chosen
          ? `Les courriers de « ${contactName(contact)} » passeront à « ${contactName(chosen)} », puis « ${contactName(contact)} » sera supprimé. Le texte des courriers ne change pas.`
          : "",
      );
    },
  });
  target.row.insertBefore(picker.chip, target.error);
  const form = h("form", { id: "merge-form", noValidate: true }, alert, target.row, summary, h("div", { class: "form-actions" }, submit));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    busy(submit, async () => {
      errors.clear();
      const chosen = picker.current();
      if (!chosen) {
        errors.show({ code: "validation_error", errors: { into: ["Choisissez le correspondant qui reçoit les courriers dans la liste des suggestions."] } });
        return;
      }
      try {
        const payload = await api.request(`/api/contacts/${encodeURIComponent(contact.id)}/merge`, { method: "POST", json: { into: chosen.id } });
        flash(payload.message || "Correspondants fusionnés.");
        navigate(`/contacts/${encodeURIComponent(chosen.id)}`);
      } catch (err) {
        if (!err.sessionEnded) errors.show(err);
      }
    });
  });
  return h(
    "section",
    { class: "card", "aria-labelledby": "merge-title", "data-testid": "merge-panel" },
    h("h2", { id: "merge-title" }, "Fusionner avec un autre correspondant"),
    h("p", { class: "muted" }, "Pour un doublon : ses courriers rejoignent l'autre fiche, avec une ligne d'historique sur chacun."),
    form,
  );
}

function deleteSection(contact, { navigate, flash }) {
  const alert = formAlert("contact-delete-error");
  const errors = new FormErrors({}, alert);
  const button = h("button", { type: "button", class: "btn btn-danger", id: "contact-delete" }, "Supprimer le correspondant");
  const confirm = h("button", { type: "button", class: "btn btn-danger", id: "contact-delete-confirm" }, "Confirmer la suppression");
  const cancel = h("button", { type: "button", class: "btn btn-secondary" }, "Annuler");
  const panel = h(
    "div",
    { class: "confirm-panel", id: "contact-delete-panel", hidden: true },
    h("p", {}, `Supprimer définitivement « ${contactName(contact)} » ? Un correspondant que des courriers mentionnent ne peut pas l'être : fusionnez-le plutôt.`),
    h("div", { class: "form-actions" }, confirm, cancel),
  );
  button.addEventListener("click", () => {
    errors.clear();
    panel.hidden = false;
    confirm.focus();
  });
  cancel.addEventListener("click", () => {
    panel.hidden = true;
    button.focus();
  });
  confirm.addEventListener("click", () =>
    busy(confirm, async () => {
      try {
        await api.request(`/api/contacts/${encodeURIComponent(contact.id)}`, { method: "DELETE" });
        flash(`Correspondant « ${contactName(contact)} » supprimé.`);
        navigate("/contacts");
      } catch (err) {
        if (err.sessionEnded) return;
        panel.hidden = true;
        errors.show(err);
      }
    }),
  );
  return h(
    "section",
    { class: "card", "aria-labelledby": "contact-delete-title", "data-testid": "contact-delete-panel" },
    h("h2", { id: "contact-delete-title" }, "Supprimer"),
    alert,
    button,
    panel,
  );
}

export async function contactDetailView(context) {
  const { params: [id], query, user, navigate, flash } = context;
  let contact;
  try {
    contact = (await api.request(`/api/contacts/${encodeURIComponent(id)}`)).data;
  } catch (err) {
    if (err.status === 404) {
      return h("section", { class: "page" }, pageHeader("Correspondant introuvable"), h("p", {}, "Ce correspondant n'existe pas ou a été fusionné avec un autre."), linkButton("#/contacts", "← Retour aux correspondants"));
    }
    throw err;
  }
  const done = async (message) => {
    flash(message);
    navigate(`/contacts/${encodeURIComponent(contact.id)}`);
  };
  const edit = editSection(contact, done);
  const letters = await lettersSection(contact, query);
  return h(
    "section",
    { class: "page", "data-testid": "contact-page", "data-id": contact.id },
    pageHeader(contactName(contact), linkButton("#/contacts", "← Correspondants", { class: "btn btn-secondary" }), edit.toggle),
    contactSummary(contact) ? h("p", { class: "muted contact-summary", "data-testid": "contact-summary" }, contactSummary(contact)) : null,
    h(
      "div",
      { class: "detail-grid" },
      h(
        "div",
        { class: "detail-main" },
        h("section", { class: "card", "aria-label": "Fiche du correspondant" }, contactDetails(contact)),
        edit.section,
        letters,
      ),
      isAdmin(user) ? h("div", { class: "detail-side" }, mergeSection(contact, context), deleteSection(contact, context)) : null,
    ),
  );
}
