// Administration of the typologies (issue 13): the kinds of letters and their treatment deadline in
// working days, with their mode (normal, silence vaut acceptation, silence vaut rejet). Create,
// change, deactivate and reactivate; a typologie is never deleted.

import * as api from "../api.js";
import { h, replace, label, LABELS } from "../dom.js";
import { field, FormErrors, formAlert, busy, valuesOf } from "../forms.js";
import { pageHeader } from "../components.js";

const modeOptions = () => Object.entries(LABELS.mode);
const days = (count) => `${count} jour${count > 1 ? "s" : ""} ouvré${count > 1 ? "s" : ""}`;

function typologieFields(prefix, typologie = {}, { withCode = false } = {}) {
  const fields = {};
  if (withCode) {
    fields.code = field({
      id: `${prefix}-code`,
      name: "code",
      label: "Code",
      required: true,
      maxlength: 20,
      autocomplete: "off",
      value: typologie.code,
      hint: "20 caractères au plus : lettres, chiffres, « _ » et « - » (mis en majuscules).",
    });
  }
  fields.nom = field({ id: `${prefix}-nom`, name: "nom", label: "Nom", required: true, maxlength: 255, autocomplete: "off", value: typologie.nom });
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

function createTypologieForm(reload) {
  const fields = typologieFields("typologie-new", {}, { withCode: true });
  const alert = formAlert("typologie-form-error");
  const errors = new FormErrors(fields, alert, { plain: ["is_active"] });
  const submit = h("button", { type: "submit", class: "btn", id: "typologie-submit" }, "Créer la typologie");
  const form = h("form", { id: "typologie-form", class: "form-grid", noValidate: true }, alert, Object.values(fields).map((f) => f.row), h("div", { class: "form-actions" }, submit));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    busy(submit, async () => {
      errors.clear();
      const values = readValues(fields, errors);
      if (!values) return;
      try {
        const payload = await api.request("/api/typologies", { method: "POST", json: values });
        await reload(`Typologie ${payload.data.code} créée.`);
      } catch (err) {
        if (!err.sessionEnded) errors.show(err);
      }
    });
  });
  return h(
    "section",
    { class: "card", "aria-labelledby": "create-typologie-title", id: "create-typologie" },
    h("h2", { id: "create-typologie-title" }, "Nouvelle typologie"),
    form,
  );
}

function editTypologieForm(typologie, reload) {
  const prefix = `typologie-${typologie.id}`;
  const fields = typologieFields(prefix, typologie);
  const alert = formAlert(`${prefix}-error`);
  const errors = new FormErrors(fields, alert, { plain: ["is_active", "code"] });
  const url = `/api/typologies/${encodeURIComponent(typologie.id)}`;

  const send = (button, changes, message) =>
    busy(button, async () => {
      errors.clear();
      try {
        await api.request(url, { method: "PATCH", json: changes });
        await reload(message);
      } catch (err) {
        if (!err.sessionEnded) errors.show(err);
      }
    });

  const submit = h("button", { type: "submit", class: "btn", "data-testid": "typologie-save" }, "Enregistrer");
  const toggle = h(
    "button",
    { type: "button", class: ["btn", typologie.is_active ? "btn-danger" : "btn-success"], "data-testid": "typologie-toggle-active" },
    typologie.is_active ? "Désactiver" : "Réactiver",
  );
  toggle.addEventListener("click", () =>
    send(toggle, { is_active: !typologie.is_active }, `Typologie ${typologie.code} ${typologie.is_active ? "désactivée" : "réactivée"}.`),
  );

  const form = h(
    "form",
    { id: `${prefix}-form`, class: "typologie-edit form-grid", noValidate: true, hidden: true, "data-testid": "typologie-edit-form" },
    alert,
    Object.values(fields).map((f) => f.row),
    h("div", { class: "form-actions" }, submit, toggle),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    errors.clear();
    const values = readValues(fields, errors);
    if (!values) return;
    const changes = {};
    for (const [name, value] of Object.entries(values)) {
      if (value !== typologie[name]) changes[name] = value;
    }
    if (!Object.keys(changes).length) {
      errors.message("Aucune modification.", "success");
      return;
    }
    send(submit, changes, `Typologie ${typologie.code} modifiée.`);
  });
  return { form, focus: () => fields.nom.input.focus() };
}

function typologieItem(typologie, reload) {
  const edit = editTypologieForm(typologie, reload);
  const button = h(
    "button",
    { type: "button", class: "btn btn-secondary btn-small", "aria-expanded": "false", "aria-controls": edit.form.id, "data-testid": "typologie-edit" },
    "Modifier",
    h("span", { class: "visually-hidden" }, ` ${typologie.code}`),
  );
  button.addEventListener("click", () => {
    edit.form.hidden = !edit.form.hidden;
    button.setAttribute("aria-expanded", String(!edit.form.hidden));
    if (!edit.form.hidden) edit.focus();
  });
  return h(
    "li",
    { "data-testid": "typologie-item", "data-id": typologie.id, "data-code": typologie.code, class: typologie.is_active ? null : "typologie-inactive" },
    h(
      "div",
      { class: "service-line" },
      h("strong", { class: "service-code", "data-testid": "typologie-code" }, typologie.code),
      h("span", { class: "service-nom", "data-testid": "typologie-nom" }, typologie.nom),
      h("span", { class: "badge", "data-testid": "typologie-delai" }, days(typologie.delai_jours)),
      typologie.mode !== "normal" ? h("span", { class: `badge badge-mode-${typologie.mode}`, "data-testid": "typologie-mode" }, label("mode", typologie.mode)) : null,
      typologie.is_active ? null : h("span", { class: "badge badge-active-non", "data-testid": "typologie-inactive-badge" }, "Désactivée"),
      button,
    ),
    edit.form,
  );
}

export async function typologiesView({ navigate, flash }) {
  const payload = await api.request("/api/typologies");
  const typologies = payload.data || [];
  const reload = async (message) => {
    flash(message);
    navigate("/admin/typologies");
  };
  const page = h("section", { class: "page", "data-testid": "typologies-page" });
  return replace(
    page,
    pageHeader("Typologies"),
    h(
      "p",
      { class: "muted" },
      "Le délai d'une typologie, en jours ouvrés, fixe l'échéance des courriers qui la portent (à la place de celui de la priorité). Une typologie n'est jamais supprimée : désactivez-la.",
    ),
    h(
      "section",
      { class: "card", "aria-labelledby": "typologies-list-title" },
      h("h2", { id: "typologies-list-title" }, "Typologies"),
      typologies.length
        ? h("ul", { class: "typologie-list", "data-testid": "typologies-list" }, typologies.map((typologie) => typologieItem(typologie, reload)))
        : h("p", { class: "empty", "data-testid": "typologies-empty" }, "Aucune typologie pour l'instant."),
    ),
    createTypologieForm(reload),
  );
}
