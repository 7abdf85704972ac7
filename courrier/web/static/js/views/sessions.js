// "Mes sessions": the devices where the user is signed in, revoking them, the e-mail notifications, and the password.

import * as api from "../api.js";
import { h, formatDateTime } from "../dom.js";
import { field, FormErrors, formAlert, attempt } from "../forms.js";
import { pageHeader, dataTable, sessionState, deviceCell } from "../components.js";
import { passwordForm } from "../panels/password-form.js";

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
  toggle.input.addEventListener("change", () => {
    const wanted = toggle.input.checked;
    attempt(
      toggle.input,
      errors,
      async () => {
        const payload = await api.request("/api/auth/me", { method: "PATCH", json: { notifications_email: wanted } });
        const saved = payload.data?.notifications_email ?? wanted;
        toggle.input.checked = saved;
        if (user) {
          Object.assign(user, payload.data || { notifications_email: saved });
          api.saveUser(user);
        }
        errors.message(saved ? "Vous recevrez les notifications par e-mail." : "Vous ne recevrez plus de notifications par e-mail.", "success");
      },
      { onError: () => { toggle.input.checked = !wanted; } },
    );
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
      attempt(button, errors, async () => {
        await api.request(`/api/auth/sessions/${encodeURIComponent(session.id)}`, { method: "DELETE", endOnAuthFailure: !session.current });
        if (session.current) onLogout("Cette session a été fermée.");
        else navigate(`/sessions${showAll ? "?all=1" : ""}`);
      }),
    );
    return button;
  };

  const toggle = field({ id: "sessions-show-all", name: "all", label: "Afficher aussi les sessions terminées", type: "checkbox" });
  toggle.input.checked = showAll;
  toggle.input.addEventListener("change", () => navigate(toggle.input.checked ? "/sessions?all=1" : "/sessions"));

  const logoutAll = h("button", { type: "button", class: "btn btn-danger", id: "logout-all-button" }, "Se déconnecter partout");
  logoutAll.addEventListener("click", () =>
    attempt(logoutAll, errors, async () => {
      try {
        await api.request("/api/auth/logout-all", { method: "POST", endOnAuthFailure: false });
      } catch (err) {
        if (err.status !== 401) throw err;
        onLogout(); // the session was already dead: nothing left to close here
        return;
      }
      onLogout("Toutes vos sessions ont été fermées, sur tous vos appareils.");
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
    passwordForm({ role: mePayload.data.role }),
  );
}
