// A background job followed until it ends: its state said in a live region (« En attente », « En cours »,
// « Terminé », « Échec » and the server's message), read from GET /api/jobs/<id> at a modest pace, and the
// file it made offered for download. The state is also the element's `data-etat` (what tests wait on).

import * as api from "./api.js";
import { h, replace, label } from "./dom.js";

/** Seconds between two reads of the job: quick at first (most jobs are short), then every 3 s. */
const POLL_DELAYS_MS = [500, 1000, 1500, 2000, 3000];
const ENDED = new Set(["termine", "echec"]);

/**
 * The status of a job the caller started. `what` names its work (« Registre en PDF »), `downloadText` the
 * button offered once its file is there; `onEnd(job)` runs when it ends. `follow(job)` shows a job (the
 * answer of the request that started it) and reads it again until it ends; `busy()` says whether one is
 * still running. Returns {element, follow, busy}.
 */
export function jobTracker({ id, what, downloadText, onEnd = () => {} }) {
  const line = h("p", { class: "job-status-text", role: "status", id: `${id}-text`, "data-testid": `${id}-text` });
  const actions = h("div", { class: "job-status-actions" });
  // The live region is on the page from the start (empty), so that its first words are announced.
  const element = h("div", { class: "job-status", id, "data-testid": id }, line, actions);
  let current = null;
  let timer = null;

  const show = (job) => {
    const changed = !current || current.etat !== job.etat || current.message !== job.message;
    current = job;
    element.dataset.etat = job.etat;
    element.dataset.jobId = job.id;
    if (changed) {
      const message = job.message ? ` — ${job.message}` : "";
      replace(line, `${what} : ${label("job_etat", job.etat)}${message}`);
    }
    if (job.etat === "termine" && job.fichier && !actions.firstChild) {
      const button = h("button", { type: "button", class: "btn", "data-testid": `${id}-download` }, downloadText);
      button.addEventListener("click", async () => {
        button.disabled = true;
        try {
          await api.download(job.fichier);
        } catch (err) {
          if (!err.sessionEnded) replace(line, err.message);
        } finally {
          button.disabled = false;
        }
      });
      actions.append(button);
    }
  };

  const poll = (attempt) => {
    timer = setTimeout(async () => {
      timer = null;
      if (!element.isConnected) return; // the screen was left: stop reading
      let job;
      try {
        job = (await api.request(`/api/jobs/${encodeURIComponent(current.id)}`)).data;
      } catch (err) {
        // The server or the network failing for a moment: read again later; a refusal ends the reading.
        if (err.status === 0 || err.status >= 500) poll(attempt + 1);
        else if (!err.sessionEnded) replace(line, err.message);
        return;
      }
      show(job);
      if (ENDED.has(job.etat)) onEnd(job);
      else poll(attempt + 1);
    }, POLL_DELAYS_MS[Math.min(attempt, POLL_DELAYS_MS.length - 1)]);
  };

  const follow = (job) => {
    if (timer) clearTimeout(timer);
    current = null;
    actions.replaceChildren();
    show(job);
    if (ENDED.has(job.etat)) onEnd(job);
    else poll(0);
  };

  return { element, follow, busy: () => Boolean(current && !ENDED.has(current.etat)) };
}
