// The viewer: an attachment shown on the letter's screen instead of downloaded. PDFs are drawn by pdf.js on a
// canvas, images shown as images, e-mails and plain text as the text the server read from them. The file is
// read with the bearer token (fetch → ArrayBuffer), never through a URL holding it. Pages and zoom: buttons, and the keys of the
// viewer's area (← → or Page up/down, Home/End, + − 0). The viewer's `data-etat` says where it is
// (chargement, affiche, attente, erreur, indisponible): what tests wait on.

import * as api from "../api.js";
import { h, replace } from "../dom.js";

// pdf.js, vendored (static/vendor/pdfjs, copied from npm's pdfjs-dist). Its "worker" module is imported on this
// page rather than started as a Worker: `new Worker(url)` needs a TrustedScriptURL, and the CSP's
// `trusted-types 'none'` allows no policy to make one. Once imported it sets globalThis.pdfjsWorker, which
// pdf.js then uses in place of a worker (same origin, script-src 'self', no eval, no wasm).
const PDFJS_SRC = "/static/vendor/pdfjs/pdf.min.mjs";
const PDFJS_WORKER_SRC = "/static/vendor/pdfjs/pdf.worker.min.mjs";
const PDF_OPTIONS = {
  isEvalSupported: false, // older pdf.js compiled fonts into code at run time: never (the CSP forbids it anyway)
  useWasm: false, // WebAssembly would need 'wasm-unsafe-eval'
  enableXfa: false,
  disableWorkerRendering: true,
  stopAtErrors: false,
};
const ZOOMS = [0.5, 0.67, 0.8, 1, 1.25, 1.5, 2, 3];
const DEFAULT_ZOOM = ZOOMS.indexOf(1);
const IMAGE_TYPES = new Set(["image/png", "image/jpeg", "image/gif", "image/webp"]);
const TEXT_TYPES = new Set(["text/plain", "message/rfc822"]);

let pdfjsLibrary = null;

/** pdf.js, imported once (with its worker's code) the first time a PDF is shown. */
function loadPdfjs() {
  pdfjsLibrary ||= (async () => {
    await import(PDFJS_WORKER_SRC);
    const pdfjs = await import(PDFJS_SRC);
    pdfjs.GlobalWorkerOptions.workerSrc = PDFJS_WORKER_SRC;
    return pdfjs;
  })().catch((err) => {
    pdfjsLibrary = null;
    throw new Error("Le lecteur de PDF n'a pas pu être chargé.", { cause: err });
  });
  return pdfjsLibrary;
}

/** How an attachment is shown: "pdf", "image", "email", "text", or null (download only). */
export function viewKind(attachment) {
  const type = (attachment.content_type || "").split(";")[0].trim().toLowerCase();
  const name = (attachment.filename || "").toLowerCase();
  if (type === "application/pdf") return "pdf";
  if (IMAGE_TYPES.has(type)) return "image";
  if (type === "message/rfc822" || name.endsWith(".eml")) return "email";
  if (TEXT_TYPES.has(type) || name.endsWith(".txt")) return "text";
  return null;
}

// ---------------------------------------------------------------- e-mails and text files

/**
 * The text the server read from an attachment (GET …/texte: an e-mail's headers, body and attachments' names,
 * or a text file's content), or the sentence that says why there is none yet. The browser parses no MIME.
 */
async function readText(url) {
  const { etat, motif, texte } = (await api.request(`${url}/texte`)).data;
  if (texte !== null && texte !== undefined) return { etat: "affiche", text: texte };
  if (etat === "en_attente") return { etat: "attente", text: "Le texte de ce fichier est en cours de lecture : rouvrez l'aperçu dans un instant, ou téléchargez-le." };
  return { etat: "indisponible", text: `${motif || "Ce fichier n'a pas de texte à afficher"} Vous pouvez le télécharger.` };
}

// ---------------------------------------------------------------- the viewer

/**
 * A viewer for the files of `base` (the letter's attachments URL). Returns {element, show(attachment, url?)}:
 * `show` fetches and displays one file (`url`: another file of it, e.g. its searchable PDF).
 */
export function attachmentViewer({ id = "viewer" } = {}) {
  const title = h("h3", { class: "viewer-title", id: `${id}-title` }, "Aperçu");
  const status = h("p", { class: "viewer-status", role: "status", id: `${id}-status`, "data-testid": `${id}-status` });
  const stage = h("div", {
    class: "viewer-stage",
    id: `${id}-stage`,
    tabindex: "0",
    role: "region",
    "aria-labelledby": `${id}-title`,
    "aria-describedby": `${id}-keys`,
    "data-testid": `${id}-stage`,
  });
  const button = (text, testid, keys) => h("button", { type: "button", class: "btn btn-secondary btn-small", "data-testid": `${id}-${testid}`, "aria-keyshortcuts": keys }, text);
  const previous = button("Page précédente", "previous", "ArrowLeft PageUp");
  const next = button("Page suivante", "next", "ArrowRight PageDown");
  const zoomOut = button("Réduire", "zoom-out", "-");
  const zoomIn = button("Agrandir", "zoom-in", "+");
  const zoomReset = button("Taille réelle", "zoom-reset", "0");
  const zoomText = h("span", { class: "viewer-zoom", "data-testid": `${id}-zoom` });
  const pages = h("div", { class: "viewer-group" }, previous, next);
  const toolbar = h(
    "div",
    { class: "viewer-toolbar", role: "group", "aria-label": "Pages et zoom" },
    pages,
    h("div", { class: "viewer-group" }, zoomOut, zoomText, zoomIn, zoomReset),
  );
  const keys = h(
    "p",
    { class: "viewer-keys muted", id: `${id}-keys` },
    "Dans l'aperçu : ← → ou Page précédente/suivante pour changer de page, Début/Fin pour la première/dernière, + et − pour le zoom, 0 pour la taille réelle.",
  );
  const element = h("section", { class: "viewer", id, "data-testid": id, "aria-labelledby": `${id}-title`, hidden: true }, title, toolbar, status, stage, keys);

  let state = null; // {kind, name, task, pdf, page, pages, zoom, image, objectUrl, render}
  let ticket = 0; // one per file shown
  let draws = 0; // one per page drawn: a quicker key press wins over the page still drawing

  const setEtat = (etat) => {
    element.dataset.etat = etat;
    if (etat === "chargement") stage.setAttribute("aria-busy", "true");
    else stage.removeAttribute("aria-busy");
  };

  const updateControls = () => {
    const paged = state?.kind === "pdf";
    pages.hidden = !paged;
    previous.disabled = !paged || state.page <= 1;
    next.disabled = !paged || state.page >= state.pages;
    const zoomable = state && (state.kind === "pdf" || state.kind === "image");
    for (const control of [zoomOut, zoomIn, zoomReset]) control.disabled = !zoomable;
    if (zoomable) {
      zoomOut.disabled = state.zoom === 0;
      zoomIn.disabled = state.zoom === ZOOMS.length - 1;
    }
    replace(zoomText, zoomable ? `${Math.round(ZOOMS[state.zoom] * 100)} %` : "");
  };

  const say = (text) => replace(status, text);

  /** Resolves once the viewer is on the page (its width is what a page is fitted to), or never if left. */
  const attached = (mine) =>
    new Promise((resolve) => {
      const check = () => {
        if (mine !== ticket) return;
        if (element.isConnected) resolve();
        else requestAnimationFrame(check);
      };
      check();
    });

  async function drawPdfPage() {
    const mine = ticket;
    const drawn = ++draws;
    const current = () => mine === ticket && drawn === draws;
    const page = await state.pdf.getPage(state.page);
    await attached(mine);
    if (!current()) return;
    // Fit the stage's width at 100 %, drawn at the screen's pixel density so that a scan stays sharp.
    const natural = page.getViewport({ scale: 1 });
    const padding = parseFloat(getComputedStyle(stage).paddingLeft) + parseFloat(getComputedStyle(stage).paddingRight);
    const fit = Math.max(200, stage.clientWidth - padding) / natural.width;
    const viewport = page.getViewport({ scale: fit * ZOOMS[state.zoom] });
    const ratio = window.devicePixelRatio || 1;
    const canvas = h("canvas", {
      class: "viewer-canvas",
      role: "img",
      "aria-label": `Page ${state.page} sur ${state.pages} de ${state.name}`,
      "data-testid": `${id}-canvas`,
      "data-page": state.page,
    });
    canvas.width = Math.floor(viewport.width * ratio);
    canvas.height = Math.floor(viewport.height * ratio);
    canvas.style.width = `${Math.floor(viewport.width)}px`;
    canvas.style.height = `${Math.floor(viewport.height)}px`;
    state.render?.cancel();
    state.render = page.render({ canvasContext: canvas.getContext("2d"), viewport, transform: ratio === 1 ? null : [ratio, 0, 0, ratio, 0, 0] });
    try {
      await state.render.promise;
    } catch (err) {
      if (err?.name === "RenderingCancelledException") return;
      throw err;
    }
    if (!current()) return;
    // The page's own text (its text layer, or the one OCR added), readable beside the picture of it.
    const words = await page.getTextContent().then(
      (content) => content.items.map((item) => `${item.str}${item.hasEOL ? "\n" : ""}`).join("").trim(),
      () => "",
    );
    if (!current()) return;
    replace(
      stage,
      canvas,
      words
        ? h("details", { class: "viewer-page-text", "data-testid": `${id}-page-text` }, h("summary", {}, "Texte de la page"), h("p", { class: "pre-wrap" }, words))
        : null,
    );
    element.dataset.page = String(state.page);
    say(`${state.name} : page ${state.page} sur ${state.pages}.`);
    updateControls();
    setEtat("affiche");
  }

  const drawImage = () => {
    state.image.style.width = `${Math.round(ZOOMS[state.zoom] * 100)}%`;
    updateControls();
  };

  const redraw = () => (state?.kind === "pdf" ? drawPdfPage().catch(fail) : state?.kind === "image" ? drawImage() : null);

  function fail(err) {
    if (err?.sessionEnded) return;
    setEtat("erreur");
    replace(stage, h("p", { class: "alert alert-error" }, `Aperçu impossible : ${err?.message || "le fichier n'a pas pu être lu"}. Vous pouvez le télécharger.`));
    say("");
  }

  const goTo = (page) => {
    if (state?.kind !== "pdf") return;
    const target = Math.min(Math.max(page, 1), state.pages);
    if (target === state.page) return;
    state.page = target;
    redraw();
  };

  const zoomTo = (index) => {
    if (!state || (state.kind !== "pdf" && state.kind !== "image")) return;
    const target = Math.min(Math.max(index, 0), ZOOMS.length - 1);
    if (target === state.zoom) return;
    state.zoom = target;
    redraw();
  };

  previous.addEventListener("click", () => goTo(state.page - 1));
  next.addEventListener("click", () => goTo(state.page + 1));
  zoomOut.addEventListener("click", () => zoomTo(state.zoom - 1));
  zoomIn.addEventListener("click", () => zoomTo(state.zoom + 1));
  zoomReset.addEventListener("click", () => zoomTo(DEFAULT_ZOOM));
  const KEYS = {
    ArrowLeft: () => goTo(state.page - 1),
    PageUp: () => goTo(state.page - 1),
    ArrowRight: () => goTo(state.page + 1),
    PageDown: () => goTo(state.page + 1),
    Home: () => goTo(1),
    End: () => goTo(state.pages),
    "+": () => zoomTo(state.zoom + 1),
    "=": () => zoomTo(state.zoom + 1),
    "-": () => zoomTo(state.zoom - 1),
    0: () => zoomTo(DEFAULT_ZOOM),
  };
  stage.addEventListener("keydown", (event) => {
    const action = state && !event.ctrlKey && !event.metaKey && !event.altKey ? KEYS[event.key] : null;
    if (!action) return;
    event.preventDefault();
    action();
  });

  /** Fetch `url` (with the token) and show it as `attachment` says: its kind and name. */
  async function show(attachment, url, name = attachment.filename) {
    const mine = ++ticket;
    const kind = url.endsWith("/ocr") ? "pdf" : viewKind(attachment);
    state?.render?.cancel();
    state?.task?.destroy();
    if (state?.objectUrl) URL.revokeObjectURL(state.objectUrl);
    state = null;
    element.hidden = false;
    element.dataset.id = attachment.id;
    replace(title, `Aperçu : ${name}${url.endsWith("/ocr") ? " (PDF cherchable)" : ""}`);
    updateControls();
    if (!kind) {
      setEtat("indisponible");
      replace(stage, h("p", { class: "muted" }, "Ce type de fichier ne peut pas être affiché ici : téléchargez-le."));
      return;
    }
    setEtat("chargement");
    say(`Chargement de ${name}…`);
    replace(stage, h("p", { class: "muted" }, "Chargement…"));
    try {
      if (kind === "email" || kind === "text") {
        const read = await readText(url);
        if (mine !== ticket) return;
        state = { kind, name };
        replace(stage, h("pre", { class: "viewer-text", "data-testid": `${id}-text` }, read.text));
        updateControls();
        say(read.etat === "affiche" ? `${name} : texte affiché.` : read.text);
        setEtat(read.etat);
        return;
      }
      const [buffer, pdfjs] = await Promise.all([
        api.request(url, { raw: true }).then((response) => response.arrayBuffer()),
        kind === "pdf" ? loadPdfjs() : null,
      ]);
      if (mine !== ticket) return;
      if (kind === "pdf") {
        const task = pdfjs.getDocument({ data: new Uint8Array(buffer), ...PDF_OPTIONS });
        const pdf = await task.promise;
        if (mine !== ticket) {
          task.destroy();
          return;
        }
        state = { kind, name, task, pdf, page: 1, pages: pdf.numPages, zoom: DEFAULT_ZOOM };
        await drawPdfPage();
      } else if (kind === "image") {
        const objectUrl = URL.createObjectURL(new Blob([buffer], { type: attachment.content_type }));
        const image = h("img", { class: "viewer-image", src: objectUrl, alt: `Image jointe : ${name}`, "data-testid": `${id}-image` });
        state = { kind, name, image, objectUrl, zoom: DEFAULT_ZOOM };
        await image.decode().catch(() => {
          throw new Error("l'image est illisible");
        });
        if (mine !== ticket) return;
        replace(stage, image);
        drawImage();
        say(`${name} : image affichée.`);
        setEtat("affiche");
      }
    } catch (err) {
      if (mine === ticket) fail(err);
    }
  }

  return { element, show };
}
