// A letter's screen, made of the panels in ../panels/ (decision, treatment, routing, replies,
// acknowledgement, attachments, history).

import * as api from "../api.js";
import { h, replace, badge, label, formatDate, formatDateTime, personName } from "../dom.js";
import { pageHeader, linkButton, loadError, docHref, may } from "../components.js";
import { loadServices, loadTypologies } from "../lookups.js";
import { routingPanel, routingDetails } from "../panels/routing.js";
import { correspondenceSection, acknowledgementSection, linkDetails } from "../panels/correspondence.js";
import { silenceNotice, treatmentDetails, treatmentPanel } from "../panels/treatment.js";
import { decisionPanel } from "../panels/decision.js";
import { attachmentsSection } from "../panels/attachments.js";
import { historySection } from "../panels/history.js";

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
    if (may(doc, "modifier")) actions.push(linkButton(`#/documents/${encodeURIComponent(doc.id)}/edit`, "Modifier", { id: "edit-document-button" }));
    if (may(doc, "qualifier")) actions.push(linkButton(docHref(doc), "Qualifier", { id: "qualify-document-button" }));
    replace(
      container,
      pageHeader(`${doc.reference || label("statut", doc.statut)} — ${doc.objet}`, ...actions),
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
