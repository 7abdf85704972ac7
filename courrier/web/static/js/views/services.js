// Administration of the organisation tree: create, rename, move, (de)activate a service and choose
// the mail office. A service is never deleted.

import { h } from "../dom.js";
import { field, valuesOf } from "../forms.js";
import { serviceTree, serviceOptions } from "../components.js";
import { adminListView, adminItem, codeAndName, createCard, listCard } from "../admin-list.js";

const TOP_LEVEL = ["", "Aucun (premier niveau)"];

function serviceFields(prefix, services, service = {}) {
  return {
    ...codeAndName(prefix, service),
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

/** The form's values, with no parent and no address sent as null. */
function readService(fields) {
  const values = valuesOf(fields);
  values.parent_id = values.parent_id || null;
  values.email = values.email || null;
  return values;
}

function createServiceCard(services, reload) {
  const fields = serviceFields("service-new", services);
  fields.is_mail_office = field({ id: "service-new-mail-office", name: "is_mail_office", label: "Ce service est le bureau du courrier", type: "checkbox" });
  return createCard({
    kind: "service",
    title: "Nouveau service",
    submitText: "Créer le service",
    fields,
    plain: ["is_active"],
    url: "/api/services",
    read: readService,
    created: (service) => `Service ${service.code} créé.`,
    reload,
  });
}

/** The button that makes the service the mail office, or takes the role away. */
function mailOfficeButton(service, send) {
  const button = h(
    "button",
    { type: "button", class: "btn btn-secondary", "data-testid": "service-mail-office" },
    service.is_mail_office ? "Retirer le rôle de bureau du courrier" : "Désigner comme bureau du courrier",
  );
  button.addEventListener("click", () =>
    send(
      button,
      { is_mail_office: !service.is_mail_office },
      service.is_mail_office ? `${service.code} n'est plus le bureau du courrier.` : `${service.code} est désormais le bureau du courrier.`,
    ),
  );
  return button;
}

function serviceItem(service, byParent, services, reload) {
  const children = byParent.get(service.id) || [];
  return adminItem({
    kind: "service",
    item: service,
    details: [
      service.is_mail_office ? h("span", { class: "badge badge-mail-office", "data-testid": "service-mail-office-badge" }, "Bureau du courrier") : null,
      service.is_active ? null : h("span", { class: "badge badge-active-non", "data-testid": "service-inactive-badge" }, "Désactivé"),
      service.email ? h("span", { class: "muted service-email" }, service.email) : null,
    ],
    editor: {
      fields: serviceFields(`service-${service.id}`, services, service),
      plain: ["is_active", "is_mail_office"],
      url: `/api/services/${encodeURIComponent(service.id)}`,
      read: readService,
      saved: (values) => `Service ${values.code.toUpperCase() || service.code} modifié.`,
      toggled: () => `Service ${service.code} ${service.is_active ? "désactivé" : "réactivé"}.`,
      reload,
      more: (send) => [mailOfficeButton(service, send)],
    },
    children: children.length ? h("ul", { class: "service-tree" }, children.map((child) => serviceItem(child, byParent, services, reload))) : null,
  });
}

function treeSection(services, reload) {
  const ordered = serviceTree(services);
  const byParent = new Map();
  for (const service of ordered) {
    const parent = service.depth === 0 ? null : service.parent_id;
    if (!byParent.has(parent)) byParent.set(parent, []);
    byParent.get(parent).push(service);
  }
  return listCard({
    titleId: "services-tree-title",
    title: "Organisation",
    items: ordered,
    list: () => h("ul", { class: "service-tree service-tree-root", "data-testid": "services-tree" }, (byParent.get(null) || []).map((service) => serviceItem(service, byParent, services, reload))),
    emptyTestid: "services-empty",
    emptyText: "Aucun service pour l'instant.",
  });
}

export const servicesView = adminListView({
  url: "/api/services",
  route: "/admin/services",
  testid: "services-page",
  title: "Services",
  intro: "Un service n'est jamais supprimé : désactivez-le. Le bureau du courrier voit et impute tous les courriers.",
  sections: (services, reload) => [treeSection(services, reload), createServiceCard(services, reload)],
});
