// Form building blocks: a labelled field with its own error line, and the plumbing that puts the
// API's `errors` next to the matching fields.

import * as api from "./api.js";
import { h, replace } from "./dom.js";

/**
 * A labelled control. spec: {id, name, label, type, required, value, options: [[value, text]],
 * autocomplete, hint, maxlength, rows, accept, placeholder, inputmode}.
 * Returns {row, input, error}.
 */
export function field(spec) {
  const { id, name, label, type = "text", required = false, value, options, hint } = spec;
  const errorId = `${id}-error`;
  const hintId = hint ? `${id}-hint` : null;
  const describedBy = [hintId, errorId].filter(Boolean).join(" ");
  const common = {
    id,
    name,
    required,
    "aria-describedby": describedBy,
    autocomplete: spec.autocomplete,
    maxlength: spec.maxlength,
    placeholder: spec.placeholder,
    inputmode: spec.inputmode,
    "data-testid": spec.testid,
  };

  let input;
  if (type === "select") {
    input = h(
      "select",
      common,
      (options || []).map(([optionValue, text]) =>
        h("option", { value: optionValue, selected: String(value ?? "") === String(optionValue) }, text),
      ),
    );
  } else if (type === "textarea") {
    input = h("textarea", { ...common, rows: spec.rows || 4 });
    input.value = value ?? "";
  } else {
    input = h("input", { ...common, type, accept: spec.accept });
    if (type !== "file" && value !== undefined && value !== null) input.value = value;
  }

  const error = h("p", { class: "field-error", id: errorId, hidden: true, "aria-live": "polite" });
  const row = h(
    "div",
    { class: ["field", type === "checkbox" ? "field-checkbox" : ""] },
    type === "checkbox"
      ? [input, h("label", { for: id }, label)]
      : [h("label", { for: id }, label, required ? h("span", { class: "required", "aria-hidden": "true" }, " *") : null), input],
    hint ? h("p", { class: "field-hint", id: hintId }, hint) : null,
    error,
  );
  return { row, input, error };
}

/**
 * A new password and its confirmation (names `password` and `password_confirmation`); the confirmation's
 * id is `<id>-confirmation` unless given.
 */
/** « Au moins 16 caractères (72 octets au plus) »: the password rule for `role`, from GET /api/auth/config. */
export function passwordRule(policy, role) {
  return `Au moins ${policy.min_length[role]} caractères (${policy.max_bytes} octets au plus)`;
}

/**
 * Write `sentence(rule)` into the hint of a new-password field once the server's policy is read (the
 * hint keeps its default text should the read fail).
 */
export function statePasswordRule(passwordField, role, sentence) {
  const hint = passwordField.row.querySelector(".field-hint");
  api
    .request("/api/auth/config", { auth: false })
    .then(({ data }) => { hint.textContent = sentence(passwordRule(data.password_policy, role)); })
    .catch(() => {});
}

export function newPasswordFields({ id, confirmationId = `${id}-confirmation`, label, confirmationLabel, hint }) {
  return {
    password: field({ id, name: "password", label, type: "password", required: true, autocomplete: "new-password", hint }),
    password_confirmation: field({ id: confirmationId, name: "password_confirmation", label: confirmationLabel, type: "password", required: true, autocomplete: "new-password" }),
  };
}

/** Flatten whatever an `errors` entry holds (list, string, nested object) into one sentence. */
function messagesOf(value) {
  if (value === null || value === undefined) return [];
  if (Array.isArray(value)) return value.flatMap(messagesOf);
  if (typeof value === "object") return Object.values(value).flatMap(messagesOf);
  return [String(value)];
}

/**
 * Manages the errors of one form: `fields` maps API field names to field() results; `alert` is
 * the form-level message element. Messages of the names in `plain` (fields the form has no input
 * for, e.g. a button's flag) go to the alert without the field name in front.
 */
export class FormErrors {
  constructor(fields, alert, { plain = [] } = {}) {
    this.fields = fields;
    this.alert = alert;
    this.plain = new Set(plain);
  }

  clear() {
    for (const { input, error } of Object.values(this.fields)) {
      input.removeAttribute("aria-invalid");
      replace(error);
      error.hidden = true;
    }
    replace(this.alert);
    this.alert.hidden = true;
    this.alert.className = "alert";
  }

  /** Show an ApiError: each field's messages under it, anything else in the form alert. */
  show(err) {
    this.clear();
    const leftovers = [];
    for (const [name, value] of Object.entries(err.errors || {})) {
      const target = this.fields[name];
      const messages = messagesOf(value);
      if (target) {
        replace(target.error, messages.join(" "));
        target.error.hidden = false;
        target.input.setAttribute("aria-invalid", "true");
      } else {
        leftovers.push(...messages.map((message) => (name.startsWith("_") || this.plain.has(name) ? message : `${name} : ${message}`)));
      }
    }
    const summary = err.code === "validation_error" ? "Le formulaire contient des erreurs." : err.message;
    this.message([summary, ...leftovers].join(" "), "error");
    const firstInvalid = Object.values(this.fields).find(({ input }) => input.getAttribute("aria-invalid"));
    if (firstInvalid) firstInvalid.input.focus();
  }

  /** A form-level message ("error" or "success"). */
  message(text, kind = "error") {
    replace(this.alert, text);
    this.alert.className = `alert alert-${kind}`;
    this.alert.hidden = false;
  }
}

/** An (initially hidden) alert element for a form. */
export function formAlert(id) {
  return h("div", { id, class: "alert", role: "alert", hidden: true, "data-testid": id });
}

/** Run `action` with the submit button disabled, so a double click does not send twice. */
export async function busy(button, action) {
  button.disabled = true;
  button.setAttribute("aria-busy", "true");
  try {
    return await action();
  } finally {
    button.disabled = false;
    button.removeAttribute("aria-busy");
  }
}

/**
 * Run `action` with `button` busy and the form's errors cleared. A failure it throws is shown in
 * `errors`, unless the session ended (the app is then already on its way to the login screen);
 * `onError(err)` runs first, for what else the form undoes (a password emptied, a switch put back).
 * Resolves to the action's result, or undefined when it failed.
 */
export function attempt(button, errors, action, { onError } = {}) {
  return busy(button, async () => {
    errors.clear();
    try {
      return await action();
    } catch (err) {
      if (onError) onError(err);
      if (!err.sessionEnded) errors.show(err);
      return undefined;
    }
  });
}

/** Send `form` through attempt() (its `button` busy, failures shown in `errors`) each time it is submitted. */
export function onSubmit(form, button, errors, action, options) {
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    attempt(button, errors, action, options);
  });
}

/**
 * The usual form: its alert (id `alertId`) first, the rows of `fields` (name → field()), then `buttons`,
 * in a `.form-actions` row when `actionsRow`. `plain` is passed to FormErrors; `aliases` (API name → one of
 * `fields`) show the errors of a name the form has no row for under that field; `attrs` go on the <form>.
 * Returns {form, errors, alert}.
 */
export function formOf({ id, fields, alertId, buttons, className, actionsRow = false, plain, aliases = {}, attrs = {} }) {
  const alert = formAlert(alertId);
  const errors = new FormErrors({ ...fields, ...aliases }, alert, { plain });
  const form = h(
    "form",
    { id, class: className, noValidate: true, ...attrs },
    alert,
    Object.values(fields).map((f) => f.row),
    actionsRow ? h("div", { class: "form-actions" }, buttons) : buttons,
  );
  return { form, errors, alert };
}

/** Show `message` under the field `name` as the API's validation error would: for a value the form checks before sending. */
export function showMissing(errors, name, message) {
  errors.show({ code: "validation_error", errors: { [name]: [message] } });
}

/**
 * A confirmation step, hidden until a button of its panel opens it: `body` (rows, a sentence), then the
 * confirm button (id `confirmId`, class `confirmClass`) and « Annuler ». A <form> (confirmed by submitting
 * it) unless `tag` is "div" (confirmed by a click). Returns {step, confirm, cancel}.
 */
export function confirmStep({ id, body, confirmId, confirmText, confirmClass = "btn", tag = "form" }) {
  const isForm = tag === "form";
  const confirm = h("button", { type: isForm ? "submit" : "button", class: confirmClass, id: confirmId }, confirmText);
  const cancel = h("button", { type: "button", class: "btn btn-secondary" }, "Annuler");
  const step = h(tag, { class: "confirm-panel", id, hidden: true, noValidate: isForm }, body, h("div", { class: "form-actions" }, confirm, cancel));
  return { step, confirm, cancel };
}

/** The values of `fields` (name → field()) as an object, trimmed strings. */
export function valuesOf(fields) {
  const values = {};
  for (const [name, { input }] of Object.entries(fields)) {
    if (input.type === "checkbox") values[name] = input.checked;
    else if (input.type === "password") values[name] = input.value; // spaces are part of a password
    else values[name] = input.value.trim();
  }
  return values;
}

/** `values` without the named entries left empty: optional fields the API wants absent, not "". */
export function withoutEmpty(values, ...names) {
  for (const name of names) if (!values[name]) delete values[name];
  return values;
}
