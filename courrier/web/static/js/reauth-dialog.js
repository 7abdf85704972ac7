// The re-authentication dialog: a sensitive action answered `reauthentication_required`
// asks for the password (and the code when MFA is on), then the action is sent again.

import * as api from "./api.js";
import { h } from "./dom.js";
import { field, formOf, onSubmit, valuesOf } from "./forms.js";

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
    const submit = h("button", { type: "submit", class: "btn", id: "reauth-submit" }, "Confirmer");
    const cancel = h("button", { type: "button", class: "btn btn-secondary", id: "reauth-cancel" }, "Annuler");
    const { form, errors } = formOf({ id: "reauth-form", fields, alertId: "reauth-error", buttons: [submit, cancel], actionsRow: true });
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
    onSubmit(
      form,
      submit,
      errors,
      async () => {
        const values = valuesOf(fields);
        if (values.code) values.code = values.code.replace(/\s/g, "");
        await api.request("/api/auth/reauthenticate", { method: "POST", json: values });
        close(true);
      },
      { onError: (err) => { if (err.sessionEnded) close(false); } },
    );
    document.body.append(dialog);
    dialog.showModal();
    fields.password.input.focus();
  });
  return pending;
}
