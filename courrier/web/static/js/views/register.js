// The mail register: the list of letters with its filters, or one work queue (bannette).

import * as api from "../api.js";
import { h, badge, label, formatDateTime, personName, serviceCode } from "../dom.js";
import { pageHeader, linkButton, dataTable, pagination, filterForm, isPhone, pick, serviceOptions, docHref, may } from "../components.js";
import { optionsOf, loadServices, loadBannettes } from "../lookups.js";
import { registerExportPanel } from "../panels/register-export.js";
import { deadlineBadge, etatBadge } from "../panels/treatment.js";

const FILTERS = ["bannette", "statut", "type", "priorite", "q", "tri", "date_from", "date_to", "service_id", "sous_services", "non_affecte", "responsable_id", "page"];


// The names of the queues, should GET /api/bannettes not answer (the server's libelle wins).
const BANNETTE_LABELS = {
  a_qualifier: "À qualifier",
  a_orienter: "À orienter",
  a_valider: "À valider",
  a_venir: "En attente de validation",
  a_traiter: "À traiter",
  en_copie: "En copie, non lus",
  en_retard: "En retard",
  mes_enregistrements: "Mes enregistrements en cours",
};

// ---------------------------------------------------------------- list

/**
 * The passage of a search result where the words were found (`extrait`: segments {texte, surligne}), the
 * matched words in <mark>: text nodes only, never markup.
 */
function extrait(doc) {
  if (!Array.isArray(doc.extrait) || !doc.extrait.length) return null;
  return h(
    "span",
    { class: "extrait", "data-testid": "document-extrait" },
    doc.extrait.map((segment) => (segment.surligne ? h("mark", {}, segment.texte) : segment.texte)),
  );
}

/** A cell holding several facts, one per line (one child, so that the phone's card lays it out as one value). */
const lines = (...children) => h("span", { class: "cell-lines" }, children.map((child) => h("span", {}, child)));

export async function documentListView({ query, navigate }) {
  const filters = pick(query, FILTERS);
  const [payload, services, bannettes] = await Promise.all([
    api.request("/api/documents", { query: { per_page: 20, ...filters } }),
    loadServices(),
    loadBannettes(),
  ]);
  const documents = payload.data || [];
  const bannette = filters.bannette || "";
  const bannetteLabel = bannettes.find((queue) => queue.code === bannette)?.libelle || BANNETTE_LABELS[bannette] || bannette;
  const bannetteOptions = [["", "Tout le registre"], ...bannettes.map((queue) => [queue.code, queue.libelle])];
  if (bannette && !bannettes.some((queue) => queue.code === bannette)) bannetteOptions.push([bannette, bannetteLabel]);

  const form = filterForm({
    id: "document-filters",
    route: "/documents",
    query,
    navigate,
    folded: isPhone(),
    specs: {
      bannette: { label: "Bannette", type: "select", options: bannetteOptions },
      q: { label: "Recherche", type: "search", placeholder: "Mots du courrier ou de ses pièces jointes", hint: "Majuscules et accents indifférents." },
      ...(filters.q
        ? { tri: { label: "Trier par", type: "select", options: [["", "Pertinence"], ["date", "Date"]], testid: "document-filters-tri" } }
        : {}),
      statut: { label: "Statut", type: "select", options: optionsOf("statut", "Tous") },
      type: { label: "Type", type: "select", options: optionsOf("type", "Tous") },
      priorite: { label: "Priorité", type: "select", options: optionsOf("priorite", "Toutes") },
      date_from: { label: "Enregistré du", type: "date" },
      date_to: { label: "au", type: "date" },
      service_id: { label: "Service traitant", type: "select", options: serviceOptions(services, ["", "Tous"], { activeOnly: false }) },
      sous_services: { label: "avec ses sous-services", type: "checkbox" },
      non_affecte: { label: "Non affectés", type: "checkbox" },
    },
  });

  // Seven columns, so that the register fits a laptop without scrolling sideways: related facts share a
  // cell (the correspondents, the state and its deadline, the service and its responsable, the
  // registration and its author); the registration's column gives way first on a narrower screen.
  const table = dataTable({
    testid: "documents-table",
    caption: "Courriers enregistrés",
    empty: "Aucun courrier ne correspond à ces critères.",
    rows: documents,
    rowAttrs: (doc) => ({ "data-testid": "document-row", "data-id": doc.id, class: doc.priorite === "urgente" ? "row-urgent" : null }),
    columns: [
      {
        label: "Référence",
        cell: (doc) =>
          lines(h("a", { href: docHref(doc), class: "reference", "data-testid": "document-link" }, doc.reference || "À qualifier"), label("type", doc.type)),
      },
      {
        label: "Objet",
        class: "cell-wide",
        cell: (doc) => (doc.extrait?.length ? lines(h("span", { "data-testid": "document-objet" }, doc.objet), extrait(doc)) : h("span", { "data-testid": "document-objet" }, doc.objet)),
      },
      {
        label: "Expéditeur, destinataire",
        class: "cell-break cell-medium",
        cell: (doc) => lines([h("span", { class: "muted" }, "De : "), doc.expediteur || "—"], [h("span", { class: "muted" }, "À : "), doc.destinataire || "—"]),
      },
      { label: "Priorité", cell: (doc) => badge("priorite", doc.priorite) },
      {
        label: "Statut, échéance",
        cell: (doc) =>
          h("span", { class: "badge-stack" }, badge("statut", doc.statut), etatBadge(doc.traitement?.etat, "document-etat"), deadlineBadge(doc, "document-echeance")),
      },
      {
        label: "Service, responsable",
        cell: (doc) =>
          lines(h("span", { "data-testid": "document-service" }, serviceCode(doc.service)), h("span", { "data-testid": "document-responsable" }, personName(doc.responsable))),
      },
      {
        label: "Enregistré",
        class: "col-secondary",
        cell: (doc) => lines(formatDateTime(doc.created_at), [h("span", { class: "muted" }, "par "), personName(doc.created_by)]),
      },
    ],
  });

  const queryWithoutPage = { ...filters };
  delete queryWithoutPage.page;
  return h(
    "section",
    { class: "page", "data-testid": "documents-page" },
    pageHeader(
      bannette ? `Bannette « ${bannetteLabel} »` : "Registre du courrier",
      linkButton("#/documents/new", "+ Enregistrer un courrier", { id: "new-document-button" }),
    ),
    bannette
      ? h(
          "p",
          { class: "bannette-chip", "data-testid": "bannette-chip", "data-code": bannette },
          h("span", {}, "Bannette : ", h("strong", {}, bannetteLabel)),
          h("a", { href: "#/accueil", "data-testid": "back-to-home" }, "← Toutes mes bannettes"),
          h("a", { href: "#/documents", "data-testid": "whole-register" }, "Voir tout le registre"),
        )
      : null,
    may(payload.meta || {}, "exporter_registre") ? registerExportPanel() : null,
    form,
    table,
    pagination(payload.meta, "/documents", queryWithoutPage),
  );
}
