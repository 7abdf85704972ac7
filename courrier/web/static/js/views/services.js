// Administration of the organisation tree: create, rename, move, (de)activate a service and choose
// the mail office. A service is never deleted.

import * as api from "../api.js";
import { h, replace } from "../dom.js";
import { field, FormErrors, formAlert, busy, valuesOf } from "../forms.js";
import { pageHeader, serviceTree, serviceOptions } from "../components.js";

const TOP_LEVEL = ["", "Aucun (premier niveau)"];

function serviceFields(prefix, services, service = {}) {
  return {
    code: field({
      id: `${prefix}-code`,
      name: "code",
      label: "Code",
      required: true,
      maxlength: 20,
      autocomplete: "off",
      value: service.code,
      hint: "20 caractères au plus : lettres, chiffres, « _ » et « - » (mis en majuscules).",
    }),
    nom: field({ id: `${prefix}-nom`, name: "nom", label: "Nom", required: true, maxlength: 255, autocomplete: "off", value: service.nom }),
    parent_id: field({
      id: `${prefix}-parent`,
      name: "parent_id",
      label: "Service parent",
      type: "select",
      value: service.parent_id || "",
      // Every other service is offered: the server refuses a move under the service's own subtree.
      options: serviceOptions(services, TOP_LEVEL, { activeOnly: false, exclude: (other) => other.id === service.id }),
    }),
    email: field({ id: `${prefix}-email`, name: "email", label: "Adresse électronique (facultative)", type: "email", maxlength: 254, autocomplete: "off", value: service.email }),
  };
}

function createServiceForm(services, reload) {
  const fields = serviceFields("service-new", services);
  fields.is_mail_office = field({ id: "service-new-mail-office", name: "is_mail_office", label: "Ce service est le bureau du courrier", type: "checkbox" });
  const alert = formAlert("service-form-error");
  const errors = new FormErrors(fields, alert, { plain: ["is_active"] });
  const submit = h("button", { type: "submit", class: "btn", id: "service-submit" }, "Créer le service");
  const form = h("form", { id: "service-form", class: "form-grid", noValidate: true }, alert, Object.values(fields).map((f) => f.row), h("div", { class: "form-actions" }, submit));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    busy(submit, async () => {
      errors.clear();
      const values = valuesOf(fields);
      values.parent_id = values.parent_id || null;
      values.email = values.email || null;
      try {
        const payload = await api.request("/api/services", { method: "POST", json: values });
        await reload(`Service ${payload.data.code} créé.`);
      } catch (err) {
        if (!err.sessionEnded) errors.show(err);
      }
    });
  });
  return h(
    "section",
    { class: "card", "aria-labelledby": "create-service-title", id: "create-service" },
    h("h2", { id: "create-service-title" }, "Nouveau service"),
    form,
  );
}

/** The inline form of one service: rename, move, e-mail; and the buttons of its state. */
function editServiceForm(service, services, reload) {
  const prefix = `service-${service.id}`;
  const fields = serviceFields(prefix, services, service);
  const alert = formAlert(`${prefix}-error`);
  const errors = new FormErrors(fields, alert, { plain: ["is_active", "is_mail_office"] });
  const url = `/api/services/${encodeURIComponent(service.id)}`;

  const send = (button, changes, message) =>
    busy(button, async () => {
      errors.clear();
      try {
        await api.request(url, { method: "PATCH", json: changes });
        await reload(message);
      } catch (err) {
        if (!err.sessionEnded) errors.show(err);
      }
    });

  const submit = h("button", { type: "submit", class: "btn", "data-testid": "service-save" }, "Enregistrer");
  const toggle = h(
    "button",
    { type: "button", class: ["btn", service.is_active ? "btn-danger" : "btn-success"], "data-testid": "service-toggle-active" },
    service.is_active ? "Désactiver" : "Réactiver",
  );
  toggle.addEventListener("click", () =>
    send(toggle, { is_active: !service.is_active }, `Service ${service.code} ${service.is_active ? "désactivé" : "réactivé"}.`),
  );
  const mailOffice = h(
    "button",
    { type: "button", class: "btn btn-secondary", "data-testid": "service-mail-office" },
    service.is_mail_office ? "Retirer le rôle de bureau du courrier" : "Désigner comme bureau du courrier",
  );
  mailOffice.addEventListener("click", () =>
    send(
      mailOffice,
      { is_mail_office: !service.is_mail_office },
      service.is_mail_office ? `${service.code} n'est plus le bureau du courrier.` : `${service.code} est désormais le bureau du courrier.`,
    ),
  );

  const form = h(
    "form",
    { id: `${prefix}-form`, class: "service-edit form-grid", noValidate: true, hidden: true, "data-testid": "service-edit-form" },
    alert,
    Object.values(fields).map((f) => f.row),
    h("div", { class: "form-actions" }, submit, toggle, mailOffice),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const values = valuesOf(fields);
    values.parent_id = values.parent_id || null;
    values.email = values.email || null;
    const changes = {};
    for (const [name, value] of Object.entries(values)) {
      if (value !== (service[name] ?? null)) changes[name] = value;
    }
    if (!Object.keys(changes).length) {
      errors.message("Aucune modification.", "success");
      return;
    }
    send(submit, changes, `Service ${values.code.toUpperCase() || service.code} modifié.`);
  });
  return { form, focus: () => fields.nom.input.focus() };
}

function serviceItem(service, byParent, services, reload) {
  const edit = editServiceForm(service, services, reload);
  const button = h(
    "button",
    { type: "button", class: "btn btn-secondary btn-small", "aria-expanded": "false", "aria-controls": edit.form.id, "data-testid": "service-edit" },
    "Modifier",
    h("span", { class: "visually-hidden" }, ` ${service.code}`),
  );
  button.addEventListener("click", () => {
    edit.form.hidden = !edit.form.hidden;
    button.setAttribute("aria-expanded", String(!edit.form.hidden));
    if (!edit.form.hidden) edit.focus();
  });
  const children = byParent.get(service.id) || [];
  return h(
    "li",
    { "data-testid": "service-item", "data-id": service.id, "data-code": service.code, class: service.is_active ? null : "service-inactive" },
    h(
      "div",
      { class: "service-line" },
      h("strong", { class: "service-code", "data-testid": "service-code" }, service.code),
      h("span", { class: "service-nom", "data-testid": "service-nom" }, service.nom),
      service.is_mail_office ? h("span", { class: "badge badge-mail-office", "data-testid": "service-mail-office-badge" }, "Bureau du courrier") : null,
      service.is_active ? null : h("span", { class: "badge badge-active-non", "data-testid": "service-inactive-badge" }, "Désactivé"),
      service.email ? h("span", { class: "muted service-email" }, service.email) : null,
      button,
    ),
    edit.form,
    children.length ? h("ul", { class: "service-tree" }, children.map((child) => serviceItem(child, byParent, services, reload))) : null,
  );
}

function treeSection(services, reload) {
  const ordered = serviceTree(services);
  const byParent = new Map();
  for (const service of ordered) {
    const parent = service.depth === 0 ? null : service.parent_id;
    if (!byParent.has(parent)) byParent.set(parent, []);
    byParent.get(parent).push(service);
  }
  return h(
    "section",
    { class: "card", "aria-labelledby": "services-tree-title" },
    h("h2", { id: "services-tree-title" }, "Organisation"),
    ordered.length
      ? h("ul", { class: "service-tree service-tree-root", "data-testid": "services-tree" }, (byParent.get(null) || []).map((service) => serviceItem(service, byParent, services, reload)))
      : h("p", { class: "empty", "data-testid": "services-empty" }, "Aucun service pour l'instant."),
  );
}

export async function servicesView({ navigate, flash }) {
  const payload = await api.request("/api/services");
  const services = payload.data || [];
  const reload = async (message) => {
    flash(message);
    navigate("/admin/services");
  };
  const page = h("section", { class: "page", "data-testid": "services-page" });
  return replace(
    page,
    pageHeader("Services"),
    h("p", { class: "muted" }, "Un service n'est jamais supprimé : désactivez-le. Le bureau du courrier voit et impute tous les courriers."),
    treeSection(services, reload),
    createServiceForm(services, reload),
  );
}
