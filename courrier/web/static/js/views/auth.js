// Login and registration screens.

import * as api from "../api.js";
import { h } from "../dom.js";
import { field, FormErrors, formAlert, busy, valuesOf } from "../forms.js";

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

export function loginView({ onLogin }) {
  const fields = {
    email: field({ id: "login-email", name: "email", label: "Adresse électronique", type: "email", required: true, autocomplete: "username", inputmode: "email" }),
    password: field({ id: "login-password", name: "password", label: "Mot de passe", type: "password", required: true, autocomplete: "current-password" }),
  };
  const alert = formAlert("login-error");
  const errors = new FormErrors(fields, alert);
  const submit = h("button", { type: "submit", class: "btn btn-block", id: "login-submit" }, "Se connecter");
  const form = h("form", { id: "login-form", noValidate: true }, alert, Object.values(fields).map((f) => f.row), submit);

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    busy(submit, async () => {
      errors.clear();
      const { email, password } = valuesOf(fields);
      try {
        onLogin(await api.login(email, password));
      } catch (err) {
        errors.show(err);
        fields.password.input.value = "";
      }
    });
  });

  return authCard(
    "Connexion",
    "Registre du courrier — accès réservé aux agents du bureau du courrier.",
    form,
    ["Pas encore de compte ? ", h("a", { href: "#/register", id: "register-link" }, "Créer un compte")],
  );
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
      hint: "8 à 72 caractères, difficile à deviner (évitez votre nom ou votre adresse).",
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
