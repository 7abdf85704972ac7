// Login and registration screens.

import * as api from "../api.js";
import { h } from "../dom.js";
import { field, FormErrors, formAlert, busy, valuesOf } from "../forms.js";
import { proconnectBlock } from "./oidc.js";

function authCard(title, intro, form, footer) {
  return h(
    "section",
    { class: "auth-card card" },
    h("h1", { id: "page-title", tabindex: "-1" }, title),
    intro ? h("p", { class: "muted" }, intro) : null,
    form,
    footer ? h("p", { class: "auth-switch" }, footer) : null,
  );
}

/**
 * « Créer un compte », shown only when GET /api/auth/config says public registration is open (it is closed by
 * default: administrateurs create the accounts).
 */
function registrationOffer() {
  const offer = h("p", { class: "auth-switch", "data-testid": "registration-offer", hidden: true },
    "Pas encore de compte ? ", h("a", { href: "#/register", id: "register-link" }, "Créer un compte"));
  api
    .request("/api/auth/config", { auth: false })
    .then(({ data }) => { offer.hidden = !data?.registration_open; })
    .catch(() => {});
  return offer;
}

export function loginView({ onLogin }) {
  const fields = {
    email: field({ id: "login-email", name: "email", label: "Adresse électronique", type: "email", required: true, autocomplete: "username", inputmode: "email" }),
    password: field({ id: "login-password", name: "password", label: "Mot de passe", type: "password", required: true, autocomplete: "current-password" }),
  };
  const alert = formAlert("login-error");
  const errors = new FormErrors(fields, alert);
  const submit = h("button", { type: "submit", class: "btn btn-block", id: "login-submit" }, "Se connecter");
  const form = h("form", { id: "login-form", noValidate: true }, alert, Object.values(fields).map((f) => f.row), submit);

  const card = authCard(
    "Connexion",
    "Registre du courrier — accès réservé aux agents du bureau du courrier.",
    [form, proconnectBlock()],
    null,
  );
  card.append(registrationOffer());

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    busy(submit, async () => {
      errors.clear();
      const { email, password } = valuesOf(fields);
      try {
        const answer = await api.login(email, password);
        if (answer.mfa_required) card.replaceWith(mfaStepView({ mfaToken: answer.mfa_token, onLogin }));
        else onLogin(answer);
      } catch (err) {
        errors.show(err);
        fields.password.input.value = "";
      }
    });
  });
  return card;
}

/**
 * The login's second step: the 6-digit code of the authenticator app, or one recovery code.
 * Shown after a password (or ProConnect) when the account has a second factor.
 */
export function mfaStepView({ mfaToken, onLogin }) {
  const codeField = field({
    id: "mfa-code", name: "code", label: "Code à 6 chiffres", required: true, autocomplete: "one-time-code",
    inputmode: "numeric", maxlength: 6, hint: "Affiché par votre application d'authentification (il change toutes les 30 secondes).",
  });
  const recoveryField = field({
    id: "mfa-recovery-code", name: "recovery_code", label: "Code de secours", required: true, autocomplete: "off",
    maxlength: 20, hint: "Un des dix codes reçus à l'activation ; chacun ne sert qu'une fois.",
  });
  let useRecovery = false;
  const alert = formAlert("mfa-error");
  const fields = { code: codeField, recovery_code: recoveryField };
  const errors = new FormErrors(fields, alert);
  recoveryField.row.hidden = true;
  const submit = h("button", { type: "submit", class: "btn btn-block", id: "mfa-submit" }, "Valider");
  const toggle = h("button", { type: "button", class: "btn btn-link", id: "mfa-toggle", "aria-controls": "mfa-form" }, "Utiliser un code de secours");
  toggle.addEventListener("click", () => {
    useRecovery = !useRecovery;
    codeField.row.hidden = useRecovery;
    recoveryField.row.hidden = !useRecovery;
    toggle.textContent = useRecovery ? "Utiliser l'application d'authentification" : "Utiliser un code de secours";
    errors.clear();
    (useRecovery ? recoveryField : codeField).input.focus();
  });
  const form = h("form", { id: "mfa-form", noValidate: true }, alert, codeField.row, recoveryField.row, submit);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    busy(submit, async () => {
      errors.clear();
      const proof = useRecovery
        ? { recovery_code: recoveryField.input.value.trim() }
        : { code: codeField.input.value.replace(/\s/g, "") };
      try {
        onLogin(await api.verifyMfa(mfaToken, proof));
      } catch (err) {
        errors.show(err);
        codeField.input.value = recoveryField.input.value = "";
      }
    });
  });
  const card = authCard(
    "Double authentification",
    "Saisissez le code de votre application d'authentification pour terminer la connexion.",
    [form, h("p", {}, toggle)],
    ["Code expiré ou perdu ? ", h("a", { href: "#/login", id: "mfa-restart" }, "Recommencer la connexion")],
  );
  card.setAttribute("data-testid", "mfa-step");
  queueMicrotask(() => {
    document.title = "Double authentification — courrier";
    card.querySelector("#page-title")?.focus({ preventScroll: true });
  });
  return card;
}

export function registerView({ onLogin }) {
  const fields = {
    nom: field({ id: "register-nom", name: "nom", label: "Nom", required: true, autocomplete: "family-name", maxlength: 100 }),
    prenom: field({ id: "register-prenom", name: "prenom", label: "Prénom", required: true, autocomplete: "given-name", maxlength: 100 }),
    email: field({ id: "register-email", name: "email", label: "Adresse électronique", type: "email", required: true, autocomplete: "email", inputmode: "email" }),
    contact: field({ id: "register-contact", name: "contact", label: "Téléphone ou poste (facultatif)", type: "tel", autocomplete: "tel", maxlength: 30 }),
    password: field({
      id: "register-password",
      name: "password",
      label: "Mot de passe",
      type: "password",
      required: true,
      autocomplete: "new-password",
      hint: "Au moins 12 caractères (72 octets au plus), difficile à deviner : évitez votre nom, votre adresse et les mots de passe courants.",
    }),
    password_confirmation: field({
      id: "register-password-confirmation",
      name: "password_confirmation",
      label: "Confirmation du mot de passe",
      type: "password",
      required: true,
      autocomplete: "new-password",
    }),
  };
  const alert = formAlert("register-error");
  const errors = new FormErrors(fields, alert);
  const submit = h("button", { type: "submit", class: "btn btn-block", id: "register-submit" }, "Créer mon compte");
  const form = h("form", { id: "register-form", noValidate: true }, alert, Object.values(fields).map((f) => f.row), submit);

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    busy(submit, async () => {
      errors.clear();
      const values = valuesOf(fields);
      if (!values.contact) delete values.contact;
      try {
        onLogin(await api.register(values));
      } catch (err) {
        errors.show(err);
      }
    });
  });

  return authCard(
    "Créer un compte",
    "Les nouveaux comptes ont le rôle « agent ». Un administrateur peut ensuite l'élargir.",
    form,
    ["Déjà inscrit ? ", h("a", { href: "#/login", id: "login-link" }, "Se connecter")],
  );
}
