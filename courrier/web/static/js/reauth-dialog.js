// The re-authentication dialog (issue 15): a sensitive action answered `reauthentication_required`
// asks for the password (and the code when MFA is on), then the action is sent again.

import * as api from "./api.js";
import { h } from "./dom.js";
import { field, FormErrors, formAlert, busy, valuesOf } from "./forms.js";

let pending = null;

/** Resolve once the user proved who they are; reject with `original` if they cancel. */
export function askForIdentity(user, original) {
  if (pending) return pending; // several actions waiting: one dialog
  pending = new Promise((resolve, reject) => {
    const fields = {
      password: field({ id: "reauth-password", name: "password", label: "Mot de passe", type: "password", required: true, autocomplete: "current-password" }),
    };
    if (user?.mfa_enabled) {
      fields.code = field({ id: "reauth-code", name: "code", label: "Code à 6 chiffres", required: true, autocomplete: "one-time-code", inputmode: "numeric", maxlength: 6 });
    }
    const alert = formAlert("reauth-error");
    const errors = new FormErrors(fields, alert);
    const submit = h("button", { type: "submit", class: "btn", id: "reauth-submit" }, "Confirmer");
    const cancel = h("button", { type: "button", class: "btn btn-secondary", id: "reauth-cancel" }, "Annuler");
    const form = h("form", { id: "reauth-form", noValidate: true }, alert, Object.values(fields).map((f) => f.row), h("div", { class: "form-actions" }, submit, cancel));
    const dialog = h(
      "dialog",
      { class: "reauth-dialog card", "aria-labelledby": "reauth-title", "aria-describedby": "reauth-intro", "data-testid": "reauth-dialog" },
      h("h2", { id: "reauth-title" }, "Confirmez votre identité"),
      h("p", { id: "reauth-intro" }, "Cette action est sensible : saisissez à nouveau votre mot de passe" + (fields.code ? " et un code de votre application." : ".")),
      form,
    );
    let settled = false;
    const close = (ok) => {
      settled = true;
      dialog.close();
      dialog.remove();
      pending = null;
      if (ok) resolve();
      else reject(original);
    };
    cancel.addEventListener("click", () => close(false));
    dialog.addEventListener("close", () => {
      if (!settled) close(false); // Escape
    });
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      busy(submit, async () => {
        errors.clear();
        const values = valuesOf(fields);
        if (values.code) values.code = values.code.replace(/\s/g, "");
        try {
          await api.request("/api/auth/reauthenticate", { method: "POST", json: values });
          close(true);
        } catch (err) {
          if (err.sessionEnded) close(false);
          else errors.show(err);
        }
      });
    });
    document.body.append(dialog);
    dialog.showModal();
    fields.password.input.focus();
  });
  return pending;
}
