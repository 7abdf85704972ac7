// ProConnect: the button of the login screen and the return screen (#/oidc) that trades the ticket.

import * as api from "../api.js";
import { h, replace } from "../dom.js";
import { mfaStepView } from "./auth.js";

const BRAND = "ProConnect";

// What the return screen says for each reason the server gives (/#/oidc?error=<reason>).
const REFUSALS = {
  state_invalid: "La connexion ProConnect a expiré ou a déjà servi : recommencez depuis l'écran de connexion.",
  provider_error: "La réponse de ProConnect n'a pas pu être vérifiée : recommencez.",
  provider_denied: "La connexion a été annulée sur ProConnect.",
  provider_unavailable: "ProConnect est momentanément injoignable : réessayez dans quelques minutes.",
  siret_not_allowed: "Votre établissement (SIRET) n'a pas accès à ce registre du courrier.",
  account_inactive: "Votre compte est désactivé : adressez-vous à un administrateur.",
  account_unknown: "Aucun compte ne correspond à votre identité ProConnect : demandez à un administrateur de vous en créer un.",
};

/** "Se connecter avec ProConnect" as the button shows it: the brand on its own line, in bold. */
function buttonText(label) {
  if (!label.endsWith(BRAND) || label === BRAND) return h("span", { class: "proconnect-brand" }, label);
  return [
    h("span", { class: "proconnect-login" }, label.slice(0, -BRAND.length).trim()),
    " ",
    h("span", { class: "proconnect-brand" }, BRAND),
  ];
}

/**
 * The ProConnect block of the login screen: empty until GET /api/auth/oidc/config says the feature is
 * on, then the button (a link: the browser itself goes to the provider) and "Qu'est-ce que ProConnect ?".
 */
export function proconnectBlock() {
  const block = h("div", { class: "proconnect", "data-testid": "proconnect", hidden: true });
  api
    .request("/api/auth/oidc/config", { auth: false })
    .then(({ data }) => {
      if (!data?.enabled) return;
      replace(
        block,
        h("p", { class: "proconnect-or" }, "ou"),
        h("a", { href: "/api/auth/oidc/login", class: "proconnect-button", id: "proconnect-login" }, buttonText(data.label)),
        h(
          "p",
          { class: "proconnect-about" },
          h(
            "a",
            { href: "https://proconnect.gouv.fr/", target: "_blank", rel: "noopener", title: "Qu'est-ce que ProConnect ? - nouvelle fenêtre" },
            "Qu'est-ce que ProConnect ?",
          ),
        ),
      );
      block.hidden = false;
    })
    .catch(() => {
      // No button when the configuration cannot be read: the password form still works.
    });
  return block;
}

function returnCard(...content) {
  return h(
    "section",
    { class: "auth-card card", "data-testid": "oidc-page" },
    h("h1", { id: "page-title", tabindex: "-1" }, "Connexion avec ProConnect"),
    ...content,
  );
}

function refusal(message) {
  return returnCard(
    h("div", { class: "alert alert-error", role: "alert", id: "oidc-error", "data-testid": "oidc-error" }, message),
    h("p", { class: "auth-switch" }, h("a", { href: "#/login", id: "oidc-back" }, "Revenir à l'écran de connexion")),
  );
}

/** #/oidc?ticket=… (trade it once for the session) or #/oidc?error=<reason> (say why). */
export async function oidcReturnView({ query, onLogin }) {
  const ticket = query.get("ticket");
  // The ticket leaves the address bar (and the history) at once, whatever happens next.
  window.history.replaceState(null, "", "#/oidc");
  if (!ticket) return refusal(REFUSALS[query.get("error")] || REFUSALS.provider_error);
  try {
    const payload = await api.request("/api/auth/oidc/token", { method: "POST", json: { ticket }, auth: false });
    const answer = api.completeLogin(payload.data);
    // An account with its own second factor that ProConnect did not vouch for: the login's code step.
    if (answer.mfa_required) return mfaStepView({ mfaToken: answer.mfa_token, onLogin });
    onLogin(answer);
    return returnCard(h("p", { role: "status" }, "Connexion réussie."));
  } catch (err) {
    return refusal(err.message);
  }
}
