// The login's second step: the 6-digit code of the authenticator app, or one recovery code. Shown
// after a password (login screen) or after ProConnect (its return screen) when the account has a second factor.

import * as api from "../api.js";
import { h } from "../dom.js";
import { field, formOf, onSubmit } from "../forms.js";
import { authCard } from "../components.js";

/** The code step's card; `onLogin` receives the session once the code is accepted. */
export function mfaStep({ mfaToken, onLogin }) {
  const codeField = field({
    id: "mfa-code", name: "code", label: "Code à 6 chiffres", required: true, autocomplete: "one-time-code",
    inputmode: "numeric", maxlength: 6, hint: "Affiché par votre application d'authentification (il change toutes les 30 secondes).",
  });
  const recoveryField = field({
    id: "mfa-recovery-code", name: "recovery_code", label: "Code de secours", required: true, autocomplete: "off",
    maxlength: 20, hint: "Un des dix codes reçus à l'activation ; chacun ne sert qu'une fois.",
  });
  let useRecovery = false;
  recoveryField.row.hidden = true;
  const submit = h("button", { type: "submit", class: "btn btn-block", id: "mfa-submit" }, "Valider");
  const { form, errors } = formOf({ id: "mfa-form", fields: { code: codeField, recovery_code: recoveryField }, alertId: "mfa-error", buttons: submit });
  const toggle = h("button", { type: "button", class: "btn btn-link", id: "mfa-toggle", "aria-controls": "mfa-form" }, "Utiliser un code de secours");
  toggle.addEventListener("click", () => {
    useRecovery = !useRecovery;
    codeField.row.hidden = useRecovery;
    recoveryField.row.hidden = !useRecovery;
    toggle.textContent = useRecovery ? "Utiliser l'application d'authentification" : "Utiliser un code de secours";
    errors.clear();
    (useRecovery ? recoveryField : codeField).input.focus();
  });
  onSubmit(
    form,
    submit,
    errors,
    async () => {
      const proof = useRecovery
        ? { recovery_code: recoveryField.input.value.trim() }
        : { code: codeField.input.value.replace(/\s/g, "") };
      onLogin(await api.verifyMfa(mfaToken, proof));
    },
    { onError: () => { codeField.input.value = recoveryField.input.value = ""; } },
  );
  const card = authCard(
    "Double authentification",
    "Saisissez le code de votre application d'authentification pour terminer la connexion.",
    [form, h("p", {}, toggle)],
    ["Code expiré ou perdu ? ", h("a", { href: "#/login", id: "mfa-restart" }, "Recommencer la connexion")],
    { "data-testid": "mfa-step" },
  );
  queueMicrotask(() => {
    document.title = "Double authentification — courrier";
    card.querySelector("#page-title")?.focus({ preventScroll: true });
  });
  return card;
}
