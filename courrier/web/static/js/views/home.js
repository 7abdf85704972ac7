// The home screen: the caller's work queues (bannettes) with their counts, each one a
// link to the register filtered on it.

import * as api from "../api.js";
import { h, personName } from "../dom.js";
import { pageHeader, linkButton } from "../components.js";

// What each queue holds, in a sentence (GET /api/bannettes gives its name and count).
const DESCRIPTIONS = {
  a_qualifier: "Courriers reçus par courriel ou numérisés, à compléter puis enregistrer au registre (ou à écarter).",
  a_orienter: "Courriers en attente de validation ou sans service traitant.",
  a_valider: "Courriers que vous pouvez valider ou rejeter, dont ceux imputés à vos services.",
  a_traiter: "Courriers dont vous êtes responsable, ou de vos services sans responsable.",
  a_venir: "Courriers imputés à vos services, en attente de validation : ils arrivent bientôt.",
  en_copie: "Courriers reçus en copie que vous n'avez pas encore ouverts.",
  en_retard: "Courriers non traités dont l'échéance est dépassée.",
  mes_enregistrements: "Courriers que vous avez enregistrés, pas encore traités.",
};

const plural = (count) => `${count} courrier${count > 1 ? "s" : ""}`;

function bannetteCard(queue) {
  const libelle = queue.libelle || queue.code;
  const count = Number(queue.count) || 0;
  const alarming = queue.code === "en_retard" && count > 0;
  return h(
    "li",
    { class: ["bannette", count ? "" : "bannette-empty", alarming ? "bannette-alarm" : ""] },
    h(
      "a",
      {
        href: `#/documents?bannette=${encodeURIComponent(queue.code)}`,
        class: "bannette-link",
        "data-testid": "bannette",
        "data-code": queue.code,
        "aria-describedby": `bannette-${queue.code}-description`,
      },
      h("span", { class: "bannette-count", "data-testid": "bannette-count", "aria-hidden": "true" }, String(count)),
      h(
        "span",
        { class: "bannette-name" },
        h("span", { "data-testid": "bannette-libelle" }, libelle),
        h("span", { class: "visually-hidden" }, ` : ${plural(count)}`),
      ),
    ),
    h("p", { class: "bannette-description", id: `bannette-${queue.code}-description` }, DESCRIPTIONS[queue.code] || ""),
  );
}

export async function homeView({ user }) {
  const payload = await api.request("/api/bannettes");
  const queues = payload.data || [];
  return h(
    "section",
    { class: "page", "data-testid": "home-page" },
    pageHeader(
      "Mes bannettes",
      linkButton("#/documents/new", "+ Enregistrer un courrier", { id: "home-new-document" }),
      linkButton("#/documents", "Tout le registre", { class: "btn btn-secondary", id: "home-register" }),
    ),
    h("p", { class: "muted" }, `Bonjour ${personName(user)}. Voici les courriers qui vous attendent ; ouvrez une bannette pour les voir.`),
    queues.length
      ? h("ul", { class: "bannettes", "data-testid": "bannettes", "aria-label": "Bannettes" }, queues.map(bannetteCard))
      : h("p", { class: "empty", "data-testid": "bannettes-empty" }, "Aucune bannette ne vous concerne pour l'instant."),
  );
}
