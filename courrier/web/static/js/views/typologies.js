// Administration of the typologies: the kinds of letters and their treatment deadline in
// working days, with their mode (normal, silence vaut acceptation, silence vaut rejet). Create,
// change, deactivate and reactivate; a typologie is never deleted.

import { h, label, LABELS } from "../dom.js";
import { field, valuesOf } from "../forms.js";
import { adminListView, adminItem, codeAndName, createCard, listCard } from "../admin-list.js";

const modeOptions = () => Object.entries(LABELS.mode);
const days = (count) => `${count} jour${count > 1 ? "s" : ""} ouvré${count > 1 ? "s" : ""}`;

function typologieFields(prefix, typologie = {}, { withCode = false } = {}) {
  const fields = codeAndName(prefix, typologie, { withCode });
  fields.delai_jours = field({
    id: `${prefix}-delai`,
    name: "delai_jours",
    label: "Délai de traitement (jours ouvrés)",
    type: "number",
    required: true,
    inputmode: "numeric",
    value: typologie.delai_jours ?? "",
    hint: "De 1 à 365 jours ouvrés : du lundi au vendredi, hors jours fériés.",
  });
  fields.delai_jours.input.min = "1";
  fields.delai_jours.input.max = "365";
  fields.delai_jours.input.step = "1";
  fields.mode = field({
    id: `${prefix}-mode`,
    name: "mode",
    label: "Mode",
    type: "select",
    value: typologie.mode || "normal",
    options: modeOptions(),
    hint: "Pour une demande où le silence de l'administration vaut décision à l'échéance.",
  });
  return fields;
}

/** The values of the form, `delai_jours` as a JSON integer; null (and a field error) if it is not one. */
function readValues(fields, errors) {
  const values = valuesOf(fields);
  if (!/^\d+$/.test(values.delai_jours)) {
    errors.show({ code: "validation_error", errors: { delai_jours: ["Indiquez un nombre entier de jours ouvrés, de 1 à 365."] } });
    return null;
  }
  values.delai_jours = Number(values.delai_jours);
  return values;
}

function createTypologieCard(reload) {
  return createCard({
    kind: "typologie",
    title: "Nouvelle typologie",
    submitText: "Créer la typologie",
    fields: typologieFields("typologie-new", {}, { withCode: true }),
    plain: ["is_active"],
    url: "/api/typologies",
    read: readValues,
    created: (typologie) => `Typologie ${typologie.code} créée.`,
    reload,
  });
}

function typologieItem(typologie, reload) {
  return adminItem({
    kind: "typologie",
    item: typologie,
    details: [
      h("span", { class: "badge", "data-testid": "typologie-delai" }, days(typologie.delai_jours)),
      typologie.mode !== "normal" ? h("span", { class: `badge badge-mode-${typologie.mode}`, "data-testid": "typologie-mode" }, label("mode", typologie.mode)) : null,
      typologie.is_active ? null : h("span", { class: "badge badge-active-non", "data-testid": "typologie-inactive-badge" }, "Désactivée"),
    ],
    editor: {
      fields: typologieFields(`typologie-${typologie.id}`, typologie),
      plain: ["is_active", "code"],
      url: `/api/typologies/${encodeURIComponent(typologie.id)}`,
      read: readValues,
      saved: () => `Typologie ${typologie.code} modifiée.`,
      toggled: () => `Typologie ${typologie.code} ${typologie.is_active ? "désactivée" : "réactivée"}.`,
      reload,
    },
  });
}

export const typologiesView = adminListView({
  url: "/api/typologies",
  route: "/admin/typologies",
  testid: "typologies-page",
  title: "Typologies",
  intro: "Le délai d'une typologie, en jours ouvrés, fixe l'échéance des courriers qui la portent (à la place de celui de la priorité). Une typologie n'est jamais supprimée : désactivez-la.",
  sections: (typologies, reload) => [
    listCard({
      titleId: "typologies-list-title",
      title: "Typologies",
      items: typologies,
      list: () => h("ul", { class: "typologie-list", "data-testid": "typologies-list" }, typologies.map((typologie) => typologieItem(typologie, reload))),
      emptyTestid: "typologies-empty",
      emptyText: "Aucune typologie pour l'instant.",
    }),
    createTypologieCard(reload),
  ],
});
