// The accessibility statement (#/accessibilite), in the structure of the RGAA's model statement
// (DINUM): état de conformité, résultats des tests, contenus non accessibles, établissement de la
// déclaration, retour d'information et contact, voies de recours. Readable signed in or not; the
// contact comes from the deployment (GET /api/accessibilite, setting ACCESSIBILITY_CONTACT).

import * as api from "../api.js";
import { h } from "../dom.js";
import { pageHeader } from "../components.js";

export const COMPLIANCE = "partiellement conforme";
const STATEMENT_DATE = "2 décembre 2026";

// The screens the browser tests open and check with axe-core (tests/browser/).
const TESTED_SCREENS = [
  "Connexion et création de compte",
  "Accueil (bannettes)",
  "Registre du courrier : liste, filtres, enregistrement, fiche d'un courrier, modification",
  "Imputation, traitement et réponse d'un courrier",
  "Correspondants : liste, fiche, création",
  "Mes sessions et changement de mot de passe",
  "Administration : utilisateurs, services, typologies, connexions, journal",
  "Déclaration d'accessibilité",
];

const KNOWN_ISSUES = [
  "Les pièces jointes (courriers numérisés en PDF ou en image) ne sont pas restituées en texte : leur contenu n'est pas lisible par les technologies d'assistance.",
  "L'export PDF du registre n'est pas un PDF balisé ; l'export CSV du même registre en est l'alternative accessible.",
  "Les contrôles automatiques ne couvrent qu'une partie des critères du RGAA (pertinence des textes alternatifs et des intitulés, ordre de lecture, restitution par les lecteurs d'écran…) : ces critères n'ont pas encore été vérifiés manuellement.",
];

function section(id, title, ...content) {
  return h("section", { class: "statement-section", "aria-labelledby": id }, h("h2", { id }, title), content);
}

function list(items) {
  return h("ul", {}, items.map((item) => h("li", {}, item)));
}

function contactParagraph(contact) {
  if (!contact) return h("p", {}, "Le contact du responsable de l'application n'a pas pu être chargé : adressez-vous au bureau du courrier.");
  return h(
    "p",
    {},
    "Contact : ",
    h("a", { href: contact.contact_url, "data-testid": "accessibility-contact" }, contact.contact),
    ".",
  );
}

export async function accessibilityView() {
  let contact = null;
  try {
    contact = (await api.request("/api/accessibilite", { auth: false })).data;
  } catch {
    contact = null; // the statement is still shown, with the fallback sentence
  }
  return h(
    "article",
    { class: "page-narrow statement", "data-testid": "accessibility-page" },
    pageHeader("Déclaration d'accessibilité"),
    h(
      "p",
      {},
      "L'administration qui exploite Courrier s'engage à rendre ses services numériques accessibles, conformément à l'article 47 de la loi n° 2005-102 du 11 février 2005. ",
      "Cette déclaration d'accessibilité s'applique à Courrier, l'application du registre du bureau du courrier.",
    ),
    section(
      "etat-conformite",
      "État de conformité",
      h(
        "p",
        { "data-testid": "compliance-state" },
        "Courrier est ",
        h("strong", {}, COMPLIANCE),
        " avec le référentiel général d'amélioration de l'accessibilité (RGAA), version 4.1.2, en raison des non-conformités énumérées ci-dessous. ",
        "Cet état vaut jusqu'à la réalisation d'un audit complet de conformité.",
      ),
    ),
    section(
      "resultats-tests",
      "Résultats des tests",
      h(
        "p",
        {},
        "Aucun audit complet du RGAA n'a encore été réalisé. Chaque écran est contrôlé automatiquement à chaque intégration continue : ",
        "le moteur axe-core applique les règles WCAG 2.1 de niveaux A et AA à l'écran affiché, dans Chromium, sur un écran d'ordinateur et sur un écran de téléphone ; ",
        "les tests échouent à la moindre violation. À la date de cette déclaration, aucune violation n'est relevée sur les écrans suivants :",
      ),
      list(TESTED_SCREENS),
    ),
    section(
      "contenus-non-accessibles",
      "Contenus non accessibles",
      h("h3", {}, "Non-conformités"),
      list(KNOWN_ISSUES),
      h("h3", {}, "Dérogations pour charge disproportionnée"),
      h("p", {}, "Aucune."),
      h("h3", {}, "Contenus non soumis à l'obligation d'accessibilité"),
      h("p", {}, "Les courriers reçus de tiers et joints tels quels (numérisations, fichiers transmis par les correspondants)."),
    ),
    section(
      "etablissement",
      "Établissement de cette déclaration",
      h("p", {}, `Cette déclaration a été établie le ${STATEMENT_DATE}.`),
      h("h3", {}, "Technologies utilisées pour la réalisation de l'application"),
      list(["HTML5", "CSS", "JavaScript", "WAI-ARIA"]),
      h("h3", {}, "Environnement de test"),
      h("p", {}, "Chromium (Debian), piloté par Playwright, à 1280 × 860 pixels et à la taille d'un téléphone."),
      h("h3", {}, "Outils pour évaluer l'accessibilité"),
      list(["axe-core (Deque Systems), règles WCAG 2.1 A et AA", "Playwright"]),
    ),
    section(
      "contact",
      "Retour d'information et contact",
      h(
        "p",
        {},
        "Si vous n'arrivez pas à accéder à un contenu ou à un service, vous pouvez contacter le responsable de l'application pour être orienté vers une alternative accessible ou obtenir le contenu sous une autre forme.",
      ),
      contactParagraph(contact),
    ),
    section(
      "voies-recours",
      "Voies de recours",
      h(
        "p",
        {},
        "Si vous avez signalé au responsable de l'application un défaut d'accessibilité qui vous empêche d'accéder à un contenu ou à un service, et que vous n'avez pas obtenu de réponse satisfaisante, vous êtes en droit de saisir le Défenseur des droits :",
      ),
      h(
        "ul",
        { "data-testid": "defenseur-des-droits" },
        h("li", {}, h("a", { href: "https://formulaire.defenseurdesdroits.fr/" }, "écrire un message au Défenseur des droits (formulaire en ligne)"), ";"),
        h("li", {}, h("a", { href: "https://www.defenseurdesdroits.fr/saisir/delegues" }, "contacter le délégué du Défenseur des droits dans votre région"), ";"),
        h("li", {}, "l'appeler au ", h("a", { href: "tel:+33969390000" }, "09 69 39 00 00"), ";"),
        h(
          "li",
          {},
          "envoyer un courrier par la poste (gratuit, ne pas mettre de timbre) : ",
          h("address", { class: "postal-address" }, "Défenseur des droits", h("br"), "Libre réponse 71120", h("br"), "75342 Paris CEDEX 07"),
        ),
      ),
    ),
  );
}
