// "Sécurité": the second factor (enrolment with its QR code and recovery codes, turning it off) and,
// for a session restricted to it, the forced password change.

import * as api from "../api.js";
import { h, replace } from "../dom.js";
import { field, FormErrors, formAlert, formOf, attempt, onSubmit, valuesOf } from "../forms.js";
import { pageHeader } from "../components.js";
import { passwordForm } from "../panels/password-form.js";

const RESTRICTION_MESSAGES = {
  mfa_enrollment_required:
    "Votre rôle impose la double authentification : activez-la ci-dessous pour accéder à l'application.",
  password_change_required:
    "Choisissez un nouveau mot de passe pour continuer : celui-ci a été fixé par un administrateur (à changer à la première connexion), ou ne respecte plus la politique de sécurité (longueur ou robustesse).",
};
// Once the second factor is on, the banner of a session that had to enrol says so, not « activez-la ci-dessous ».
const ENROLLED_MESSAGE = "Double authentification activée. Conservez vos codes de secours ci-dessous, puis continuez.";

/** The QR code (SVG made by the server, nothing fetched), shown as an image: its markup is never parsed here. */
function qrCode(svgText) {
  const url = URL.createObjectURL(new Blob([svgText], { type: "image/svg+xml" }));
  const image = h("img", { src: url, alt: "QR code à scanner avec votre application d'authentification", width: 200, height: 200 });
  image.addEventListener("load", () => URL.revokeObjectURL(url), { once: true });
  return h("div", { class: "qr-code", "data-testid": "mfa-qr" }, image);
}

function recoveryCodesPanel(codes, onDone) {
  const text = codes.join("\n");
  const status = h("p", { class: "muted", role: "status", id: "recovery-status" });
  const copy = h("button", { type: "button", class: "btn btn-secondary", id: "recovery-copy" }, "Copier les codes");
  copy.addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(text);
      status.textContent = "Codes copiés dans le presse-papiers.";
    } catch {
      status.textContent = "Copie impossible ici : sélectionnez les codes et copiez-les.";
    }
  });
  const print = h("button", { type: "button", class: "btn btn-secondary", id: "recovery-print" }, "Imprimer");
  print.addEventListener("click", () => window.print());
  const done = h("button", { type: "button", class: "btn", id: "recovery-done" }, "J'ai conservé mes codes");
  done.addEventListener("click", onDone);
  return h(
    "section",
    { class: "card card-narrow recovery-codes", "aria-labelledby": "recovery-title", "data-testid": "recovery-codes" },
    h("h2", { id: "recovery-title", tabindex: "-1" }, "Vos codes de secours"),
    h("p", {}, "Chacun permet une connexion si vous n'avez plus votre téléphone. Ils ne seront plus jamais affichés : imprimez-les ou copiez-les en lieu sûr."),
    h("ol", { class: "code-list" }, codes.map((code) => h("li", {}, h("code", {}, code)))),
    h("div", { class: "form-actions" }, copy, print, done),
    status,
  );
}

function enrolment(container, { onEnabled, onConfirmed }) {
  const start = h("button", { type: "button", class: "btn", id: "mfa-start" }, "Activer la double authentification");
  const alert = formAlert("mfa-setup-error");
  const errors = new FormErrors({}, alert);
  start.addEventListener("click", () =>
    attempt(start, errors, async () => {
      const { data } = await api.request("/api/auth/mfa/setup", { method: "POST" });
      replace(container, confirmation(data, { onEnabled, onConfirmed, container }));
      container.querySelector("#mfa-confirm-code")?.focus();
    }),
  );
  return [
    h("p", {}, "Après votre mot de passe, un code à 6 chiffres affiché par une application d'authentification (FreeOTP, Aegis, Google Authenticator…) vous sera demandé."),
    alert,
    start,
  ];
}

function confirmation(setup, { onEnabled, onConfirmed, container }) {
  const code = field({ id: "mfa-confirm-code", name: "code", label: "Code affiché par l'application", required: true, autocomplete: "one-time-code", inputmode: "numeric", maxlength: 6 });
  const submit = h("button", { type: "submit", class: "btn", id: "mfa-confirm-submit" }, "Confirmer l'activation");
  const { form, errors } = formOf({ id: "mfa-confirm-form", fields: { code }, alertId: "mfa-confirm-error", buttons: submit });
  onSubmit(form, submit, errors, async () => {
    const { data } = await api.request("/api/auth/mfa/confirm", { method: "POST", json: { code: code.input.value.replace(/\s/g, "") } });
    onConfirmed();
    replace(container, recoveryCodesPanel(data.recovery_codes, onEnabled));
    container.querySelector("#recovery-title")?.focus();
  });
  return [
    h("ol", { class: "steps" },
      h("li", {}, "Scannez ce QR code avec votre application d'authentification :"),
    ),
    qrCode(setup.qr_svg),
    h("details", { class: "manual-secret" },
      h("summary", {}, "Impossible de scanner ? Saisissez la clé à la main"),
      h("p", {}, "Clé : ", h("code", { "data-testid": "mfa-secret" }, setup.secret.replace(/(.{4})/g, "$1 ").trim())),
    ),
    h("p", {}, "Puis saisissez le code à 6 chiffres qu'elle affiche :"),
    form,
  ];
}

function disableForm({ onDisabled }) {
  const fields = {
    password: field({ id: "mfa-disable-password", name: "password", label: "Mot de passe", type: "password", required: true, autocomplete: "current-password" }),
    code: field({ id: "mfa-disable-code", name: "code", label: "Code à 6 chiffres", required: true, autocomplete: "one-time-code", inputmode: "numeric", maxlength: 6 }),
  };
  const submit = h("button", { type: "submit", class: "btn btn-danger", id: "mfa-disable-submit" }, "Désactiver");
  const { form, errors } = formOf({ id: "mfa-disable-form", fields, alertId: "mfa-disable-error", buttons: submit });
  onSubmit(form, submit, errors, async () => {
    await api.request("/api/auth/mfa/disable", { method: "POST", json: valuesOf(fields) });
    await onDisabled();
  });
  return h("details", { class: "mfa-disable" }, h("summary", {}, "Désactiver la double authentification"), form);
}

export async function securityView({ navigate, flash, refreshUser }) {
  const me = await refreshUser();
  const restriction = me.restriction;
  const reload = async (message) => {
    const user = await refreshUser();
    if (message) flash(message);
    navigate(user.restriction ? "/securite" : restriction ? "/accueil" : "/securite");
  };

  const banner = restriction
    ? h("div", { class: "alert alert-warning", role: "alert", "data-testid": "restriction-banner" }, RESTRICTION_MESSAGES[restriction])
    : null;

  if (restriction === "password_change_required") {
    return h(
      "section",
      { class: "page", "data-testid": "security-page" },
      pageHeader("Sécurité du compte"),
      banner,
      passwordForm({ role: me.role, onChanged: () => reload("Mot de passe modifié.") }),
    );
  }

  const body = h("div", { id: "mfa-body" });
  if (me.mfa_enabled) {
    replace(
      body,
      h("p", { "data-testid": "mfa-status" }, h("span", { class: "badge badge-session-active" }, "Active"), " La double authentification protège votre compte."),
      me.mfa_required
        ? h("p", { class: "muted" }, "Elle est obligatoire pour votre rôle. Téléphone perdu ? Un administrateur peut la réinitialiser.")
        : disableForm({ onDisabled: () => reload("Double authentification désactivée.") }),
    );
  } else {
    const onConfirmed = () => {
      if (!banner) return;
      banner.className = "alert alert-success";
      banner.textContent = ENROLLED_MESSAGE;
    };
    replace(body, enrolment(body, { onEnabled: () => reload("Double authentification activée."), onConfirmed }));
  }

  return h(
    "section",
    { class: "page", "data-testid": "security-page" },
    pageHeader("Sécurité du compte"),
    banner,
    h("section", { class: "card card-narrow", "aria-labelledby": "mfa-title" }, h("h2", { id: "mfa-title" }, "Double authentification"), body),
    restriction ? null : h("p", {}, "Pour changer de mot de passe ou fermer une session : ", h("a", { href: "#/sessions" }, "Mes sessions"), "."),
  );
}
