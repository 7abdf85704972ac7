// Pilotage: the office's dashboard (placeholder until the dashboard lands).

import { h } from "../dom.js";
import { pageHeader } from "../components.js";

export async function pilotageView() {
  return h("section", { class: "page", "data-testid": "pilotage-page" }, pageHeader("Pilotage"));
}
