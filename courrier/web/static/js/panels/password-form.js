// The password change (Mes sessions, and the Sécurité screen of a session that must change it first).

import * as api from "../api.js";
import { h } from "../dom.js";
import { field, formOf, newPasswordFields, onSubmit, statePasswordRule, valuesOf } from "../forms.js";

/**
 * The "Changer de mot de passe" card; `onChanged` runs once the server accepted the new password. With
 * the caller's `role`, the hint states that role's rule as the server applies it.
 */
export function passwordForm({ onChanged, role } = {}) {
  const fields = {
    current_password: field({ id: "password-current", name: "current_password", label: "Mot de passe actuel", type: "password", required: true, autocomplete: "current-password" }),
    ...newPasswordFields({
      id: "password-new",
      confirmationId: "password-confirmation",
      label: "Nouveau mot de passe",
      confirmationLabel: "Confirmation du nouveau mot de passe",
      hint: "Au moins 12 caractères, 16 pour un validateur ou un administrateur (72 octets au plus), difficile à deviner.",
    }),
  };
  if (role) statePasswordRule(fields.password, role, (rule) => `${rule}, difficile à deviner.`);
  const submit = h("button", { type: "submit", class: "btn", id: "password-submit" }, "Changer le mot de passe");
  const { form, errors } = formOf({ id: "password-form", fields, alertId: "password-message", buttons: submit });
  onSubmit(form, submit, errors, async () => {
    const payload = await api.request("/api/auth/password", { method: "POST", json: valuesOf(fields) });
    if (payload.data?.access_token) api.saveAuth(payload.data);
    form.reset();
    errors.message("Mot de passe modifié. Vos autres sessions ont été fermées.", "success");
    if (onChanged) await onChanged();
  });
  return h(
    "section",
    { class: "card card-narrow", "aria-labelledby": "password-title" },
    h("h2", { id: "password-title" }, "Changer de mot de passe"),
    h("p", { class: "muted" }, "Toutes vos autres sessions seront fermées ; celle-ci reste ouverte."),
    form,
  );
}
