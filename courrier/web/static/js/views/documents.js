// The mail register's screens: the list with its filters, the registration and edit form, and the
// letter's screen, made of the panels in ../panels/ (decision, treatment, routing, replies,
// acknowledgement, attachments, history).

import * as api from "../api.js";
import { h, replace, badge, label, formatDate, formatDateTime, personName, serviceCode, LABELS, REGISTERED_NATURES } from "../dom.js";
import { field, formOf, onSubmit, valuesOf, withoutEmpty } from "../forms.js";
import { pageHeader, linkButton, dataTable, pagination, filterForm, pick, loadError, serviceOptions, docHref, may } from "../components.js";
import { contactPicker } from "../contact-picker.js";
import { routingPanel, routingDetails, registrationRoutingFields } from "../panels/routing.js";
import { registerExportPanel } from "../panels/register-export.js";
import { correspondenceSection, acknowledgementSection, linkDetails } from "../panels/correspondence.js";
import { deadlineBadge, etatBadge, silenceNotice, treatmentDetails, treatmentPanel, typologieName } from "../panels/treatment.js";
import { decisionPanel } from "../panels/decision.js";
import { attachmentsSection } from "../panels/attachments.js";
import { historySection } from "../panels/history.js";

const FILTERS = ["bannette", "statut", "type", "priorite", "q", "date_from", "date_to", "service_id", "sous_services", "non_affecte", "responsable_id", "page"];

const optionsOf = (kind, anyText) => [
  ...(anyText ? [["", anyText]] : []),
  ...Object.entries(LABELS[kind]),
];

/**
 * The list at `url` (GET), or an empty list if it cannot be read: what it feeds is optional (the
 * services for routing, the typologies, the caller's work queues).
 */
async function optionalList(url, query) {
  try {
    return (await api.request(url, { query })).data || [];
  } catch (err) {
    if (err.sessionEnded) throw err;
    return [];
  }
}

const loadServices = () => optionalList("/api/services");
const loadTypologies = (query) => optionalList("/api/typologies", query);
const loadBannettes = () => optionalList("/api/bannettes");

// The names of the queues, should GET /api/bannettes not answer (the server's libelle wins).
const BANNETTE_LABELS = {
  a_qualifier: "À qualifier",
  a_valider: "À valider",
  a_traiter: "À traiter",
  en_copie: "En copie, non lus",
  en_retard: "En retard",
  mes_enregistrements: "Mes enregistrements en cours",
};

// ---------------------------------------------------------------- list

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
    specs: {
      bannette: { label: "Bannette", type: "select", options: bannetteOptions },
      q: { label: "Recherche", type: "search", placeholder: "Référence, objet, expéditeur…" },
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

  const table = dataTable({
    testid: "documents-table",
    caption: "Courriers enregistrés",
    empty: "Aucun courrier ne correspond à ces critères.",
    rows: documents,
    rowAttrs: (doc) => ({ "data-testid": "document-row", "data-id": doc.id, class: doc.priorite === "urgente" ? "row-urgent" : null }),
    columns: [
      { label: "Référence", cell: (doc) => h("a", { href: docHref(doc), class: "reference", "data-testid": "document-link" }, doc.reference || "—") },
      { label: "Objet", class: "cell-wide", cell: (doc) => h("span", { "data-testid": "document-objet" }, doc.objet) },
      { label: "Type", cell: (doc) => label("type", doc.type) },
      { label: "Expéditeur", cell: (doc) => doc.expediteur },
      { label: "Destinataire", cell: (doc) => doc.destinataire },
      { label: "Priorité", cell: (doc) => badge("priorite", doc.priorite) },
      {
        label: "Statut",
        cell: (doc) =>
          h("span", { class: "badge-stack" }, badge("statut", doc.statut), etatBadge(doc.traitement?.etat, "document-etat")),
      },
      { label: "Échéance", cell: (doc) => deadlineBadge(doc, "document-echeance") },
      { label: "Service", cell: (doc) => h("span", { "data-testid": "document-service" }, serviceCode(doc.service)) },
      { label: "Responsable", cell: (doc) => h("span", { "data-testid": "document-responsable" }, personName(doc.responsable)) },
      { label: "Enregistré le", cell: (doc) => formatDateTime(doc.created_at) },
      { label: "Par", cell: (doc) => personName(doc.created_by) },
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

// ---------------------------------------------------------------- create / edit

/** The options of the typologie select: the active ones, plus the letter's own if it was deactivated since. */
function typologieOptions(typologies, current) {
  const options = [["", "— Aucune (délai de la priorité) —"]];
  const list = current && !typologies.some((typologie) => typologie.id === current.id) ? [...typologies, current] : typologies;
  for (const typologie of list) options.push([typologie.id, typologieName(typologie)]);
  return options;
}

function documentFields(doc = {}, typologies = []) {
  return {
    type: field({ id: "doc-type", name: "type", label: "Type", type: "select", required: true, value: doc.type || "entrant", options: optionsOf("type") }),
    priorite: field({ id: "doc-priorite", name: "priorite", label: "Priorité", type: "select", value: doc.priorite || "normale", options: optionsOf("priorite") }),
    objet: field({ id: "doc-objet", name: "objet", label: "Objet", required: true, maxlength: 255, value: doc.objet }),
    expediteur: field({
      id: "doc-expediteur",
      name: "expediteur",
      label: "Expéditeur",
      required: true,
      maxlength: 255,
      value: doc.expediteur,
      hint: PARTY_HINT,
      testid: "doc-expediteur",
    }),
    destinataire: field({
      id: "doc-destinataire",
      name: "destinataire",
      label: "Destinataire",
      required: true,
      maxlength: 255,
      value: doc.destinataire,
      hint: PARTY_HINT,
      testid: "doc-destinataire",
    }),
    nature: field({ id: "doc-nature", name: "nature", label: "Nature du pli", type: "select", value: doc.nature || "courrier_simple", options: optionsOf("nature"), testid: "doc-nature" }),
    numero_recommande: field({
      id: "doc-numero-recommande",
      name: "numero_recommande",
      label: "Numéro du recommandé",
      required: true,
      maxlength: 20,
      autocomplete: "off",
      value: doc.numero_recommande,
      hint: "13 caractères : 2 lettres ou chiffres puis 11 chiffres, par exemple 1A 123 456 789 01 (espaces permis).",
      testid: "doc-numero-recommande",
    }),
    date_courrier: field({ id: "doc-date-courrier", name: "date_courrier", label: "Date du courrier", type: "date", value: doc.date_courrier }),
    date_reception: field({
      id: "doc-date-reception",
      name: "date_reception",
      label: "Date de réception",
      type: "date",
      value: doc.date_reception,
      hint: doc.id ? "L'échéance est recalculée à partir de cette date." : "Par défaut, aujourd'hui pour un courrier entrant. L'échéance part de cette date.",
    }),
    typologie_id: field({
      id: "doc-typologie",
      name: "typologie_id",
      label: "Typologie (facultative)",
      type: "select",
      value: doc.typologie?.id || "",
      options: typologieOptions(typologies, doc.typologie),
      hint: "Son délai, en jours ouvrés, remplace celui de la priorité.",
      testid: "doc-typologie",
    }),
    description: field({ id: "doc-description", name: "description", label: "Description", type: "textarea", maxlength: 5000, rows: 5, value: doc.description }),
  };
}

const PARTY_HINT = "Tapez quelques lettres pour choisir un correspondant de l'annuaire, ou écrivez librement.";

/** Show the registered-mail number (and require it) only for the registered natures. */
function followNature(fields) {
  const apply = () => {
    const registered = REGISTERED_NATURES.includes(fields.nature.input.value);
    fields.numero_recommande.row.hidden = !registered;
    fields.numero_recommande.input.required = registered;
  };
  fields.nature.input.addEventListener("change", apply);
  apply();
}

/** The contact pickers of the sender and the recipient, under their text inputs. */
function partyPickers(fields, doc) {
  const pickers = {};
  for (const party of ["expediteur", "destinataire"]) {
    const picker = contactPicker(fields[party].input, { chosen: doc[`${party}_contact`] || null, testid: `${party}-picker` });
    fields[party].row.insertBefore(picker.chip, fields[party].error);
    pickers[party] = picker;
  }
  return pickers;
}

function documentForm({ title, doc = {}, typologies, submitText, send, cancelHref, extraFields = {} }) {
  const fields = { ...documentFields(doc, typologies), ...extraFields };
  followNature(fields);
  const pickers = partyPickers(fields, doc);
  const submit = h("button", { type: "submit", class: "btn", id: "document-submit" }, submitText);
  const { form, errors } = formOf({
    id: "document-form",
    className: "card form-grid",
    alertId: "document-form-error",
    fields,
    // A refused contact id is shown under its text input.
    aliases: { expediteur_id: fields.expediteur, destinataire_id: fields.destinataire },
    buttons: [submit, h("a", { href: cancelHref, class: "btn btn-secondary" }, "Annuler")],
    actionsRow: true,
  });
  onSubmit(form, submit, errors, () => {
    const values = valuesOf(fields);
    if (fields.numero_recommande.row.hidden) values.numero_recommande = "";
    values.expediteur_id = pickers.expediteur.current()?.id || null;
    values.destinataire_id = pickers.destinataire.current()?.id || null;
    return send(values);
  });
  return h("section", { class: "page page-narrow" }, pageHeader(title), form);
}

export async function documentCreateView({ navigate, flash }) {
  const [services, typologies] = await Promise.all([loadServices(), loadTypologies({ is_active: "true" })]);
  return documentForm({
    title: "Enregistrer un courrier",
    typologies,
    submitText: "Enregistrer",
    cancelHref: "#/documents",
    extraFields: services.length ? registrationRoutingFields(services) : {},
    send: async (values) => {
      const optional = ["date_courrier", "date_reception", "description", "service_id", "responsable_id", "typologie_id", "numero_recommande", "expediteur_id", "destinataire_id"];
      const payload = await api.request("/api/documents", { method: "POST", json: withoutEmpty(values, ...optional) });
      flash(`Courrier enregistré sous la référence ${payload.data.reference}.`);
      navigate(`/documents/${encodeURIComponent(payload.data.id)}`);
    },
  });
}

export async function documentEditView({ params: [id], navigate, flash }) {
  const [{ data: doc }, typologies] = await Promise.all([api.request(`/api/documents/${encodeURIComponent(id)}`), loadTypologies({ is_active: "true" })]);
  if (!may(doc, "modifier")) {
    return h("section", { class: "page" }, pageHeader("Modifier le courrier"), h("p", { class: "alert alert-error" }, "Ce courrier ne peut plus être modifié."));
  }
  return documentForm({
    title: `Modifier ${doc.reference}`,
    doc,
    typologies,
    submitText: "Enregistrer les modifications",
    cancelHref: docHref(doc),
    send: async (values) => {
      const changes = {};
      for (const [name, value] of Object.entries(values)) {
        if (name === "typologie_id") {
          if (value !== (doc.typologie?.id || "")) changes.typologie_id = value || null;
          continue;
        }
        if (name === "expediteur_id" || name === "destinataire_id") {
          const party = name.replace("_id", "_contact");
          if ((value || null) !== (doc[party]?.id || null)) changes[name] = value || null;
          continue;
        }
        if (name === "numero_recommande") {
          if ((value || null) !== (doc.numero_recommande || null)) changes.numero_recommande = value || null;
          continue;
        }
        const before = doc[name] ?? "";
        if (value === before) continue;
        // A cleared date is sent as null; a cleared description as an empty text.
        changes[name] = value === "" && name.startsWith("date_") ? null : value;
      }
      if (Object.keys(changes).length) {
        await api.request(`/api/documents/${encodeURIComponent(doc.id)}`, { method: "PATCH", json: changes });
        flash("Modifications enregistrées.");
      }
      navigate(`/documents/${encodeURIComponent(doc.id)}`);
    },
  });
}

// ---------------------------------------------------------------- detail

function detailList(doc) {
  const item = (term, value, testid) => [h("dt", {}, term), h("dd", { "data-testid": testid }, value)];
  return h(
    "dl",
    { class: "details" },
    item("Référence", doc.reference, "detail-reference"),
    item("Objet", doc.objet, "detail-objet"),
    item("Type", label("type", doc.type), "detail-type"),
    item("Priorité", badge("priorite", doc.priorite), "detail-priorite"),
    item("Statut", badge("statut", doc.statut), "detail-statut"),
    linkDetails(doc, item),
    item("Date du courrier", formatDate(doc.date_courrier), "detail-date-courrier"),
    item("Date de réception", formatDate(doc.date_reception), "detail-date-reception"),
    treatmentDetails(doc, item),
    routingDetails(doc, item),
    item("Enregistré par", `${personName(doc.created_by)}, le ${formatDateTime(doc.created_at)}`, "detail-created-by"),
    doc.updated_at && doc.updated_at !== doc.created_at ? item("Dernière modification", formatDateTime(doc.updated_at), "detail-updated-at") : null,
    doc.validated_by || doc.validated_at
      ? item(doc.statut === "rejete" ? "Rejeté par" : "Validé par", `${personName(doc.validated_by)}, le ${formatDateTime(doc.validated_at)}`, "detail-validated-by")
      : null,
    doc.motif_rejet ? item("Motif du rejet", doc.motif_rejet, "detail-motif-rejet") : null,
    doc.description ? item("Description", h("span", { class: "pre-wrap" }, doc.description), "detail-description") : null,
  );
}

export async function documentDetailView(context) {
  const { params: [id], isCurrent, navigate, flash } = context;
  const base = `/api/documents/${encodeURIComponent(id)}`;
  const container = h("section", { class: "page", "data-testid": "document-page" });
  const messageBox = h("div", { class: "alert alert-success", role: "status", id: "document-message", tabindex: "-1", hidden: true });

  const load = async () => {
    const [docResult, historyResult, attachmentsResult, typologies] = await Promise.allSettled([
      api.request(base),
      api.request(`${base}/history`),
      api.request(`${base}/attachments`),
      loadTypologies(),
    ]);
    if (docResult.status === "rejected") throw docResult.reason;
    const doc = docResult.value.data;
    return {
      doc,
      // The routing form's pickers are the only use of the services here.
      services: may(doc, "affecter") ? await loadServices() : [],
      typologies: typologies.status === "fulfilled" ? typologies.value : [],
      history: historyResult.status === "fulfilled" ? historyResult.value.data || [] : null,
      attachments: attachmentsResult.status === "fulfilled" ? attachmentsResult.value.data || [] : null,
      partialError: [historyResult, attachmentsResult].find((result) => result.status === "rejected")?.reason,
    };
  };

  const draw = ({ doc, services, typologies, history, attachments, partialError }) => {
    const actions = [linkButton("#/documents", "← Retour au registre", { class: "btn btn-secondary" })];
    if (may(doc, "modifier")) actions.push(linkButton(`${docHref(doc)}/edit`, "Modifier", { id: "edit-document-button" }));
    replace(
      container,
      pageHeader(`${doc.reference} — ${doc.objet}`, ...actions),
      messageBox,
      partialError ? loadError(partialError) : null,
      silenceNotice(doc),
      h(
        "div",
        { class: "detail-grid" },
        h(
          "div",
          { class: "detail-main" },
          h("section", { class: "card", "aria-label": "Informations" }, detailList(doc)),
          decisionPanel(doc, reload),
          correspondenceSection(doc, { navigate, flash }),
          acknowledgementSection(doc, reload),
          treatmentPanel(doc, reload),
          may(doc, "affecter") && services.length ? routingPanel(doc, services, reload) : null,
          attachments ? attachmentsSection(doc, attachments, reload) : null,
        ),
        history ? historySection(history, typologies) : null,
      ),
    );
  };

  async function reload(message) {
    let result;
    try {
      result = await load();
    } catch (err) {
      if (err.sessionEnded) return;
      replace(container, pageHeader("Courrier"), loadError(err));
      return;
    }
    if (!isCurrent()) return;
    draw(result);
    document.getElementById("flash")?.remove(); // the message of the previous step is stale now
    if (message) {
      replace(messageBox, message);
      messageBox.hidden = false;
      messageBox.focus();
    }
  }

  let result;
  try {
    result = await load();
  } catch (err) {
    if (err.status === 404) {
      return h("section", { class: "page" }, pageHeader("Courrier introuvable"), h("p", {}, "Ce courrier n'existe pas ou vous n'y avez pas accès."), linkButton("#/documents", "← Retour au registre"));
    }
    throw err;
  }
  draw(result);
  return container;
}
