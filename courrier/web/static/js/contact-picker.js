// The contact picker: a text input that suggests correspondents of the directory as one types
// (GET /api/contacts?q=…, debounced, the last answer wins). It follows the ARIA combobox pattern
// (role="combobox", aria-expanded, aria-controls, aria-activedescendant, a listbox of options):
// arrows move through the suggestions, Enter chooses, Escape closes. Choosing one links the contact
// and writes its name in the input; the text stays editable (what the letter says), the link is
// dropped only with the "Détacher" button. With `create`, the list ends with « Créer le correspondant
// « … » » (alone when nothing matches), which opens the creation dialog (contact-create.js) and links
// the contact created.

import * as api from "./api.js";
import { h, append, replace, contactName, label } from "./dom.js";
import { createContactDialog } from "./contact-create.js";

const DEBOUNCE_MS = 250;
const MIN_CHARACTERS = 2;
const SUGGESTIONS = 8;

/** "Mairie de Lyon · 69001 Lyon · contact@…": what tells two namesakes apart. */
export function contactSummary(contact) {
  const adresse = contact.adresse || {};
  const commune = [adresse.code_postal, adresse.commune].filter(Boolean).join(" ");
  return [
    contact.type === "personne" ? contact.organisation : label("contact_type", contact.type),
    contact.fonction,
    commune,
    contact.email,
  ]
    .filter(Boolean)
    .join(" · ");
}

/**
 * Turn `input` (an <input> already in the page or about to be) into a contact picker.
 * options: {chosen: the contact linked at first (a summary) or null, exclude: an id never suggested,
 * onChange(contact|null), fillInput (default true: choosing writes the name in the input),
 * chosenLabel ("Correspondant lié"), testid (prefix of the data-testid attributes), create (default false:
 * offer to create a correspondent from the text typed)}.
 * Returns {element: the wrapper to put where the input was, chip: the "linked contact" line,
 * current(): the linked contact or null, set(contact|null)}.
 */
export function contactPicker(input, { chosen = null, exclude = null, onChange = null, fillInput = true, chosenLabel = "Correspondant lié", testid = "contact-picker", create = false } = {}) {
  const listId = `${input.id}-suggestions`;
  const statusId = `${input.id}-suggestions-status`;
  let current = chosen;
  let suggestions = [];
  let active = -1;
  let timer = null;
  let ticket = 0;
  let blurTimer = null;
  let typed = ""; // the text the suggestions answer, offered as a new correspondent's name

  input.setAttribute("role", "combobox");
  input.setAttribute("aria-autocomplete", "list");
  input.setAttribute("aria-expanded", "false");
  input.setAttribute("aria-controls", listId);
  input.setAttribute("autocomplete", "off");
  input.dataset.testid = input.dataset.testid || `${testid}-input`;

  const list = h("ul", { id: listId, class: "combobox-list", role: "listbox", "aria-label": "Correspondants suggérés", hidden: true, "data-testid": `${testid}-suggestions` });
  const status = h("p", { id: statusId, class: "visually-hidden", "aria-live": "polite", "data-testid": `${testid}-status` });
  const element = h("div", { class: "combobox" });

  const chipName = h("a", { class: "contact-chosen-name", "data-testid": `${testid}-chosen-name` });
  const detach = h("button", { type: "button", class: "btn btn-secondary btn-small", "data-testid": `${testid}-detach` }, "Détacher", h("span", { class: "visually-hidden" }, " ce correspondant"));
  const chip = h(
    "p",
    { class: "contact-chosen", hidden: true, "data-testid": `${testid}-chosen` },
    h("span", {}, `${chosenLabel} : `),
    chipName,
    detach,
  );

  const drawChip = () => {
    chip.hidden = !current;
    if (current) {
      replace(chipName, contactName(current));
      chipName.href = `#/contacts/${encodeURIComponent(current.id)}`;
      chip.dataset.id = current.id;
    } else {
      delete chip.dataset.id;
    }
  };

  const close = () => {
    list.hidden = true;
    input.setAttribute("aria-expanded", "false");
    input.removeAttribute("aria-activedescendant");
    active = -1;
  };

  const highlight = (index) => {
    const options = [...list.querySelectorAll("[role=option]")];
    if (!options.length) return;
    active = (index + options.length) % options.length;
    options.forEach((option, position) => option.setAttribute("aria-selected", String(position === active)));
    input.setAttribute("aria-activedescendant", options[active].id);
    options[active].scrollIntoView({ block: "nearest" });
  };

  const set = (contact, { announce = false } = {}) => {
    current = contact;
    drawChip();
    if (contact && fillInput) input.value = contactName(contact, input.value);
    if (announce) replace(status, contact ? `${chosenLabel} : ${contactName(contact)}.` : "Correspondant détaché.");
    if (onChange) onChange(contact);
  };

  const createFromText = async () => {
    close();
    const contact = await createContactDialog(typed, { idPrefix: `${input.id}-create`, testid: `${testid}-create` });
    if (contact) set(contact, { announce: true });
    input.focus();
  };

  const choose = (index) => {
    if (create && index === suggestions.length) {
      createFromText();
      return;
    }
    const contact = suggestions[index];
    if (!contact) return;
    close();
    set(contact, { announce: true });
    input.focus();
  };

  /** The last option: « Créer le correspondant « … » ». */
  const createOption = () => {
    const option = h(
      "li",
      { id: `${input.id}-option-create`, role: "option", class: "combobox-option combobox-option-create", "aria-selected": "false", "data-testid": `${testid}-create` },
      h("span", { class: "combobox-option-name" }, `Créer le correspondant « ${typed} »`),
      h("span", { class: "combobox-option-details" }, "L'ajouter à l'annuaire et le lier"),
    );
    option.addEventListener("mousedown", (event) => event.preventDefault());
    option.addEventListener("click", () => choose(suggestions.length));
    return option;
  };

  const show = (contacts) => {
    // The highlighted contact stays highlighted when a later answer still lists it.
    const kept = suggestions[active]?.id;
    suggestions = contacts;
    active = -1;
    input.removeAttribute("aria-activedescendant");
    replace(
      list,
      contacts.map((contact, index) => {
        const option = h(
          "li",
          { id: `${input.id}-option-${index}`, role: "option", class: "combobox-option", "aria-selected": "false", "data-testid": `${testid}-option`, "data-id": contact.id },
          h("span", { class: "combobox-option-name" }, contactName(contact)),
          contactSummary(contact) ? h("span", { class: "combobox-option-details" }, contactSummary(contact)) : null,
        );
        // mousedown would move the focus out of the input (and close the list) before the click.
        option.addEventListener("mousedown", (event) => event.preventDefault());
        option.addEventListener("click", () => choose(index));
        return option;
      }),
      create ? createOption() : null,
    );
    if (!contacts.length && !create) {
      close();
      replace(status, "Aucun correspondant ne correspond à cette saisie.");
      return;
    }
    list.hidden = false;
    input.setAttribute("aria-expanded", "true");
    const count = !contacts.length
      ? "Aucun correspondant ne correspond à cette saisie ; une option permet de le créer"
      : contacts.length > 1
        ? `${contacts.length} correspondants suggérés`
        : "1 correspondant suggéré";
    replace(status, `${count} : flèches haut et bas pour parcourir, Entrée pour choisir.`);
    const again = kept ? contacts.findIndex((contact) => contact.id === kept) : -1;
    if (again >= 0) highlight(again);
  };

  const search = async () => {
    const text = input.value.trim();
    const mine = ++ticket;
    if (text.length < MIN_CHARACTERS) {
      input.removeAttribute("aria-busy");
      suggestions = [];
      replace(list);
      close();
      return;
    }
    let contacts = [];
    try {
      const payload = await api.request("/api/contacts", { query: { q: text, per_page: SUGGESTIONS + (exclude ? 1 : 0) } });
      contacts = (payload.data || []).filter((contact) => contact.id !== exclude).slice(0, SUGGESTIONS);
    } catch (err) {
      if (err.sessionEnded || mine !== ticket) return;
      input.removeAttribute("aria-busy");
      suggestions = [];
      replace(list);
      close();
      replace(status, "Les suggestions de correspondants sont indisponibles.");
      return;
    }
    if (mine !== ticket) return;
    input.removeAttribute("aria-busy");
    if (document.activeElement !== input) return;
    typed = text;
    show(contacts);
  };

  input.addEventListener("input", () => {
    // Busy from the keystroke until the answer to the latest text is shown: an earlier answer may be on
    // screen meanwhile (the browser tests wait for this before choosing).
    input.setAttribute("aria-busy", "true");
    clearTimeout(timer);
    timer = setTimeout(search, DEBOUNCE_MS);
  });
  input.addEventListener("keydown", (event) => {
    const open = !list.hidden;
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      if (!open) {
        if (!list.children.length) return;
        list.hidden = false;
        input.setAttribute("aria-expanded", "true");
      }
      highlight(event.key === "ArrowDown" ? active + 1 : active < 0 ? -1 : active - 1);
    } else if (event.key === "Enter" && open && active >= 0) {
      event.preventDefault(); // choose, do not submit the form
      choose(active);
    } else if (event.key === "Escape" && open) {
      event.preventDefault();
      close();
    } else if (event.key === "Tab") {
      close();
    }
  });
  input.addEventListener("blur", () => {
    clearTimeout(blurTimer);
    blurTimer = setTimeout(close, 150);
  });
  input.addEventListener("focus", () => clearTimeout(blurTimer));
  detach.addEventListener("click", () => {
    set(null, { announce: true });
    input.focus();
  });

  if (input.parentNode) input.replaceWith(element);
  append(element, [input, list, status]);
  drawChip();
  return { element, chip, current: () => current, set };
}
