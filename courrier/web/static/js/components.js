// Reusable pieces of screens: page title, tables that turn into cards on a phone, pagination,
// list filters kept in the URL fragment, the card of the signed-out screens, the cells of a session.

import { h, label, formatDateTime, describeUserAgent } from "./dom.js";
import { field } from "./forms.js";

/** The page title (focused after each navigation, for screen readers) and optional actions. */
export function pageHeader(title, ...actions) {
  return h(
    "div",
    { class: "page-header" },
    h("h1", { id: "page-title", tabindex: "-1" }, title),
    actions.length ? h("div", { class: "page-actions" }, actions) : null,
  );
}

/** A link styled as a button, to a fragment route. */
export function linkButton(href, text, attrs = {}) {
  return h("a", { href, class: "btn", ...attrs }, text);
}

/**
 * A table. columns: [{label, cell: (row) => node|string, class}] (class on the column's th and tds);
 * rowAttrs(row) adds attributes to each <tr>. Each cell carries its column label, shown in front of the value on narrow screens.
 */
export function dataTable({ columns, rows, rowAttrs, caption, empty, testid }) {
  if (!rows.length) return h("p", { class: "empty", "data-testid": `${testid}-empty` }, empty || "Aucun élément.");
  return h(
    "div",
    { class: "table-wrap" },
    h(
      "table",
      { class: "data-table", "data-testid": testid },
      caption ? h("caption", { class: "visually-hidden" }, caption) : null,
      h("thead", {}, h("tr", {}, columns.map((column) => h("th", { scope: "col", class: column.class }, column.label)))),
      h(
        "tbody",
        {},
        rows.map((row) =>
          h(
            "tr",
            rowAttrs ? rowAttrs(row) : {},
            columns.map((column) => h("td", { "data-label": column.label, class: column.class }, column.cell(row))),
          ),
        ),
      ),
    ),
  );
}

/** "Page 2 sur 7 — 137 résultats" with previous/next links that keep the other query parameters. */
export function pagination(meta, route, query) {
  if (!meta) return null;
  const { page = 1, pages = 1, total = 0 } = meta;
  const hrefFor = (target) => {
    const params = new URLSearchParams(query);
    params.set("page", String(target));
    return `#${route}?${params}`;
  };
  const plural = total > 1 ? "résultats" : "résultat";
  return h(
    "nav",
    { class: "pagination", "aria-label": "Pagination", "data-testid": "pagination" },
    page > 1
      ? h("a", { href: hrefFor(page - 1), class: "btn btn-secondary", rel: "prev", "data-testid": "page-prev" }, "← Précédent")
      : h("span", { class: "btn btn-secondary", "aria-disabled": "true" }, "← Précédent"),
    h(
      "span",
      { class: "pagination-status", "data-testid": "page-status" },
      `Page ${Math.min(page, Math.max(pages, 1))} sur ${Math.max(pages, 1)} — ${total} ${plural}`,
    ),
    page < pages
      ? h("a", { href: hrefFor(page + 1), class: "btn btn-secondary", rel: "next", "data-testid": "page-next" }, "Suivant →")
      : h("span", { class: "btn btn-secondary", "aria-disabled": "true" }, "Suivant →"),
  );
}

/**
 * A filter form whose values live in the fragment (#/route?statut=…), so that pagination, the
 * back button and a reload keep them. specs: field() specs keyed by query parameter name.
 * `folded` (true or false) puts it in a « Filtres » disclosure, closed when true, whose summary counts
 * the filters in use: on a phone the list, not the form, fills the first screen.
 */
export function filterForm({ id, route, query, specs, navigate, folded = null }) {
  const fields = {};
  for (const [name, spec] of Object.entries(specs)) {
    if (spec.type === "checkbox") {
      fields[name] = field({ ...spec, id: `${id}-${name}`, name });
      fields[name].input.checked = query.get(name) === "true";
    } else {
      fields[name] = field({ ...spec, id: `${id}-${name}`, name, value: query.get(name) ?? "" });
    }
  }
  const form = h(
    "form",
    { id, class: "filters", role: "search", "aria-label": "Filtres" },
    Object.values(fields).map((f) => f.row),
    h(
      "div",
      { class: "filters-actions" },
      h("button", { type: "submit", class: "btn", id: `${id}-submit` }, "Filtrer"),
      h("a", { href: `#${route}`, class: "btn btn-secondary", id: `${id}-reset` }, "Réinitialiser"),
    ),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const params = new URLSearchParams();
    for (const [name, { input }] of Object.entries(fields)) {
      const value = input.type === "checkbox" ? (input.checked ? "true" : "") : input.value.trim();
      if (value) params.set(name, value);
    }
    const search = params.toString();
    navigate(search ? `${route}?${search}` : route);
  });
  if (folded === null) return form;
  const active = Object.keys(specs).filter((name) => query.get(name)).length;
  return h(
    "details",
    { class: "filters-fold", id: `${id}-fold`, "data-testid": `${id}-fold`, open: !folded },
    h(
      "summary",
      { id: `${id}-summary`, "data-testid": `${id}-summary` },
      "Filtres",
      active ? h("span", { class: "filters-count" }, ` (${active} actif${active > 1 ? "s" : ""})`) : null,
    ),
    form,
  );
}

/** Whether the screen is a phone's (the stylesheet's narrow layout, where tables turn into cards). */
export const isPhone = () => window.matchMedia("(max-width: 720px)").matches;

/** The query parameters of `query` (URLSearchParams) limited to `names`, as an object. */
export function pick(query, names) {
  const picked = {};
  for (const name of names) {
    const value = query.get(name);
    if (value) picked[name] = value;
  }
  return picked;
}

/** The card of a signed-out screen (login, code step, registration, ProConnect's return): its h1 is the page title. */
export function authCard(title, intro, body, footer, attrs = {}) {
  return h(
    "section",
    { class: "auth-card card", ...attrs },
    h("h1", { id: "page-title", tabindex: "-1" }, title),
    intro ? h("p", { class: "muted" }, intro) : null,
    body,
    footer ? h("p", { class: "auth-switch" }, footer) : null,
  );
}

/** A failure box for a screen that could not load. */
export function loadError(err) {
  return h("div", { class: "alert alert-error", role: "alert", "data-testid": "load-error" }, err.message);
}

// ---------------------------------------------------------------- sessions (Mes sessions, Mon historique, Connexions)

/** "Active", "Expirée" or "Révoquée le … (raison)". */
export function sessionState(session) {
  if (session.revoked_at) {
    const reason = session.revoked_reason ? ` (${label("reason", session.revoked_reason)})` : "";
    return h("span", { class: "badge badge-session-revoked" }, `Révoquée le ${formatDateTime(session.revoked_at)}${reason}`);
  }
  if (session.active === false || (session.expires_at && new Date(session.expires_at) < new Date())) {
    return h("span", { class: "badge badge-session-expired" }, "Expirée");
  }
  return h("span", { class: "badge badge-session-active" }, "Active");
}

/** The device of a session or an event ("Firefox sur Linux"), its whole user agent as a tooltip. */
export function deviceCell(session) {
  return h("span", { title: session.user_agent || "" }, describeUserAgent(session.user_agent));
}

// ---------------------------------------------------------------- the services tree

/**
 * The services (GET /api/services, ordered by code) in tree order, each with its `depth`: a parent
 * comes before its children. A service whose parent is unknown is shown at the top level.
 */
export function serviceTree(services) {
  const ids = new Set(services.map((service) => service.id));
  const children = new Map();
  for (const service of services) {
    const parent = service.parent_id && ids.has(service.parent_id) ? service.parent_id : null;
    if (!children.has(parent)) children.set(parent, []);
    children.get(parent).push(service);
  }
  const ordered = [];
  const seen = new Set();
  const walk = (parent, depth) => {
    for (const service of children.get(parent) || []) {
      if (seen.has(service.id)) continue; // a cycle cannot exist server-side; never loop anyway
      seen.add(service.id);
      ordered.push({ ...service, depth });
      walk(service.id, depth + 1);
    }
  };
  walk(null, 0);
  return ordered;
}

/** [value, text] options of a service select, indented by depth; `first` is an optional leading option. */
export function serviceOptions(services, first = null, { activeOnly = true, exclude = null } = {}) {
  const options = first ? [first] : [];
  for (const service of serviceTree(services)) {
    if (activeOnly && !service.is_active) continue;
    if (exclude && exclude(service)) continue;
    const indent = "\u00a0\u00a0".repeat(service.depth);
    const inactive = service.is_active ? "" : " (désactivé)";
    options.push([service.id, `${indent}${service.code} — ${service.nom}${inactive}`]);
  }
  return options;
}

/** Fill a <select> with options ([value, text]) and select `value` if present. */
export function setOptions(select, options, value) {
  select.replaceChildren(
    ...options.map(([optionValue, text]) => h("option", { value: optionValue, selected: String(value ?? "") === String(optionValue) }, text)),
  );
}

// ---------------------------------------------------------------- a letter

/** The fragment route of a letter's screen (a draft's: its qualify screen). */
export const docHref = (doc) => `#/documents/${encodeURIComponent(doc.id)}${doc.statut === "a_qualifier" ? "/qualifier" : ""}`;

/** Whether the server lists `action` among what the caller may do to the letter now (`doc.actions`). */
export const may = (doc, action) => (doc.actions || []).includes(action);
