// The administration lists of things that are never deleted, only deactivated (services, typologies,
// and the users' activation): the creation card, the inline editor that PATCHes only what changed, the
// « Désactiver » / « Réactiver » button, and the « Modifier » button that opens an editor.
// `kind` ("service", "typologie") names the DOM ids and test ids: <kind>-form, <kind>-item, <kind>-save…

import * as api from "./api.js";
import { h } from "./dom.js";
import { field, attempt, formOf, onSubmit } from "./forms.js";
import { pageHeader } from "./components.js";

/**
 * The view of the list at `url` (GET): the page (test id `testid`), its title, a sentence of explanation,
 * then sections(items, reload) (the list, the creation card); reload(message) shows `route` afresh.
 */
export function adminListView({ url, route, testid, title, intro, sections }) {
  return async (context) => {
    const payload = await api.request(url);
    return h(
      "section",
      { class: "page", "data-testid": testid },
      pageHeader(title),
      h("p", { class: "muted" }, intro),
      sections(payload.data || [], reloadTo(route, context)),
    );
  };
}

/** The card of the list: its h2 (id `titleId`), then `list()` or, with no items, the empty sentence. */
export function listCard({ titleId, title, items, list, emptyTestid, emptyText }) {
  return h(
    "section",
    { class: "card", "aria-labelledby": titleId },
    h("h2", { id: titleId }, title),
    items.length ? list() : h("p", { class: "empty", "data-testid": emptyTestid }, emptyText),
  );
}

/** A reload(message) for the views: the message is flashed over `route`, shown afresh. */
export function reloadTo(route, { flash, navigate }) {
  return async (message) => {
    flash(message);
    navigate(route);
  };
}

/** The `code` (when `withCode`) and `nom` fields of an item, ids <prefix>-code and <prefix>-nom. */
export function codeAndName(prefix, item = {}, { withCode = true } = {}) {
  const fields = {};
  if (withCode) {
    fields.code = field({
      id: `${prefix}-code`,
      name: "code",
      label: "Code",
      required: true,
      maxlength: 20,
      autocomplete: "off",
      value: item.code,
      hint: "20 caractères au plus : lettres, chiffres, « _ » et « - » (mis en majuscules).",
    });
  }
  fields.nom = field({ id: `${prefix}-nom`, name: "nom", label: "Nom", required: true, maxlength: 255, autocomplete: "off", value: item.nom });
  return fields;
}

/** « Désactiver » (red) for an active item, « Réactiver » (green) for an inactive one. */
export function activeToggle(item, { testid, small = false }) {
  return h(
    "button",
    { type: "button", class: ["btn", small ? "btn-small" : "", item.is_active ? "btn-danger" : "btn-success"], "data-testid": testid },
    item.is_active ? "Désactiver" : "Réactiver",
  );
}

/**
 * A « Modifier » button that shows and hides `panel` (aria-expanded, aria-controls), `what` read after
 * it by screen readers; `onOpen` runs when the panel opens. Returns {button, show(open)}.
 */
export function editToggle(panel, { testid, what, onOpen }) {
  const button = h(
    "button",
    { type: "button", class: "btn btn-secondary btn-small", "aria-expanded": "false", "aria-controls": panel.id, "data-testid": testid },
    "Modifier",
    h("span", { class: "visually-hidden" }, ` ${what}`),
  );
  const show = (open) => {
    panel.hidden = !open;
    button.setAttribute("aria-expanded", String(open));
    if (open && onOpen) onOpen();
  };
  button.addEventListener("click", () => show(panel.hidden));
  return { button, show };
}

/**
 * The card that creates an item: POST `url` with read(fields, errors) (null when the form itself found
 * an error), then reload(created(data)). Ids: create-<kind>, <kind>-form, <kind>-form-error, <kind>-submit.
 */
export function createCard({ kind, title, submitText, fields, plain, url, read, created, reload }) {
  const submit = h("button", { type: "submit", class: "btn", id: `${kind}-submit` }, submitText);
  const { form, errors } = formOf({ id: `${kind}-form`, className: "form-grid", fields, alertId: `${kind}-form-error`, plain, buttons: submit, actionsRow: true });
  onSubmit(form, submit, errors, async () => {
    const values = read(fields, errors);
    if (!values) return;
    const payload = await api.request(url, { method: "POST", json: values });
    await reload(created(payload.data));
  });
  return h("section", { class: "card", "aria-labelledby": `create-${kind}-title`, id: `create-${kind}` }, h("h2", { id: `create-${kind}-title` }, title), form);
}

/**
 * The hidden inline editor of `item` at `url`: « Enregistrer » PATCHes the fields whose value changed
 * (saved(values) is the message), the active toggle PATCHes is_active (toggled() is the message), and
 * more(send) adds buttons that call send(button, changes, message). Returns {form, focus}.
 */
function itemEditor({ kind, item, fields, plain, url, read, saved, toggled, reload, more = () => [] }) {
  const prefix = `${kind}-${item.id}`;
  // send() runs on a click, once `errors` below exists.
  const send = (button, changes, message) =>
    attempt(button, errors, async () => {
      await api.request(url, { method: "PATCH", json: changes });
      await reload(message);
    });
  const submit = h("button", { type: "submit", class: "btn", "data-testid": `${kind}-save` }, "Enregistrer");
  const toggle = activeToggle(item, { testid: `${kind}-toggle-active` });
  toggle.addEventListener("click", () => send(toggle, { is_active: !item.is_active }, toggled()));
  const { form, errors } = formOf({
    id: `${prefix}-form`,
    className: `${kind}-edit form-grid`,
    fields,
    alertId: `${prefix}-error`,
    plain,
    buttons: [submit, toggle, ...more(send)],
    actionsRow: true,
    attrs: { hidden: true, "data-testid": `${kind}-edit-form` },
  });
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    errors.clear();
    const values = read(fields, errors);
    if (!values) return;
    const changes = Object.fromEntries(Object.entries(values).filter(([name, value]) => value !== (item[name] ?? null)));
    if (!Object.keys(changes).length) {
      errors.message("Aucune modification.", "success");
      return;
    }
    send(submit, changes, saved(values));
  });
  return { form, focus: () => fields.nom.input.focus() };
}

/**
 * One item of the list: a line (its code, its nom, `details` such as badges, « Modifier ») and its
 * editor (the spec of itemEditor in `editor`); `children` follow (a sub-tree). Test ids <kind>-item,
 * <kind>-code, <kind>-nom, <kind>-edit; the class <kind>-inactive marks an inactive item.
 */
export function adminItem({ kind, item, details, editor, children = null }) {
  const edit = itemEditor({ kind, item, ...editor });
  const { button } = editToggle(edit.form, { testid: `${kind}-edit`, what: item.code, onOpen: edit.focus });
  return h(
    "li",
    { "data-testid": `${kind}-item`, "data-id": item.id, "data-code": item.code, class: item.is_active ? null : `${kind}-inactive` },
    h(
      "div",
      { class: "service-line" },
      h("strong", { class: "service-code", "data-testid": `${kind}-code` }, item.code),
      h("span", { class: "service-nom", "data-testid": `${kind}-nom` }, item.nom),
      details,
      button,
    ),
    edit.form,
    children,
  );
}
