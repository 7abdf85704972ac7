// ProConnect's button on the login screen, shown when the server says the feature is on.

import * as api from "../api.js";
import { h, replace } from "../dom.js";

const BRAND = "ProConnect";

/** "Se connecter avec ProConnect" as the button shows it: the brand on its own line, in bold. */
function buttonText(label) {
  if (!label.endsWith(BRAND) || label === BRAND) return h("span", { class: "proconnect-brand" }, label);
  return [
    h("span", { class: "proconnect-login" }, label.slice(0, -BRAND.length).trim()),
    " ",
    h("span", { class: "proconnect-brand" }, BRAND),
  ];
}

/**
 * The ProConnect block of the login screen: empty until GET /api/auth/oidc/config says the feature is
 * on, then the button (a link: the browser itself goes to the provider) and "Qu'est-ce que ProConnect ?".
 */
export function proconnectBlock() {
  const block = h("div", { class: "proconnect", "data-testid": "proconnect", hidden: true });
  api
    .request("/api/auth/oidc/config", { auth: false })
    .then(({ data }) => {
      if (!data?.enabled) return;
      replace(
        block,
        h("p", { class: "proconnect-or" }, "ou"),
        h("a", { href: "/api/auth/oidc/login", class: "proconnect-button", id: "proconnect-login" }, buttonText(data.label)),
        h(
          "p",
          { class: "proconnect-about" },
          h(
            "a",
            { href: "https://proconnect.gouv.fr/", target: "_blank", rel: "noopener", title: "Qu'est-ce que ProConnect ? - nouvelle fenêtre" },
            "Qu'est-ce que ProConnect ?",
          ),
        ),
      );
      block.hidden = false;
    })
    .catch(() => {
      // No button when the configuration cannot be read: the password form still works.
    });
  return block;
}
