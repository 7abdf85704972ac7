// DOM helpers. Everything the client shows is built here with createElement and text nodes:
// data never goes through an HTML parser, so a letter whose `objet` is markup is shown as text.

const PROPERTIES = new Set(["value", "checked", "selected", "disabled", "hidden", "multiple", "noValidate"]);

/**
 * Create an element: h("button", {class: "btn", onclick: fn}, "Valider").
 * Attributes named on… must be functions (listeners); strings there are refused so that no
 * inline handler can ever be produced. Children are nodes, strings (text) or nested arrays.
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key.startsWith("on")) {
      if (typeof value !== "function") throw new TypeError(`${key} doit être une fonction`);
      el.addEventListener(key.slice(2).toLowerCase(), value);
    } else if (key === "class") {
      el.className = Array.isArray(value) ? value.filter(Boolean).join(" ") : value;
    } else if (key === "dataset") {
      Object.assign(el.dataset, value);
    } else if (PROPERTIES.has(key)) {
      el[key] = value;
    } else {
      el.setAttribute(key, value === true ? "" : String(value));
    }
  }
  append(el, children);
  return el;
}

/** Append children (nodes, strings as text, arrays, null/false skipped). */
export function append(el, children) {
  for (const child of [children].flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

/** Replace every child of `el` with `children`. */
export function replace(el, ...children) {
  el.replaceChildren();
  return append(el, children);
}

const dateTimeFormat = new Intl.DateTimeFormat("fr-FR", { dateStyle: "short", timeStyle: "short" });
const dateFormat = new Intl.DateTimeFormat("fr-FR", { dateStyle: "short", timeZone: "UTC" });

/** "23/11/2026 09:40" in the browser's time zone, or "—". */
export function formatDateTime(value) {
  if (!value) return "—";
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? String(value) : dateTimeFormat.format(date);
}

/** "23/11/2026" for a YYYY-MM-DD date, or "—". */
export function formatDate(value) {
  if (!value) return "—";
  const date = new Date(`${String(value).slice(0, 10)}T00:00:00Z`);
  return Number.isNaN(date.getTime()) ? String(value) : dateFormat.format(date);
}

/** "12,3 Ko" */
export function formatSize(bytes) {
  if (typeof bytes !== "number") return "—";
  if (bytes < 1024) return `${bytes} o`;
  const units = ["Ko", "Mo", "Go"];
  let size = bytes / 1024;
  let unit = 0;
  while (size >= 1024 && unit < units.length - 1) {
    size /= 1024;
    unit += 1;
  }
  return `${size.toLocaleString("fr-FR", { maximumFractionDigits: 1 })} ${units[unit]}`;
}

/** "Prénom Nom" from a user summary, or "—". */
export function personName(person) {
  if (!person) return "—";
  const name = [person.prenom, person.nom].filter(Boolean).join(" ");
  return name || person.email || "—";
}

/** « de Paul Martin », « d'Anne Durand », « d'Hélène Roux »: French elision before a vowel or an h. */
export function de(name) {
  return /^[aeiouyhàâäéèêëîïôöùûüœæ]/i.test(name) ? `d'${name}` : `de ${name}`;
}

export const LABELS = {
  statut: { a_qualifier: "À qualifier", en_attente: "En attente", valide: "Validé", rejete: "Rejeté", ecarte: "Écarté" },
  type: { entrant: "Entrant", sortant: "Sortant", interne: "Interne" },
  priorite: { normale: "Normale", urgente: "Urgente" },
  role: { agent: "Agent", validateur: "Validateur", administrateur: "Administrateur" },
  action: {
    created: "Enregistrement",
    updated: "Modification",
    validated: "Validation",
    rejected: "Rejet",
    attachment_added: "Pièce jointe ajoutée",
    assigned: "Imputation",
    taken_in_charge: "Prise en charge",
    treated: "Traitement",
    reopened: "Réouverture",
    acknowledged: "Accusé de réception",
    answered: "Réponse validée",
    contact_merged: "Correspondant fusionné",
    captured: "Reçu à qualifier",
    qualified: "Enregistré au registre",
    set_aside: "Écarté",
  },
  etat: { a_traiter: "À traiter", en_cours: "En cours", traite: "Traité" },
  mode: { normal: "Normal", sva: "Silence vaut acceptation", svr: "Silence vaut rejet" },
  active: { oui: "Actif", non: "Désactivé" },
  mime: { "application/pdf": "PDF", "image/png": "PNG", "image/jpeg": "JPEG", "image/tiff": "TIFF", "message/rfc822": "Courriel", "text/plain": "Texte" },
  texte: {
    en_attente: "Texte en cours d'extraction",
    extrait: "Texte extrait",
    reconnu: "Texte reconnu (OCR)",
    aucun: "Aucun texte",
    echec: "Échec de l'extraction du texte",
    indisponible: "Reconnaissance de texte indisponible sur ce serveur",
  },
  reason: {
    logout: "déconnexion",
    logout_all: "déconnexion de toutes les sessions",
    revoked_by_user: "révoquée par l'utilisateur",
    password_changed: "mot de passe changé",
    deactivated: "compte désactivé",
    admin_revoked: "révoquée par un administrateur",
    refresh_reuse: "réutilisation d'un jeton de renouvellement",
  },
  event: {
    login_succeeded: "Connexion réussie",
    login_failed: "Échec de connexion",
    logout: "Déconnexion",
    logout_all: "Déconnexion de toutes les sessions",
    token_refreshed: "Jeton renouvelé",
    refresh_reuse_detected: "Réutilisation d'un jeton détectée",
    password_changed: "Mot de passe modifié",
    user_created: "Utilisateur créé",
    user_updated: "Utilisateur modifié",
    sessions_revoked: "Sessions révoquées",
    document_validated: "Courrier validé",
    document_rejected: "Courrier rejeté",
    document_assigned: "Courrier imputé",
    service_created: "Service créé",
    service_updated: "Service modifié",
    memberships_changed: "Services d'un utilisateur modifiés",
    document_taken_in_charge: "Courrier pris en charge",
    document_treated: "Courrier traité",
    document_reopened: "Courrier rouvert",
    typologie_changed: "Typologie créée ou modifiée",
    notifications_changed: "Notifications par e-mail modifiées",
    contacts_merged: "Correspondants fusionnés",
    contact_deleted: "Correspondant supprimé",
    register_exported: "Registre exporté",
    oidc_identity_linked: "Compte ProConnect associé",
    document_captured: "Courrier reçu à qualifier",
    document_qualified: "Courrier qualifié",
    document_set_aside: "Courrier écarté",
  },
  nature: {
    courrier_simple: "Courrier simple",
    recommande: "Recommandé",
    recommande_ar: "Recommandé avec accusé de réception",
    courriel: "Courriel",
    fax: "Fax",
    depot_main_propre: "Dépôt en main propre",
    colis: "Colis",
    autre: "Autre",
  },
  contact_type: { personne: "Personne", organisation: "Organisation" },
  job_etat: { en_attente: "En attente", en_cours: "En cours", termine: "Terminé", echec: "Échec" },
  civilite: { "M.": "M.", Mme: "Mme" },
};

/** The natures of a registered letter, which carry a number (and, for one, an acknowledgement of receipt). */
export const REGISTERED_NATURES = ["recommande", "recommande_ar"];

/** A correspondent's name as the server writes it into a letter: "Mme Claire Durand", or the organisation. */
export function contactName(contact, none = "—") {
  if (!contact) return none;
  if (contact.type === "organisation") return contact.organisation || none;
  return [contact.civilite, contact.prenom, contact.nom].filter(Boolean).join(" ") || none;
}

/** "FIN — Service des finances" for a service summary, or `none` ("—"). */
export function serviceName(service, none = "—") {
  if (!service) return none;
  return service.nom ? `${service.code} — ${service.nom}` : service.code;
}

/** A service's code, with its name as a tooltip (tables), or `none`. */
export function serviceCode(service, none = "—") {
  if (!service) return none;
  return h("span", { class: "service-code", title: service.nom || null }, service.code);
}

/** The French label of an enumerated value, or the value itself. */
export function label(kind, value) {
  if (value === null || value === undefined || value === "") return "—";
  return LABELS[kind]?.[value] ?? String(value);
}

/** A coloured badge for an enumerated value (statut, priorite, role…). */
export function badge(kind, value) {
  return h("span", { class: `badge badge-${kind}-${String(value)}` }, label(kind, value));
}

/** A short human description of a user agent string ("Firefox sur Linux"). */
export function describeUserAgent(ua) {
  if (!ua) return "Appareil inconnu";
  const browsers = [
    [/Edg\//, "Edge"],
    [/OPR\//, "Opera"],
    [/Firefox\//, "Firefox"],
    [/Chrom(e|ium)\//, "Chrome"],
    [/Safari\//, "Safari"],
    [/curl\//, "curl"],
    [/python/i, "Script Python"],
  ];
  const systems = [
    [/Android/, "Android"],
    [/iPhone|iPad|iOS/, "iOS"],
    [/Windows/, "Windows"],
    [/Mac OS X|Macintosh/, "macOS"],
    [/CrOS/, "ChromeOS"],
    [/Linux/, "Linux"],
  ];
  const browser = browsers.find(([re]) => re.test(ua))?.[1];
  const system = systems.find(([re]) => re.test(ua))?.[1];
  if (browser && system) return `${browser} sur ${system}`;
  return browser || system || ua.slice(0, 60);
}
