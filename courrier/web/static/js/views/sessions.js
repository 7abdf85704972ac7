// "Mes sessions": the devices where the user is signed in, revoking them, and the password.

import * as api from "../api.js";
import { h, label, formatDateTime, describeUserAgent } from "../dom.js";
import { field, FormErrors, formAlert, busy, valuesOf } from "../forms.js";
import { pageHeader, dataTable } from "../components.js";

/** "Active", "Expirée" or "Révoquée le … (raison)". */
export function sessionState(session) {
  if (session.revoked_at) {
    const reason = session.revoked_reason ? ` (${label("reason", session.revoked_reason)})` : "";
    return h("span", { class: "badge badge-session-revoked" }, `Révoquée le ${formatDateTime(session.revoked_at)}${reason}`);
  }
  if (session.active === false || (session.expires_at && new Date(session.expires_at) < new Date())) {
    return h("span", { class: "badge badge-session-expired" }, "Expirée");
  }
  return h("span", { class: "badge badge-session-active" }, "Active");
}

export function deviceCell(session) {
  return h("span", { title: session.user_agent || "" }, describeUserAgent(session.user_agent));
}

export function passwordForm({ onChanged } = {}) {
  const fields = {
    current_password: field({ id: "password-current", name: "current_password", label: "Mot de passe actuel", type: "password", required: true, autocomplete: "current-password" }),
    password: field({
      id: "password-new",
      name: "password",
      label: "Nouveau mot de passe",
      type: "password",
      required: true,
      autocomplete: "new-password",
      hint: "Au moins 12 caractères, 16 pour un validateur ou un administrateur (72 octets au plus), difficile à deviner.",
    }),
    password_confirmation: field({ id: "password-confirmation", name: "password_confirmation", label: "Confirmation du nouveau mot de passe", type: "password", required: true, autocomplete: "new-password" }),
  };
  const alert = formAlert("password-message");
  const errors = new FormErrors(fields, alert);
  const submit = h("button", { type: "submit", class: "btn", id: "password-submit" }, "Changer le mot de passe");
  const form = h("form", { id: "password-form", noValidate: true }, alert, Object.values(fields).map((f) => f.row), submit);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    busy(submit, async () => {
      errors.clear();
      try {
        const payload = await api.request("/api/auth/password", { method: "POST", json: valuesOf(fields) });
        if (payload.data?.access_token) api.saveAuth(payload.data);
        form.reset();
        errors.message("Mot de passe modifié. Vos autres sessions ont été fermées.", "success");
        if (onChanged) await onChanged();
      } catch (err) {
        if (!err.sessionEnded) errors.show(err);
      }
    });
  });
  return h(
    "section",
    { class: "card card-narrow", "aria-labelledby": "password-title" },
    h("h2", { id: "password-title" }, "Changer de mot de passe"),
    h("p", { class: "muted" }, "Toutes vos autres sessions seront fermées ; celle-ci reste ouverte."),
    form,
  );
}

/** The caller's e-mail notification switch: PATCH /api/auth/me {notifications_email}. */
function notificationsForm(user, me) {
  const enabled = me?.notifications_email !== false;
  const alert = h("div", { id: "notifications-message", class: "alert", role: "status", hidden: true, "data-testid": "notifications-message" });
  const errors = new FormErrors({}, alert);
  const toggle = field({
    id: "notifications-email",
    name: "notifications_email",
    label: "Recevoir les notifications par e-mail",
    type: "checkbox",
    hint: "Courriers imputés à vous ou à vos services, mis en copie, proches de l'échéance ou en retard, décisions sur vos enregistrements.",
    testid: "notifications-email",
  });
  toggle.input.checked = enabled;
  toggle.row.classList.add("field-switch");
  toggle.input.addEventListener("change", async () => {
    const wanted = toggle.input.checked;
    toggle.input.disabled = true;
    errors.clear();
    try {
      const payload = await api.request("/api/auth/me", { method: "PATCH", json: { notifications_email: wanted } });
      const saved = payload.data?.notifications_email ?? wanted;
      toggle.input.checked = saved;
      if (user) {
        Object.assign(user, payload.data || { notifications_email: saved });
        api.saveUser(user);
      }
      errors.message(saved ? "Vous recevrez les notifications par e-mail." : "Vous ne recevrez plus de notifications par e-mail.", "success");
    } catch (err) {
      toggle.input.checked = !wanted;
      if (!err.sessionEnded) errors.show(err);
    } finally {
      toggle.input.disabled = false;
    }
  });
  return h(
    "section",
    { class: "card card-narrow", "aria-labelledby": "notifications-title", "data-testid": "notifications-card" },
    h("h2", { id: "notifications-title" }, "Notifications"),
    alert,
    toggle.row,
  );
}

export async function sessionsView({ query, navigate, onLogout, user }) {
  const showAll = query.get("all") === "1";
  const [payload, mePayload] = await Promise.all([
    api.request("/api/auth/sessions", { query: { active: showAll ? "false" : "true" } }),
    // The switch reads the server's current preference; the stored user is only a fallback.
    api.request("/api/auth/me").catch((err) => {
      if (err.sessionEnded) throw err;
      return { data: user };
    }),
  ]);
  const sessions = payload.data || [];
  const alert = formAlert("sessions-message");
  const errors = new FormErrors({}, alert);

  const revokeButton = (session) => {
    if (session.revoked_at) return null;
    const button = h(
      "button",
      { type: "button", class: "btn btn-danger btn-small", "data-testid": "revoke-session", "data-id": session.id },
      session.current ? "Se déconnecter" : "Révoquer",
    );
    button.addEventListener("click", () =>
      busy(button, async () => {
        try {
          await api.request(`/api/auth/sessions/${encodeURIComponent(session.id)}`, { method: "DELETE", endOnAuthFailure: !session.current });
          if (session.current) {
            onLogout("Cette session a été fermée.");
            return;
          }
          navigate(`/sessions${showAll ? "?all=1" : ""}`);
        } catch (err) {
          if (!err.sessionEnded) errors.show(err);
        }
      }),
    );
    return button;
  };

  const toggle = field({ id: "sessions-show-all", name: "all", label: "Afficher aussi les sessions terminées", type: "checkbox" });
  toggle.input.checked = showAll;
  toggle.input.addEventListener("change", () => navigate(toggle.input.checked ? "/sessions?all=1" : "/sessions"));

  const logoutAll = h("button", { type: "button", class: "btn btn-danger", id: "logout-all-button" }, "Se déconnecter partout");
  logoutAll.addEventListener("click", () =>
    busy(logoutAll, async () => {
      try {
        await api.request("/api/auth/logout-all", { method: "POST", endOnAuthFailure: false });
        onLogout("Toutes vos sessions ont été fermées, sur tous vos appareils.");
      } catch (err) {
        if (err.status === 401) onLogout();
        else errors.show(err);
      }
    }),
  );

  const table = dataTable({
    testid: "sessions-table",
    caption: "Vos sessions",
    empty: "Aucune session.",
    rows: sessions,
    rowAttrs: (session) => ({ "data-testid": "session-row", "data-id": session.id, class: session.current ? "row-current" : null }),
    columns: [
      {
        label: "Appareil",
        cell: (session) => [deviceCell(session), session.current ? h("span", { class: "badge badge-current", "data-testid": "current-session" }, "Cette session") : null],
      },
      { label: "Adresse IP", cell: (session) => session.ip || "—" },
      { label: "Ouverte le", cell: (session) => formatDateTime(session.created_at) },
      { label: "Dernière activité", cell: (session) => formatDateTime(session.last_used_at) },
      { label: "Expire le", cell: (session) => formatDateTime(session.expires_at) },
      { label: "État", cell: sessionState },
      { label: "Action", cell: revokeButton },
    ],
  });

  return h(
    "section",
    { class: "page", "data-testid": "sessions-page" },
    pageHeader("Mes sessions", logoutAll),
    h("p", { class: "muted" }, "Les appareils et navigateurs où vous êtes connecté. Révoquez ceux que vous ne reconnaissez pas."),
    alert,
    h("div", { class: "toolbar" }, toggle.row),
    table,
    notificationsForm(user, mePayload.data),
    passwordForm(),
  );
}
