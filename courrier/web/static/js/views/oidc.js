// ProConnect's return screen (#/oidc), which trades the ticket for a session (the button is panels/proconnect.js).

import * as api from "../api.js";
import { h } from "../dom.js";
import { authCard } from "../components.js";
import { mfaStep } from "../panels/mfa-step.js";

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

function returnCard(...content) {
  return authCard("Connexion avec ProConnect", null, content, null, { "data-testid": "oidc-page" });
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
    if (answer.mfa_required) return mfaStep({ mfaToken: answer.mfa_token, onLogin });
    onLogin(answer);
    return returnCard(h("p", { role: "status" }, "Connexion réussie."));
  } catch (err) {
    return refusal(err.message);
  }
}
