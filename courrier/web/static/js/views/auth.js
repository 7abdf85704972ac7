// Login and registration screens.

import * as api from "../api.js";
import { h } from "../dom.js";
import { field, formOf, newPasswordFields, onSubmit, statePasswordRule, valuesOf, withoutEmpty } from "../forms.js";
import { authCard } from "../components.js";
import { mfaStep } from "../panels/mfa-step.js";
import { proconnectBlock } from "../panels/proconnect.js";

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
  const submit = h("button", { type: "submit", class: "btn btn-block", id: "login-submit" }, "Se connecter");
  const { form, errors } = formOf({ id: "login-form", fields, alertId: "login-error", buttons: submit });

  const card = authCard(
    "Connexion",
    "Registre du courrier — accès réservé aux agents du bureau du courrier.",
    [form, proconnectBlock()],
    null,
  );
  card.append(registrationOffer());

  onSubmit(
    form,
    submit,
    errors,
    async () => {
      const { email, password } = valuesOf(fields);
      const answer = await api.login(email, password);
      if (answer.mfa_required) card.replaceWith(mfaStep({ mfaToken: answer.mfa_token, onLogin }));
      else onLogin(answer);
    },
    { onError: () => { fields.password.input.value = ""; } },
  );
  return card;
}

export function registerView({ onLogin }) {
  const fields = {
    nom: field({ id: "register-nom", name: "nom", label: "Nom", required: true, autocomplete: "family-name", maxlength: 100 }),
    prenom: field({ id: "register-prenom", name: "prenom", label: "Prénom", required: true, autocomplete: "given-name", maxlength: 100 }),
    email: field({ id: "register-email", name: "email", label: "Adresse électronique", type: "email", required: true, autocomplete: "email", inputmode: "email" }),
    contact: field({ id: "register-contact", name: "contact", label: "Téléphone ou poste (facultatif)", type: "tel", autocomplete: "tel", maxlength: 30 }),
    ...newPasswordFields({
      id: "register-password",
      label: "Mot de passe",
      confirmationLabel: "Confirmation du mot de passe",
      hint: "Au moins 12 caractères (72 octets au plus), difficile à deviner : évitez votre nom, votre adresse et les mots de passe courants.",
    }),
  };
  // Registration makes agents: their rule, as the server applies it.
  statePasswordRule(fields.password, "agent", (rule) => `${rule}, difficile à deviner : évitez votre nom, votre adresse et les mots de passe courants.`);
  const submit = h("button", { type: "submit", class: "btn btn-block", id: "register-submit" }, "Créer mon compte");
  const { form, errors } = formOf({ id: "register-form", fields, alertId: "register-error", buttons: submit });
  onSubmit(form, submit, errors, async () => onLogin(await api.register(withoutEmpty(valuesOf(fields), "contact"))));

  return authCard(
    "Créer un compte",
    "Les nouveaux comptes ont le rôle « agent ». Un administrateur peut ensuite l'élargir.",
    form,
    ["Déjà inscrit ? ", h("a", { href: "#/login", id: "login-link" }, "Se connecter")],
  );
}
