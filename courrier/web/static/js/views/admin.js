// Administration: users (create, role, activation, forced logout, services), connection history, audit log.

import * as api from "../api.js";
import { h, badge, label, formatDateTime, personName, de, LABELS } from "../dom.js";
import { field, FormErrors, formAlert, formOf, attempt, newPasswordFields, onSubmit, valuesOf, withoutEmpty } from "../forms.js";
import { pageHeader, dataTable, pagination, filterForm, pick, serviceTree, setOptions, sessionState, deviceCell } from "../components.js";
import { activeToggle, reloadTo } from "../admin-list.js";

const roleOptions = (anyText) => [...(anyText ? [["", anyText]] : []), ...Object.entries(LABELS.role)];

// ---------------------------------------------------------------- users

/** What the new-user form says of the password for `role`, from the server's policy (GET /api/auth/config). */
function passwordHint(policy, role) {
  const minimum = policy.min_length[role];
  return `Au moins ${minimum} caractères pour un compte ${label("role", role).toLowerCase()} (${policy.max_bytes} octets au plus), difficile à deviner ; à transmettre à la personne par un canal sûr.`;
}

function createUserForm(reload, policy) {
  const fields = {
    nom: field({ id: "user-nom", name: "nom", label: "Nom", required: true, maxlength: 100, autocomplete: "off" }),
    prenom: field({ id: "user-prenom", name: "prenom", label: "Prénom", required: true, maxlength: 100, autocomplete: "off" }),
    email: field({ id: "user-email", name: "email", label: "Adresse électronique", type: "email", required: true, autocomplete: "off" }),
    contact: field({ id: "user-contact", name: "contact", label: "Téléphone ou poste (facultatif)", type: "tel", maxlength: 30, autocomplete: "off" }),
    role: field({ id: "user-role", name: "role", label: "Rôle", type: "select", value: "agent", options: roleOptions() }),
    ...newPasswordFields({
      id: "user-password",
      label: "Mot de passe initial",
      confirmationLabel: "Confirmation du mot de passe",
      hint: passwordHint(policy, "agent"),
    }),
  };
  const hint = fields.password.row.querySelector(".field-hint");
  fields.role.input.addEventListener("change", () => {
    hint.textContent = passwordHint(policy, fields.role.input.value);
  });
  const submit = h("button", { type: "submit", class: "btn", id: "user-submit" }, "Créer l'utilisateur");
  const { form, errors } = formOf({ id: "user-form", className: "form-grid", fields, alertId: "user-form-error", buttons: submit, actionsRow: true });
  onSubmit(form, submit, errors, async () => {
    const payload = await api.request("/api/users", { method: "POST", json: withoutEmpty(valuesOf(fields), "contact") });
    await reload(`Utilisateur ${personName(payload.data)} créé avec le rôle « ${label("role", payload.data.role)} ».`);
  });
  return h(
    "details",
    { class: "card", id: "create-user", open: true },
    h("summary", {}, h("h2", { class: "inline-heading" }, "Nouvel utilisateur")),
    form,
  );
}

/** The user's services, primary first, the primary one marked. */
function servicesList(target) {
  const services = [...(target.services || [])].sort((a, b) => Number(b.primary) - Number(a.primary));
  if (!services.length) return h("span", { class: "muted", "data-testid": "user-services" }, "Aucun");
  return h(
    "ul",
    { class: "service-chips", "data-testid": "user-services" },
    services.map((service) =>
      h(
        "li",
        { title: service.nom, "data-code": service.code },
        service.code,
        service.primary ? [" ", h("span", { class: "badge badge-primary" }, "principal")] : null,
      ),
    ),
  );
}

/**
 * A user's services (chips) and the « Modifier » button opening their editor in a modal dialog: a checkbox
 * per active service and the primary one. The dialog sits in the row (top layer once open), so the table
 * keeps its width and the names keep their words whole.
 */
function membershipsEditor(target, services, reload) {
  const prefix = `memberships-${target.id}`;
  const who = personName(target);
  const mine = new Map((target.services || []).map((service) => [service.id, service]));
  const primaryId = `${prefix}-primary`;
  const primary = h("select", { id: primaryId, "data-testid": "memberships-primary" });
  const boxes = serviceTree(services)
    .filter((service) => service.is_active)
    .map((service) => {
      const id = `${prefix}-${service.id}`;
      const input = h("input", { type: "checkbox", id, value: service.id, checked: mine.has(service.id), "data-testid": "memberships-service", "data-code": service.code });
      input.addEventListener("change", () => refreshPrimary());
      return { service, input, row: h("li", { class: "field field-checkbox" }, input, h("label", { for: id }, `${service.code} — ${service.nom}`)) };
    });
  const refreshPrimary = () => {
    const checked = boxes.filter(({ input }) => input.checked).map(({ service }) => service);
    const current = primary.value || [...mine.values()].find((service) => service.primary)?.id;
    setOptions(primary, checked.length ? checked.map((service) => [service.id, service.code]) : [["", "—"]], current);
    primary.disabled = !checked.length;
  };
  refreshPrimary();

  const alert = formAlert(`${prefix}-error`);
  const errors = new FormErrors({}, alert);
  const save = h("button", { type: "submit", class: "btn", "data-testid": "memberships-save" }, "Enregistrer");
  const cancel = h("button", { type: "button", class: "btn btn-secondary" }, "Annuler");
  const titleId = `${prefix}-title`;
  const form = h(
    "form",
    { id: `${prefix}-form`, class: "memberships-form", noValidate: true, "data-testid": "memberships-form" },
    alert,
    h(
      "fieldset",
      { class: "check-group" },
      h("legend", {}, "Services"),
      boxes.length ? h("ul", { class: "check-list" }, boxes.map(({ row }) => row)) : h("p", { class: "empty" }, "Aucun service actif."),
    ),
    h("div", { class: "field" }, h("label", { for: primaryId }, "Service principal"), primary),
    h("div", { class: "form-actions" }, save, cancel),
  );
  const dialog = h("dialog", { class: "card memberships-dialog", "aria-labelledby": titleId }, h("h2", { id: titleId }, `Services ${de(who)}`), form);
  const open = h(
    "button",
    { type: "button", class: "btn btn-secondary btn-small", "aria-haspopup": "dialog", "data-testid": "user-services-edit" },
    "Modifier",
    h("span", { class: "visually-hidden" }, ` les services ${de(who)}`),
  );
  open.addEventListener("click", () => {
    dialog.showModal();
    (boxes[0]?.input || primary).focus();
  });
  cancel.addEventListener("click", () => dialog.close());
  dialog.addEventListener("close", () => open.focus());
  onSubmit(form, save, errors, async () => {
    const chosen = boxes.filter(({ input }) => input.checked).map(({ service }) => service.id);
    const body = { services: chosen, primary: chosen.length ? primary.value || chosen[0] : null };
    const payload = await api.request(`/api/users/${encodeURIComponent(target.id)}/services`, { method: "PUT", json: body });
    const codes = (payload.data?.services || []).map((service) => service.code);
    dialog.close();
    await reload(codes.length ? `Services ${de(who)} : ${codes.join(", ")}.` : `${who} n'appartient plus à aucun service.`);
  });
  return h("div", { class: "memberships" }, servicesList(target), open, dialog);
}

export async function usersView(context) {
  const { query, navigate, user: me } = context;
  const filters = pick(query, ["role", "is_active", "q", "page"]);
  const [payload, servicesPayload, config] = await Promise.all([
    api.request("/api/users", { query: { per_page: 20, ...filters } }),
    api.request("/api/services", { query: { is_active: "true" } }),
    api.request("/api/auth/config", { auth: false }),
  ]);
  const users = payload.data || [];
  const services = servicesPayload.data || [];
  const alert = formAlert("users-message");
  const errors = new FormErrors({}, alert);
  const current = `/admin/users${query.toString() ? `?${query}` : ""}`;

  const reload = reloadTo(current, context);

  const patch = (button, target, changes, message) =>
    attempt(button, errors, async () => {
      await api.request(`/api/users/${encodeURIComponent(target.id)}`, { method: "PATCH", json: changes });
      await reload(message);
    });

  const roleCell = (target) => {
    const id = `role-${target.id}`;
    const select = h(
      "select",
      { id, "data-testid": "user-role-select", disabled: target.id === me.id },
      Object.entries(LABELS.role).map(([value, text]) => h("option", { value, selected: value === target.role }, text)),
    );
    const save = h("button", { type: "button", class: "btn btn-secondary btn-small", "data-testid": "user-role-save", disabled: target.id === me.id }, "Appliquer");
    save.addEventListener("click", () => {
      if (select.value === target.role) return;
      patch(save, target, { role: select.value }, `${personName(target)} est maintenant ${label("role", select.value).toLowerCase()}.`);
    });
    return h(
      "div",
      { class: "inline-control" },
      h("label", { for: id, class: "visually-hidden" }, `Rôle ${de(personName(target))}`),
      select,
      save,
    );
  };

  const actionsCell = (target) => {
    if (target.id === me.id) return h("span", { class: "muted" }, "(vous)");
    const toggle = activeToggle(target, { testid: "user-toggle-active", small: true });
    toggle.addEventListener("click", () =>
      patch(
        toggle,
        target,
        { is_active: !target.is_active },
        target.is_active ? `Le compte ${de(personName(target))} est désactivé ; ses sessions sont fermées.` : `Le compte ${de(personName(target))} est réactivé.`,
      ),
    );
    const revoke = h("button", { type: "button", class: "btn btn-secondary btn-small", "data-testid": "user-revoke-sessions" }, "Forcer la déconnexion");
    revoke.addEventListener("click", () =>
      attempt(revoke, errors, async () => {
        const result = await api.request(`/api/users/${encodeURIComponent(target.id)}/revoke-sessions`, { method: "POST" });
        const count = result.data?.revoked ?? 0;
        errors.message(`${count} session${count > 1 ? "s" : ""} ${de(personName(target))} fermée${count > 1 ? "s" : ""}.`, "success");
      }),
    );
    const resetMfa = target.mfa_enabled
      ? h("button", { type: "button", class: "btn btn-secondary btn-small", "data-testid": "user-reset-mfa" }, "Réinitialiser la double authentification")
      : null;
    resetMfa?.addEventListener("click", () =>
      attempt(resetMfa, errors, async () => {
        await api.request(`/api/users/${encodeURIComponent(target.id)}/mfa/reset`, { method: "POST" });
        await reload(`Double authentification ${de(personName(target))} réinitialisée ; ses sessions sont fermées. Elle l'activera de nouveau à sa prochaine connexion.`);
      }),
    );
    return h("div", { class: "user-actions" }, toggle, revoke, resetMfa);
  };

  const queryWithoutPage = { ...filters };
  delete queryWithoutPage.page;
  return h(
    "section",
    { class: "page", "data-testid": "users-page" },
    pageHeader("Utilisateurs"),
    alert,
    filterForm({
      id: "user-filters",
      route: "/admin/users",
      query,
      navigate,
      specs: {
        q: { label: "Recherche", type: "search", placeholder: "Nom, prénom, adresse…" },
        role: { label: "Rôle", type: "select", options: roleOptions("Tous") },
        is_active: { label: "État", type: "select", options: [["", "Tous"], ["true", "Actifs"], ["false", "Désactivés"]] },
      },
    }),
    dataTable({
      testid: "users-table",
      caption: "Utilisateurs",
      empty: "Aucun utilisateur ne correspond à ces critères.",
      rows: users,
      rowAttrs: (target) => ({ "data-testid": "user-row", "data-id": target.id, "data-email": target.email, class: target.is_active ? null : "row-inactive" }),
      columns: [
        {
          label: "Utilisateur",
          class: "user-identity",
          cell: (target) => [
            h("span", { class: "user-name", "data-testid": "user-name" }, personName(target)),
            h("span", { class: "muted block user-email" }, target.email),
            h("span", { class: "muted block" }, [target.contact, `créé le ${formatDateTime(target.created_at)}`].filter(Boolean).join(" · ")),
          ],
        },
        { label: "Rôle", cell: roleCell },
        { label: "Services", class: "user-services-cell", cell: (target) => membershipsEditor(target, services, reload) },
        {
          label: "État",
          cell: (target) => [
            badge("active", target.is_active ? "oui" : "non"),
            target.mfa_enabled ? h("span", { class: "muted block", "data-testid": "user-mfa" }, "Double authentification active") : null,
          ],
        },
        { label: "Actions", class: "user-actions-cell", cell: actionsCell },
      ],
    }),
    pagination(payload.meta, "/admin/users", queryWithoutPage),
    createUserForm(reload, config.data.password_policy),
  );
}

// ---------------------------------------------------------------- the audit's lists

const ADDRESS_FILTERS = { email: { label: "Adresse électronique", type: "search" }, ip: { label: "Adresse IP", type: "search" } };
const PERIOD_FILTERS = { date_from: { label: "Du", type: "date" }, date_to: { label: "Au", type: "date" } };

/**
 * A read-only list of the audit at `url`: its filters (`specs`, kept in the fragment of `route`), its
 * table (`table`: the dataTable spec without rows) and its pagination.
 */
async function auditList({ query, navigate }, { route, url, perPage, testid, title, filterId, specs, table }) {
  const filters = pick(query, [...Object.keys(specs), "page"]);
  const payload = await api.request(url, { query: { per_page: perPage, ...filters } });
  const queryWithoutPage = { ...filters };
  delete queryWithoutPage.page;
  return h(
    "section",
    { class: "page", "data-testid": testid },
    pageHeader(title),
    filterForm({ id: filterId, route, query, navigate, specs }),
    dataTable({ ...table, rows: payload.data || [] }),
    pagination(payload.meta, route, queryWithoutPage),
  );
}

// ---------------------------------------------------------------- connection history

export function connectionsView(context) {
  return auditList(context, {
    route: "/admin/connections",
    url: "/api/audit/sessions",
    perPage: 20,
    testid: "connections-page",
    title: "Historique des connexions",
    filterId: "connection-filters",
    specs: {
      ...ADDRESS_FILTERS,
      active: { label: "Sessions", type: "select", options: [["", "Toutes"], ["true", "Actives"], ["false", "Terminées"]] },
      ...PERIOD_FILTERS,
    },
    table: {
      testid: "connections-table",
      caption: "Sessions de tous les utilisateurs",
      empty: "Aucune connexion ne correspond à ces critères.",
      rowAttrs: (session) => ({ "data-testid": "connection-row", "data-id": session.id }),
      columns: [
        { label: "Utilisateur", cell: (session) => [personName(session.user), session.user?.email ? h("span", { class: "muted block" }, session.user.email) : null] },
        { label: "Adresse IP", cell: (session) => session.ip || "—" },
        { label: "Appareil", cell: deviceCell },
        { label: "Ouverte le", cell: (session) => formatDateTime(session.created_at) },
        { label: "Dernière activité", cell: (session) => formatDateTime(session.last_used_at) },
        { label: "Expire le", cell: (session) => formatDateTime(session.expires_at) },
        { label: "État", cell: sessionState },
      ],
    },
  });
}

// ---------------------------------------------------------------- audit log

/** The event's details as the server says them in words (`summary`): « Service : de FIN à RH ». */
function eventDetails(event) {
  const lines = event.summary || [];
  if (!lines.length) return "—";
  return h(
    "dl",
    { class: "event-summary", "data-testid": "event-summary" },
    lines.map((line) => h("div", {}, h("dt", {}, `${line.label} :`), h("dd", {}, line.value))),
  );
}

/** The event's French label, and the letter it concerns as a link to its screen. */
function eventCell(event) {
  return [
    h("span", { "data-testid": "event-label" }, event.label),
    event.document ? h("a", { class: "block", href: `#/documents/${encodeURIComponent(event.document.id)}` }, event.document.reference || "Le courrier") : null,
  ];
}

/** Whom the event concerns: the account, else the address typed (a failed login). */
function subjectCell(event) {
  if (event.subject_user) return [personName(event.subject_user), h("span", { class: "muted block" }, event.subject_user.email)];
  return event.email || "—";
}

export async function eventsView(context) {
  const types = await api.request("/api/audit/types");
  return auditList(context, {
    route: "/admin/events",
    url: "/api/audit/events",
    perPage: 50,
    testid: "events-page",
    title: "Journal d'audit",
    filterId: "event-filters",
    specs: {
      type: { label: "Événement", type: "select", options: [["", "Tous"], ...(types.data || []).map((type) => [type.type, type.label])] },
      ...ADDRESS_FILTERS,
      ...PERIOD_FILTERS,
    },
    table: {
      testid: "events-table",
      caption: "Événements d'audit",
      empty: "Aucun événement ne correspond à ces critères.",
      rowAttrs: (event) => ({ "data-testid": "event-row", "data-type": event.type }),
      columns: [
        { label: "Date", cell: (event) => formatDateTime(event.created_at) },
        { label: "Événement", cell: eventCell },
        { label: "Par", cell: (event) => (event.actor ? personName(event.actor) : "—") },
        { label: "Compte concerné", cell: subjectCell },
        { label: "Détails", cell: eventDetails },
        { label: "Adresse IP", cell: (event) => event.ip || "—" },
      ],
    },
  });
}
