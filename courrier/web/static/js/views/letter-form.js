// Registering a letter (with its files, uploaded once it exists) and correcting it while it is pending: the
// letter's form (panels/letter-fields.js).

import * as api from "../api.js";
import { h } from "../dom.js";
import { field, withoutEmpty } from "../forms.js";
import { pageHeader, docHref, may } from "../components.js";
import { loadServices, loadTypologies } from "../lookups.js";
import { registrationRoutingFields } from "../panels/routing.js";
import { letterForm } from "../panels/letter-fields.js";

/** The screen of a form made by letterForm(). */
const formPage = (title, parts) => h("section", { class: "page page-narrow" }, pageHeader(title), parts.form);

/**
 * Upload `files` to the new letter `doc`, one after the other; resolves with the sentences of those refused
 * (the letter exists whatever happens to its files: each refusal is said on its screen).
 */
async function uploadAll(doc, files) {
  const refused = [];
  for (const file of files) {
    const form = new FormData();
    form.append("file", file);
    try {
      await api.request(`/api/documents/${encodeURIComponent(doc.id)}/attachments`, { method: "POST", form });
    } catch (err) {
      if (err.sessionEnded) throw err;
      const detail = Object.values(err.errors || {}).flat().join(" ") || err.message;
      refused.push(`« ${file.name} » n'a pas été jointe : ${detail}`);
    }
  }
  return refused;
}

export async function documentCreateView({ navigate, flash }) {
  const [services, typologies] = await Promise.all([loadServices(), loadTypologies({ is_active: "true" })]);
  const files = field({
    id: "doc-files",
    name: "files",
    label: "Pièces jointes (facultatives : PDF, PNG ou JPEG)",
    type: "file",
    accept: ".pdf,.png,.jpg,.jpeg,application/pdf,image/png,image/jpeg",
    hint: "Elles sont jointes au courrier dès qu'il est enregistré.",
    testid: "doc-files",
  });
  files.input.multiple = true;
  return formPage("Enregistrer un courrier", letterForm({
    typologies,
    files,
    submitText: "Enregistrer",
    cancelHref: "#/documents",
    routing: services.length ? registrationRoutingFields(services) : null,
    send: async (values) => {
      const optional = ["date_courrier", "date_reception", "description", "typologie_id", "numero_recommande", "expediteur_id", "destinataire_id"];
      const payload = await api.request("/api/documents", { method: "POST", json: withoutEmpty(values, ...optional) });
      const refused = await uploadAll(payload.data, [...files.input.files]);
      const registered = `Courrier enregistré sous la référence ${payload.data.reference}.`;
      flash(refused.length ? `${registered} ${refused.join(" ")}` : registered, refused.length ? "error" : "success");
      navigate(`/documents/${encodeURIComponent(payload.data.id)}`);
    },
  }));
}

export async function documentEditView({ params: [id], navigate, flash }) {
  const [{ data: doc }, typologies] = await Promise.all([api.request(`/api/documents/${encodeURIComponent(id)}`), loadTypologies({ is_active: "true" })]);
  if (!may(doc, "modifier")) {
    return h("section", { class: "page" }, pageHeader("Modifier le courrier"), h("p", { class: "alert alert-error" }, "Ce courrier ne peut plus être modifié."));
  }
  return formPage(`Modifier ${doc.reference}`, letterForm({
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
  }));
}
