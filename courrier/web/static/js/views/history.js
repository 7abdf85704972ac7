// "Mon historique": the user's own security events and connections (GET /api/auth/history…), RGPD's right of access.

import * as api from "../api.js";
import { h, label, formatDateTime } from "../dom.js";
import { pageHeader, dataTable, pagination, sessionState, deviceCell } from "../components.js";

// Event types the shared labels may not name yet (the second factor).
const SECURITY_LABELS = {
  mfa_enabled: "Double authentification activée",
  mfa_disabled: "Double authentification désactivée",
  mfa_failed: "Code de double authentification refusé",
  mfa_recovery_used: "Code de secours utilisé",
  mfa_reset: "Double authentification réinitialisée",
  reauthenticated: "Identité confirmée",
};

const FAILURE_REASONS = { wrong_password: "mot de passe erroné", inactive: "compte désactivé", unknown_email: "adresse inconnue" };

function eventLabel(type) {
  return SECURITY_LABELS[type] || label("event", type);
}

function eventDetail(event) {
  const parts = [];
  if (event.details?.reason) parts.push(FAILURE_REASONS[event.details.reason] || event.details.reason);
  if (!event.by_self && !["login_failed", "mfa_failed"].includes(event.type)) parts.push("par un administrateur");
  return parts.join(", ") || "—";
}

export async function historyView({ query }) {
  const section = query.get("voir") === "connexions" ? "connexions" : "evenements";
  const page = query.get("page") || "1";
  const payload = await api.request(section === "connexions" ? "/api/auth/history/sessions" : "/api/auth/history", {
    query: { page, per_page: "20" },
  });
  const rows = payload.data || [];

  const tab = (id, text) =>
    h(
      "a",
      {
        href: `#/historique?voir=${id}`,
        class: `btn ${section === id ? "" : "btn-secondary"}`.trim(),
        "aria-current": section === id ? "page" : null,
        "data-testid": `history-tab-${id}`,
      },
      text,
    );

  const table =
    section === "connexions"
      ? dataTable({
          testid: "history-sessions",
          caption: "Vos connexions",
          empty: "Aucune connexion enregistrée.",
          rows,
          rowAttrs: () => ({ "data-testid": "history-session-row" }),
          columns: [
            { label: "Ouverte le", cell: (s) => formatDateTime(s.created_at) },
            { label: "Appareil", cell: deviceCell },
            { label: "Adresse IP", cell: (s) => s.ip || "—" },
            { label: "Dernière activité", cell: (s) => formatDateTime(s.last_used_at) },
            { label: "État", cell: sessionState },
          ],
        })
      : dataTable({
          testid: "history-events",
          caption: "Les événements de sécurité de votre compte",
          empty: "Aucun événement.",
          rows,
          rowAttrs: (e) => ({ "data-testid": "history-event-row", "data-type": e.type }),
          columns: [
            { label: "Date", cell: (e) => formatDateTime(e.created_at) },
            { label: "Événement", cell: (e) => eventLabel(e.type) },
            { label: "Précision", cell: eventDetail },
            { label: "Adresse IP", cell: (e) => e.ip || "—" },
            { label: "Appareil", cell: (e) => deviceCell(e) },
          ],
        });

  return h(
    "section",
    { class: "page", "data-testid": "history-page" },
    pageHeader("Mon historique"),
    h(
      "p",
      { class: "muted" },
      "Vos connexions et les événements de sécurité de votre compte, conservés dans un journal infalsifiable. Une connexion que vous ne reconnaissez pas ? Révoquez-la dans « Mes sessions » et changez votre mot de passe.",
    ),
    h("nav", { class: "toolbar", "aria-label": "Partie de l'historique" }, tab("evenements", "Événements de sécurité"), tab("connexions", "Connexions")),
    table,
    pagination(payload.meta, "/historique", new URLSearchParams({ voir: section })),
  );
}
