// The lists the screens read to fill their selects: labels of an enumeration, the services, the
// typologies, the caller's work queues.

import * as api from "./api.js";
import { LABELS } from "./dom.js";

/** The options of a select over the labels of `kind`, with an "any" first option when `anyText` is given. */
export const optionsOf = (kind, anyText) => [
  ...(anyText ? [["", anyText]] : []),
  ...Object.entries(LABELS[kind]),
];

/**
 * The list at `url` (GET), or an empty list if it cannot be read: what it feeds is optional (the
 * services for routing, the typologies, the caller's work queues).
 */
export async function optionalList(url, query) {
  try {
    return (await api.request(url, { query })).data || [];
  } catch (err) {
    if (err.sessionEnded) throw err;
    return [];
  }
}

export const loadServices = () => optionalList("/api/services");
export const loadTypologies = (query) => optionalList("/api/typologies", query);
export const loadBannettes = () => optionalList("/api/bannettes");
