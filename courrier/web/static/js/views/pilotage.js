// Pilotage: the office's dashboard (GET /api/statistiques). Each chart is drawn by Chart.js (vendored UMD
// build, loaded on this screen only) and has its figures beside it as a table (« Voir les données ») and a
// CSV export made by the server. The filters live in the fragment (#/pilotage?date_from=…), like the register's.

import * as api from "../api.js";
import { h, formatDate, serviceName } from "../dom.js";
import { pageHeader, filterForm, isPhone, pick, serviceOptions, loadError } from "../components.js";
import { optionsOf, loadServices, loadTypologies } from "../lookups.js";

const FILTERS = ["date_from", "date_to", "service_id", "sous_services", "type", "typologie_id"];
const CHART_SRC = "/static/vendor/chart.umd.js";
// Colours with at least 3:1 contrast on white (RGAA 3.2 for graphics): blue, red, green of the DSFR.
const COLOURS = { entrants: "#000091", sortants: "#c9191e", internes: "#18753c" };
const TYPE_SERIES = [
  ["entrants", "Reçus (entrants)"],
  ["sortants", "Envoyés (sortants)"],
  ["internes", "Internes"],
];
const MODES = { sva: "Silence vaut acceptation", svr: "Silence vaut rejet" };

let chartLibrary = null;

/**
 * Chart.js, loaded once on this screen: its UMD build, imported as a module of our own origin (script-src
 * 'self'), sets globalThis.Chart. A <script> element would need a TrustedScriptURL (trusted-types 'none').
 */
function loadChartLibrary() {
  chartLibrary ||= import(CHART_SRC).then(
    () => window.Chart,
    () => {
      chartLibrary = null;
      throw new Error("La bibliothèque de graphiques n'a pas pu être chargée.");
    },
  );
  return chartLibrary;
}

const number = (value) => (value ?? 0).toLocaleString("fr-FR");
const days = (value) => (value === null || value === undefined ? "—" : `${number(value)} j`);
const named = (item, none) => (item ? `${item.code} — ${item.nom}` : none);
const serviceLabel = (row) => (row.service ? row.service.code : "Sans service");

/**
 * One chart's card: its title, the canvas (role="img", its summary as aria-label), the data as a table in
 * a disclosure, and the CSV link. `table`: {columns: [label], rows: [[cell…]]}.
 */
function chartCard({ id, title, summary, table, csv, query, draw }) {
  const canvas = h("canvas", { id: `${id}-canvas`, role: "img", "aria-label": summary, "data-testid": `${id}-canvas` });
  const card = h(
    "section",
    { class: "pilotage-card", "aria-labelledby": `${id}-title`, "data-testid": `${id}-card` },
    h("h2", { id: `${id}-title` }, title),
    h("div", { class: "pilotage-chart" }, canvas),
    dataDetails(id, title, table),
    csvButton(csv, query, title),
  );
  return { card, canvas, draw };
}

function dataDetails(id, title, table) {
  return h(
    "details",
    { class: "pilotage-data", "data-testid": `${id}-data` },
    h("summary", {}, "Voir les données"),
    h(
      "div",
      { class: "table-wrap" },
      h(
        "table",
        { class: "data-table pilotage-table", "data-testid": `${id}-table` },
        h("caption", {}, title),
        h("thead", {}, h("tr", {}, table.columns.map((column) => h("th", { scope: "col" }, column)))),
        h(
          "tbody",
          {},
          table.rows.length
            ? table.rows.map(([head, ...cells]) =>
                h(
                  "tr",
                  {},
                  h("th", { scope: "row" }, head),
                  cells.map((cell, index) => h("td", { "data-label": table.columns[index + 1] }, cell)),
                ),
              )
            : h("tr", {}, h("td", { colspan: String(table.columns.length) }, "Aucune donnée pour cette période.")),
        ),
      ),
    ),
  );
}

/** The server's CSV of one table (formula-guarded), fetched with the session's token. */
function csvButton(tableau, query, title) {
  const status = h("span", { class: "pilotage-csv-status", role: "status", "data-testid": `csv-${tableau}-status` });
  const button = h(
    "button",
    {
      type: "button",
      class: "btn btn-secondary",
      "data-testid": `csv-${tableau}`,
      onclick: async () => {
        button.disabled = true;
        status.textContent = "";
        try {
          await api.download("/api/statistiques", null, { query: { ...query, format: "csv", tableau } });
          status.textContent = "Fichier téléchargé.";
        } catch (err) {
          status.textContent = err.message;
        } finally {
          button.disabled = false;
        }
      },
    },
    "Exporter en CSV",
    h("span", { class: "visually-hidden" }, ` : ${title}`),
  );
  return h("p", { class: "pilotage-csv" }, button, status);
}

function chartOptions(extra = {}) {
  return {
    responsive: true,
    maintainAspectRatio: false,
    animation: false,
    locale: "fr-FR",
    plugins: { legend: { position: "bottom" } },
    ...extra,
  };
}

// ---------------------------------------------------------------- the cards

function weeksCard(weeks, query) {
  const totals = TYPE_SERIES.map(([key, text]) => `${text} : ${number(weeks.reduce((sum, w) => sum + w[key], 0))}`);
  return chartCard({
    id: "semaines",
    title: "Courriers par semaine",
    summary: `Courbe des courriers enregistrés par semaine, ${weeks.length} semaines. Totaux : ${totals.join(", ")}.`,
    csv: "semaines",
    query,
    table: {
      columns: ["Semaine", "Lundi", ...TYPE_SERIES.map(([, text]) => text)],
      rows: weeks.map((w) => [w.semaine, formatDate(w.debut), ...TYPE_SERIES.map(([key]) => number(w[key]))]),
    },
    draw: (Chart, canvas) =>
      new Chart(canvas, {
        type: "line",
        data: {
          labels: weeks.map((w) => w.semaine),
          datasets: TYPE_SERIES.map(([key, text]) => ({
            label: text,
            data: weeks.map((w) => w[key]),
            borderColor: COLOURS[key],
            backgroundColor: COLOURS[key],
            pointRadius: 0,
            tension: 0.2,
          })),
        },
        options: chartOptions({ scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } }),
      }),
  });
}

function servicesCard(services, query) {
  const top = [...services].sort((a, b) => b.total - a.total)[0];
  return chartCard({
    id: "services",
    title: "Courriers par service",
    summary: services.length
      ? `Barres des courriers enregistrés par service, ${services.length} services ; le plus chargé : ${serviceLabel(top)} (${number(top.total)}).`
      : "Aucun courrier enregistré dans la période.",
    csv: "services",
    query,
    table: {
      columns: ["Service", ...TYPE_SERIES.map(([, text]) => text), "Total"],
      rows: services.map((row) => [named(row.service, "Sans service"), ...TYPE_SERIES.map(([key]) => number(row[key])), number(row.total)]),
    },
    draw: (Chart, canvas) =>
      new Chart(canvas, {
        type: "bar",
        data: {
          labels: services.map(serviceLabel),
          datasets: TYPE_SERIES.map(([key, text]) => ({ label: text, data: services.map((row) => row[key]), backgroundColor: COLOURS[key] })),
        },
        options: chartOptions({ scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true, ticks: { precision: 0 } } } }),
      }),
  });
}

function lateCard(late, query) {
  const total = late.reduce((sum, row) => sum + row.nombre, 0);
  return chartCard({
    id: "retards",
    title: "Courriers en retard aujourd'hui",
    summary: `Barres des courriers en retard par service : ${number(total)} au total${late.length ? `, ${late.map((row) => `${serviceLabel(row)} ${row.nombre}`).join(", ")}` : ""}.`,
    csv: "retards",
    query,
    table: { columns: ["Service", "Courriers en retard"], rows: late.map((row) => [named(row.service, "Sans service"), number(row.nombre)]) },
    draw: (Chart, canvas) =>
      new Chart(canvas, {
        type: "bar",
        data: { labels: late.map(serviceLabel), datasets: [{ label: "En retard", data: late.map((row) => row.nombre), backgroundColor: COLOURS.sortants }] },
        options: chartOptions({ plugins: { legend: { display: false } }, scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } }),
      }),
  });
}

function durationsCard({ id, title, rows, labelOf, nameOf, csv, query }) {
  const text = rows.map((row) => `${labelOf(row)} : médiane ${days(row.mediane)}, 90e centile ${days(row.p90)}`);
  return chartCard({
    id,
    title,
    summary: rows.length
      ? `Barres du délai de traitement en jours ouvrés. ${text.join(" ; ")}.`
      : "Aucun courrier traité dans la période.",
    csv,
    query,
    table: {
      columns: [id === "delais-services" ? "Service" : "Typologie", "Courriers traités", "Médiane (jours ouvrés)", "90e centile (jours ouvrés)"],
      rows: rows.map((row) => [nameOf(row), number(row.nombre), days(row.mediane), days(row.p90)]),
    },
    draw: (Chart, canvas) =>
      new Chart(canvas, {
        type: "bar",
        data: {
          labels: rows.map(labelOf),
          datasets: [
            { label: "Médiane", data: rows.map((row) => row.mediane), backgroundColor: COLOURS.entrants },
            { label: "90e centile", data: rows.map((row) => row.p90), backgroundColor: COLOURS.internes },
          ],
        },
        options: chartOptions({ scales: { y: { beginAtZero: true, title: { display: true, text: "jours ouvrés" }, ticks: { precision: 0 } } } }),
      }),
  });
}

function silencesSection(silences, meta, query) {
  const title = "Silences à venir (SVA / SVR)";
  return h(
    "section",
    { class: "pilotage-card pilotage-wide", "aria-labelledby": "silences-title", "data-testid": "silences-card" },
    h("h2", { id: "silences-title" }, title),
    h("p", { class: "hint" }, `Courriers ouverts dont l'échéance tombe d'ici le ${formatDate(meta.horizon_silences)} (10 jours ouvrés) : sans réponse, le silence vaudra décision.`),
    silences.length
      ? h(
          "div",
          { class: "table-wrap" },
          h(
            "table",
            { class: "data-table", "data-testid": "silences-table" },
            h("caption", { class: "visually-hidden" }, title),
            h("thead", {}, h("tr", {}, ["Référence", "Objet", "Règle", "Échéance", "Service"].map((text) => h("th", { scope: "col" }, text)))),
            h(
              "tbody",
              {},
              silences.map((row) =>
                h(
                  "tr",
                  {},
                  h("td", { "data-label": "Référence" }, h("a", { href: row.lien, "data-testid": "silence-link" }, row.reference)),
                  h("td", { "data-label": "Objet" }, row.objet),
                  h("td", { "data-label": "Règle" }, h("abbr", { title: MODES[row.mode] }, row.mode.toUpperCase())),
                  h("td", { "data-label": "Échéance" }, formatDate(row.echeance)),
                  h("td", { "data-label": "Service" }, serviceName(row.service, "Sans service")),
                ),
              ),
            ),
          ),
        )
      : h("p", { class: "empty", "data-testid": "silences-empty" }, "Aucun silence dans les 10 prochains jours ouvrés."),
    csvButton("silences", query, title),
  );
}

// ---------------------------------------------------------------- the screen

export async function pilotageView({ query, navigate }) {
  const filters = pick(query, FILTERS);
  const [services, typologies] = await Promise.all([loadServices(), loadTypologies()]);
  const form = filterForm({
    id: "pilotage-filters",
    route: "/pilotage",
    query,
    navigate,
    folded: isPhone(),
    specs: {
      date_from: { label: "Du", type: "date" },
      date_to: { label: "au", type: "date" },
      service_id: { label: "Service traitant", type: "select", options: serviceOptions(services, ["", "Tous mes services"], { activeOnly: false }) },
      sous_services: { label: "avec ses sous-services", type: "checkbox" },
      type: { label: "Type", type: "select", options: optionsOf("type", "Tous") },
      typologie_id: { label: "Typologie", type: "select", options: [["", "Toutes"], ...typologies.map((t) => [t.id, `${t.code} — ${t.nom}`])] },
    },
  });
  const page = h("section", { class: "page pilotage", "data-testid": "pilotage-page" }, pageHeader("Pilotage"), form);

  let payload;
  try {
    payload = await api.request("/api/statistiques", { query: filters });
  } catch (err) {
    if (err.sessionEnded) throw err;
    page.append(loadError(err));
    return page;
  }
  const { data, meta } = payload;
  page.append(
    h(
      "p",
      { class: "pilotage-period", "data-testid": "pilotage-period" },
      `Période du ${formatDate(meta.periode.date_from)} au ${formatDate(meta.periode.date_to)} ; délais en jours ouvrés (réception → traitement) ; retards et silences au ${formatDate(meta.aujourdhui)}.`,
    ),
  );
  const cards = [
    weeksCard(data.semaines, filters),
    servicesCard(data.services, filters),
    lateCard(data.retards, filters),
    durationsCard({ id: "delais-services", title: "Délai de traitement par service", rows: data.delais_services, labelOf: serviceLabel, nameOf: (row) => named(row.service, "Sans service"), csv: "delais_services", query: filters }),
    durationsCard({ id: "delais-typologies", title: "Délai de traitement par typologie", rows: data.delais_typologies, labelOf: (row) => (row.typologie ? row.typologie.code : "Sans typologie"), nameOf: (row) => named(row.typologie, "Sans typologie"), csv: "delais_typologies", query: filters }),
  ];
  page.append(h("div", { class: "pilotage-grid" }, cards.map(({ card }) => card), silencesSection(data.silences, meta, filters)));

  // The charts once the screen is in the document (Chart.js measures its container); data-charts says when.
  setTimeout(async () => {
    try {
      const Chart = await loadChartLibrary();
      for (const { canvas, draw } of cards) draw(Chart, canvas);
      page.dataset.charts = "ready";
    } catch (err) {
      page.dataset.charts = "failed";
      page.append(loadError(err));
    }
  }, 0);
  return page;
}
