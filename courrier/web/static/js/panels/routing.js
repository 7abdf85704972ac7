// Routing a letter (imputation): who treats it (service, responsable), who gets a copy, and how
// those appear in the detail list and the history. The panel is offered when the letter's `actions`
// (the server's rules) list "affecter".

import * as api from "../api.js";
import { h, personName, serviceName } from "../dom.js";
import { field, formOf, onSubmit, showMissing } from "../forms.js";
import { serviceOptions, setOptions } from "../components.js";

const NO_RESPONSABLE = ["", "— Aucun responsable —"];
const CHOOSE_SERVICE = ["", "— Choisir un service —"];

/** A field() selecting one of the active `services`, `first` its leading option; `spec` gives the rest. */
const serviceSelect = (services, first, spec) => field({ type: "select", options: serviceOptions(services, first), ...spec });

/** The members of a service (the possible responsables), by name. */
export async function membersOf(serviceId) {
  if (!serviceId) return [];
  const payload = await api.request(`/api/services/${encodeURIComponent(serviceId)}/members`);
  return payload.data || [];
}

/**
 * Keep `select` filled with the members of the service chosen in `serviceSelect`; the last request
 * wins when the choice changes faster than the server answers. Returns a function loading now.
 */
export function linkMembers(serviceSelect, select, { first = NO_RESPONSABLE, initial = "" } = {}) {
  let ticket = 0;
  let wanted = initial;
  const load = async () => {
    const mine = ++ticket;
    const serviceId = serviceSelect.value;
    select.disabled = true;
    let members = [];
    try {
      members = await membersOf(serviceId);
    } catch (err) {
      if (err.sessionEnded) return;
    }
    if (mine !== ticket) return;
    setOptions(select, [first, ...members.map((member) => [member.id, personName(member)])], wanted);
    wanted = "";
    select.disabled = !serviceId;
    select.dataset.loadedFor = serviceId;
  };
  serviceSelect.addEventListener("change", load);
  return load;
}

/** The routing rows of the detail list: treating service, responsable, copies. */
export function routingDetails(doc, item) {
  const copies = doc.copies || { services: [], users: [] };
  const copyNames = [...(copies.services || []).map((service) => serviceName(service)), ...(copies.users || []).map(personName)];
  return [
    item("Service traitant", doc.service ? serviceName(doc.service) : h("span", { class: "muted" }, "Non affecté"), "detail-service"),
    item("Responsable", personName(doc.responsable), "detail-responsable"),
    item("Copies", copyNames.length ? copyNames.join(", ") : "—", "detail-copies"),
  ];
}

const serviceShort = (service) => (service ? service.code : "aucun");
const personShort = (person) => (person ? personName(person) : "aucun");
const sameId = (a, b) => (a?.id ?? null) === (b?.id ?? null);
/** The names of the copies in `after` and not in `before` (services by code, people by name). */
const copiesBetween = (before, after) => {
  const had = new Set([...(before?.services || []), ...(before?.users || [])].map((item) => item.id));
  const named = [
    ...(after?.services || []).map((service) => [service.id, service.code]),
    ...(after?.users || []).map((user) => [user.id, personName(user)]),
  ];
  return named.filter(([id]) => !had.has(id)).map(([, name]) => name);
};
const copiesLine = (names, one, many) => (names.length ? [`${names.length > 1 ? many : one} : ${names.join(", ")}`] : []);

/**
 * The lines of an "assigned" history entry: only what the routing changed ("Service : FIN → DG",
 * "Responsable : … → …", "Copie ajoutée : RH"), then "Motif : …". Read from the two states the entry keeps,
 * so that older entries (which did not say what changed) read the same: an unchanged service is not shown.
 */
export function routingHistoryLines(details) {
  const from = details.from || {};
  const to = details.to || {};
  const lines = [];
  if (!sameId(from.service, to.service)) lines.push(`Service : ${serviceShort(from.service)} → ${serviceShort(to.service)}`);
  if (!sameId(from.responsable, to.responsable)) lines.push(`Responsable : ${personShort(from.responsable)} → ${personShort(to.responsable)}`);
  lines.push(...copiesLine(copiesBetween(from.copies, to.copies), "Copie ajoutée", "Copies ajoutées"));
  lines.push(...copiesLine(copiesBetween(to.copies, from.copies), "Copie retirée", "Copies retirées"));
  if (!lines.length) lines.push("Imputation inchangée");
  if (details.motif) lines.push(`Motif : ${details.motif}`);
  return lines;
}

/**
 * A group of checkboxes inside a fieldset; returns {fieldset, list, add(value, text, checked), values(),
 * pseudoField} (pseudoField: the group as formOf() and FormErrors take a field).
 */
function checkGroup({ id, legend, hint }) {
  const list = h("ul", { class: "check-list", id: `${id}-list` });
  const error = h("p", { class: "field-error", id: `${id}-error`, hidden: true, "aria-live": "polite" });
  const fieldset = h(
    "fieldset",
    { class: "check-group", id, "aria-describedby": `${id}-error` },
    h("legend", {}, legend),
    hint ? h("p", { class: "field-hint" }, hint) : null,
    list,
    error,
  );
  const add = (value, text, checked, testid) => {
    const existing = list.querySelector(`input[value="${CSS.escape(value)}"]`);
    if (existing) {
      existing.checked = true;
      return existing;
    }
    const inputId = `${id}-${value}`;
    const input = h("input", { type: "checkbox", id: inputId, value, checked, "data-testid": testid });
    list.append(h("li", { class: "field field-checkbox" }, input, h("label", { for: inputId }, text)));
    return input;
  };
  const values = () => [...list.querySelectorAll("input:checked")].map((input) => input.value);
  return { fieldset, list, add, values, pseudoField: { row: fieldset, input: fieldset, error } };
}

/**
 * The copy list as two groups: the services (a checkbox each) and the people (those in `current`, checked,
 * and « Ajouter en copie » picking a member of a service). Ids and data-testid attributes start with `prefix`.
 */
function copyGroups(services, current, prefix) {
  const copyServices = checkGroup({ id: `${prefix}-copy-services`, legend: "Services en copie" });
  for (const [value, text] of serviceOptions(services)) {
    copyServices.add(value, text.trim(), (current.services || []).some((copy) => copy.id === value), `${prefix}-copy-service`);
  }

  const copyUsers = checkGroup({ id: `${prefix}-copy-users`, legend: "Personnes en copie", hint: "Décochez une personne pour lui retirer sa copie." });
  for (const person of current.users || []) copyUsers.add(person.id, personName(person), true, `${prefix}-copy-user`);
  const pickService = serviceSelect(services, CHOOSE_SERVICE, { id: `${prefix}-copy-user-service`, name: "copy_user_service", label: "Ajouter une personne : service" });
  const pickUser = field({ id: `${prefix}-copy-user-pick`, name: "copy_user", label: "Personne", type: "select", options: [["", "— Choisir une personne —"]] });
  pickUser.input.disabled = true;
  linkMembers(pickService.input, pickUser.input, { first: ["", "— Choisir une personne —"] });
  const addUser = h("button", { type: "button", class: "btn btn-secondary", id: `${prefix}-copy-user-add` }, "Ajouter en copie");
  addUser.addEventListener("click", () => {
    const option = pickUser.input.selectedOptions[0];
    if (!option || !option.value) {
      pickUser.input.focus();
      return;
    }
    copyUsers.add(option.value, option.textContent, true, `${prefix}-copy-user`);
  });
  copyUsers.fieldset.append(h("div", { class: "copy-picker" }, pickService.row, pickUser.row, addUser));
  return { copyServices, copyUsers };
}

/** The "Imputer" form of the letter detail. */
export function routingPanel(doc, services, reload) {
  const base = `/api/documents/${encodeURIComponent(doc.id)}`;
  const current = doc.copies || { services: [], users: [] };

  const service = serviceSelect(services, CHOOSE_SERVICE, {
    id: "routing-service",
    name: "service_id",
    label: "Service traitant",
    required: true,
    value: doc.service?.id || "",
    testid: "routing-service",
  });
  const responsable = field({
    id: "routing-responsable",
    name: "responsable_id",
    label: "Responsable",
    type: "select",
    options: [NO_RESPONSABLE],
    hint: "Parmi les membres du service traitant.",
    testid: "routing-responsable",
  });
  const loadResponsables = linkMembers(service.input, responsable.input, { initial: doc.responsable?.id || "" });

  const { copyServices, copyUsers } = copyGroups(services, current, "routing");

  const motif = field({ id: "routing-motif", name: "motif", label: "Motif (facultatif)", type: "textarea", rows: 2, maxlength: 2000 });

  const submit = h("button", { type: "submit", class: "btn", id: "routing-submit" }, "Imputer");
  const { form, errors } = formOf({
    id: "routing-form",
    alertId: "routing-error",
    fields: {
      service_id: service,
      responsable_id: responsable,
      copie_service_ids: copyServices.pseudoField,
      copie_user_ids: copyUsers.pseudoField,
      motif,
    },
    buttons: submit,
    actionsRow: true,
  });
  onSubmit(form, submit, errors, async () => {
    if (!service.input.value) return showMissing(errors, "service_id", "Choisissez le service traitant.");
    const body = {
      service_id: service.input.value,
      responsable_id: responsable.input.value || null,
      copie_service_ids: copyServices.values(),
      copie_user_ids: copyUsers.values(),
    };
    const text = motif.input.value.trim();
    if (text) body.motif = text;
    const payload = await api.request(`${base}/assign`, { method: "POST", json: body });
    await reload(`Courrier imputé au service ${serviceName(payload.data?.service)}.`);
  });

  loadResponsables();
  const section = h(
    "section",
    { class: "card routing", "aria-labelledby": "routing-title", "data-testid": "routing-panel" },
    h("h2", { id: "routing-title" }, "Imputation"),
    form,
  );
  return section;
}

/**
 * The optional routing of the registration form: service, responsable among its members, the copies.
 * Returns {fields: name → field() (the copies as fieldsets), values(): the routing to send, empty ones left out}.
 */
export function registrationRoutingFields(services) {
  const service = serviceSelect(services, ["", "— Non affecté —"], { id: "doc-service", name: "service_id", label: "Service traitant (facultatif)" });
  const responsable = field({ id: "doc-responsable", name: "responsable_id", label: "Responsable (facultatif)", type: "select", options: [NO_RESPONSABLE] });
  responsable.input.disabled = true;
  linkMembers(service.input, responsable.input);
  const { copyServices, copyUsers } = copyGroups(services, {}, "doc");
  const values = () => {
    const routing = {};
    if (service.input.value) routing.service_id = service.input.value;
    if (responsable.input.value) routing.responsable_id = responsable.input.value;
    if (copyServices.values().length) routing.copie_service_ids = copyServices.values();
    if (copyUsers.values().length) routing.copie_user_ids = copyUsers.values();
    return routing;
  };
  return {
    fields: { service_id: service, responsable_id: responsable, copie_service_ids: copyServices.pseudoField, copie_user_ids: copyUsers.pseudoField },
    values,
  };
}
