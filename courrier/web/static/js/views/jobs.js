// « Tâches de fond » (administrateurs), from GET /api/jobs: the jobs, newest first, filtered by state (what
// each did, for whom, when, how it ended and the server's message), and each periodic task's rule and last run.

import * as api from "../api.js";
import { h, badge, formatDateTime, personName, LABELS } from "../dom.js";
import { pageHeader, dataTable, pagination, filterForm, pick } from "../components.js";

const ROUTE = "/admin/jobs";

/** When the job was asked for, then started and finished: their time only when on the day it was asked. */
function timesCell(job) {
  const asked = formatDateTime(job.cree_le);
  const [day] = asked.split(" ");
  const when = (value) => {
    const text = formatDateTime(value);
    return text.startsWith(`${day} `) ? `à ${text.slice(day.length + 1)}` : `le ${text}`;
  };
  const later = [job.commence_le ? `commencée ${when(job.commence_le)}` : null, job.termine_le ? `finie ${when(job.termine_le)}` : null].filter(Boolean);
  return [
    h("span", { class: "block" }, `Demandée le ${asked}`),
    later.length ? h("span", { class: "muted block" }, later.join(", ")) : null,
  ];
}

/** Who asked for it: a person, or the schedule (a periodic task has its period). */
function requesterCell(job) {
  if (job.utilisateur) return personName(job.utilisateur);
  return h("span", { class: "muted" }, job.periode ? "Tâche périodique" : "—");
}

/** The periodic tasks (`meta.periodiques`): when each runs, and how its latest period went. */
function periodicTable(tasks) {
  return h(
    "section",
    { class: "jobs-periodic", "aria-labelledby": "jobs-periodic-title" },
    h("h2", { id: "jobs-periodic-title" }, "Tâches périodiques"),
    dataTable({
      testid: "periodic-table",
      caption: "Tâches périodiques",
      empty: "Aucune tâche périodique.",
      rows: tasks,
      rowAttrs: (task) => ({ "data-testid": "periodic-row", "data-type": task.type }),
      columns: [
        { label: "Tâche", cell: (task) => task.libelle },
        { label: "Quand", cell: (task) => task.regle },
        { label: "Dernière fois", cell: (task) => (task.termine_le ? formatDateTime(task.termine_le) : task.periode ? "—" : "jamais") },
        { label: "État", cell: (task) => (task.etat ? badge("job_etat", task.etat) : "—") },
        { label: "Message", class: "cell-break", cell: (task) => task.message || "—" },
      ],
    }),
  );
}

export async function jobsView({ query, navigate }) {
  const filters = pick(query, ["etat", "page"]);
  const payload = await api.request("/api/jobs", { query: { per_page: 50, ...filters } });
  const meta = payload.meta || {};
  const counts = meta.etats || {};
  const etatOptions = Object.entries(LABELS.job_etat).map(([value, text]) => [value, `${text} (${counts[value] ?? 0})`]);
  const queryWithoutPage = { ...filters };
  delete queryWithoutPage.page;
  const again = h("button", { type: "button", class: "btn btn-secondary", "data-testid": "jobs-refresh" }, "Actualiser");
  again.addEventListener("click", () => navigate(`${ROUTE}${query.toString() ? `?${query}` : ""}`));
  return h(
    "section",
    { class: "page", "data-testid": "jobs-page" },
    pageHeader("Tâches de fond", again),
    h(
      "p",
      { class: "muted" },
      "Le travail fait en arrière-plan : les registres en PDF demandés par les agents et les tâches périodiques (envoi des e-mails, avis d'échéance, purges de nuit). Une tâche en échec dit pourquoi dans son message.",
    ),
    filterForm({
      id: "job-filters",
      route: ROUTE,
      query,
      navigate,
      specs: { etat: { label: "État", type: "select", options: [["", "Tous"], ...etatOptions] } },
    }),
    dataTable({
      testid: "jobs-table",
      caption: "Tâches de fond",
      empty: "Aucune tâche ne correspond à ces critères.",
      rows: payload.data || [],
      rowAttrs: (job) => ({ "data-testid": "job-row", "data-id": job.id, "data-type": job.type, "data-etat": job.etat }),
      columns: [
        { label: "Tâche", cell: (job) => h("span", { "data-testid": "job-label" }, job.libelle || job.type) },
        { label: "Demandée par", cell: requesterCell },
        { label: "Quand", cell: timesCell },
        { label: "État", cell: (job) => h("span", { "data-testid": "job-etat" }, badge("job_etat", job.etat)) },
        { label: "Message", class: "cell-break", cell: (job) => h("span", { "data-testid": "job-message" }, job.message || "—") },
      ],
    }),
    pagination(payload.meta, ROUTE, queryWithoutPage),
    periodicTable(meta.periodiques || []),
  );
}
