// Entry point: the fragment router, the header, and the reaction to a session ending.

import * as api from "./api.js";
import { h, replace, label, personName } from "./dom.js";
import { loadError } from "./components.js";
import { loginView, registerView } from "./views/auth.js";
import { oidcReturnView } from "./views/oidc.js";
import { documentListView } from "./views/register.js";
import { documentCreateView, documentEditView } from "./views/letter-form.js";
import { documentDetailView } from "./views/documents.js";
import { qualifyView } from "./views/qualify.js";
import { scansView } from "./views/scans.js";
import { sessionsView } from "./views/sessions.js";
import { historyView } from "./views/history.js";
import { usersView, connectionsView, eventsView } from "./views/admin.js";
import { servicesView } from "./views/services.js";
import { homeView } from "./views/home.js";
import { typologiesView } from "./views/typologies.js";
import { contactsView, contactCreateView, contactDetailView } from "./views/contacts.js";
import { securityView } from "./views/security.js";
import { askForIdentity } from "./reauth-dialog.js";
import { accessibilityView } from "./views/accessibility.js";
import { pilotageView } from "./views/pilotage.js";
import { jobsView } from "./views/jobs.js";

const ADMIN = ["administrateur"];

// `path` is matched whole, each `:name` standing for one URL segment (a view's context.params);
// `title` names the screen in the browser tab ("<title> — courrier"); `open` screens are shown signed in
// or not; `roles` limits a screen (and its menu entry) to those roles; `nav` puts it in the menu, in
// this order, in its `group` (NAV_GROUPS), shown only if the user's /me lists its `action` when it has one.
const ROUTES = [
  { path: "/login", view: loginView, public: true, title: "Connexion" },
  { path: "/register", view: registerView, public: true, title: "Création de compte" },
  { path: "/oidc", view: oidcReturnView, public: true, title: "Connexion avec ProConnect" },
  { path: "/accueil", view: homeView, title: "Accueil", nav: { group: "travail", text: "Accueil", testid: "nav-home" } },
  { path: "/documents", view: documentListView, title: "Registre", nav: { group: "travail", text: "Registre", testid: "nav-documents" } },
  { path: "/documents/new", view: documentCreateView, title: "Enregistrer un courrier" },
  { path: "/documents/:id/edit", view: documentEditView, title: "Modifier le courrier" },
  { path: "/documents/:id/qualifier", view: qualifyView, title: "Courrier à qualifier" },
  { path: "/documents/:id", view: documentDetailView, title: "Fiche du courrier" },
  { path: "/numeriser", view: scansView, title: "Numériser / déposer", nav: { group: "travail", text: "Numériser / déposer", testid: "nav-scans", action: "numeriser" } },
  { path: "/contacts", view: contactsView, title: "Correspondants", nav: { group: "travail", text: "Correspondants", testid: "nav-contacts" } },
  { path: "/contacts/new", view: contactCreateView, title: "Nouveau correspondant" },
  { path: "/contacts/:id", view: contactDetailView, title: "Fiche du correspondant" },
  { path: "/pilotage", view: pilotageView, title: "Pilotage", nav: { group: "travail", text: "Pilotage", testid: "nav-pilotage", action: "piloter" } },
  { path: "/admin/users", view: usersView, roles: ADMIN, title: "Utilisateurs", nav: { group: "administration", text: "Utilisateurs", testid: "nav-users" } },
  { path: "/admin/services", view: servicesView, roles: ADMIN, title: "Services", nav: { group: "administration", text: "Services", testid: "nav-services" } },
  { path: "/admin/typologies", view: typologiesView, roles: ADMIN, title: "Typologies", nav: { group: "administration", text: "Typologies", testid: "nav-typologies" } },
  { path: "/admin/connections", view: connectionsView, roles: ADMIN, title: "Historique des connexions", nav: { group: "administration", text: "Connexions", testid: "nav-connections" } },
  { path: "/admin/events", view: eventsView, roles: ADMIN, title: "Journal d'audit", nav: { group: "administration", text: "Journal", testid: "nav-events" } },
  { path: "/admin/jobs", view: jobsView, roles: ADMIN, title: "Tâches de fond", nav: { group: "administration", text: "Tâches de fond", testid: "nav-jobs" } },
  { path: "/sessions", view: sessionsView, title: "Mes sessions", nav: { group: "compte", text: "Mes sessions et mot de passe", testid: "nav-sessions" } },
  { path: "/historique", view: historyView, title: "Mon historique", nav: { group: "compte", text: "Mon historique", testid: "nav-history" } },
  { path: "/securite", view: securityView, title: "Sécurité du compte", nav: { group: "compte", text: "Sécurité du compte", testid: "nav-security" } },
  { path: "/accessibilite", view: accessibilityView, open: true, title: "Accessibilité" },
].map((route) => ({ ...route, pattern: new RegExp(`^${route.path.replace(/:\w+/g, "([\\w-]+)")}$`) }));

// The menu's groups, in order. `travail` is a row of links; the others are disclosures (a button showing
// or hiding a list): Administration in the menu, the account's pages under the user's name, with
// « Se déconnecter ». On a phone the whole menu is one more disclosure, behind « Menu ».
const NAV_GROUPS = [
  { key: "travail" },
  { key: "administration", text: "Administration", id: "admin-menu" },
];
const ACCOUNT_GROUP = "compte";

const HOME = "/accueil";
// A session restricted to enrolling or to changing its password shows only this screen.
const RESTRICTED_SCREEN = "/securite";

const SESSION_END_MESSAGES = {
  token_expired: "Votre session a expiré. Veuillez vous reconnecter.",
  token_revoked:
    "Votre session a été fermée (déconnexion depuis un autre appareil, changement de mot de passe ou intervention d'un administrateur). Veuillez vous reconnecter.",
  token_invalid: "Votre session n'est plus valide. Veuillez vous reconnecter.",
  token_missing: "Veuillez vous connecter.",
  logged_out_elsewhere: "Vous avez été déconnecté dans un autre onglet.",
};

const main = document.getElementById("app");
const header = document.getElementById("app-header");

const state = {
  user: api.storedUser(),
  flash: null,
  afterLogin: null,
  renderTicket: 0,
};

/** Go to a fragment route ("/documents?page=2"); re-renders even if it is the current one. */
function navigate(route) {
  const target = `#${route}`;
  if (window.location.hash === target) render();
  else window.location.hash = target;
}

/** A message shown once, at the top of the next screen. */
function flash(text, kind = "success") {
  state.flash = { text, kind };
}

function parseHash() {
  const raw = window.location.hash.replace(/^#/, "") || "/";
  const [path, search = ""] = raw.split("?");
  return { path, query: new URLSearchParams(search), full: raw };
}

function navLink(href, text, current, testid) {
  const active = isCurrent(href, current);
  return h("a", { href: `#${href}`, class: ["nav-link", active ? "active" : ""], "aria-current": active ? "page" : null, "data-testid": testid }, text);
}

function isCurrent(href, current) {
  return current === href || current.startsWith(`${href}/`) || current.startsWith(`${href}?`);
}

/** May `user` open `route`? (a route without `roles` is for everyone signed in) */
function allowed(route, user) {
  return !route.roles || route.roles.includes(user?.role);
}

/** The menu entries of `group` that `user` may see: allowed screens, and an `action` /me lists. */
function entriesOf(group, user) {
  return ROUTES.filter(
    (route) => route.nav?.group === group && allowed(route, user) && (!route.nav.action || (user.actions || []).includes(route.nav.action)),
  );
}

/** <ul> of the menu links of `routes`, as list items (`extra`: more items after them). */
function linkList(routes, path, attrs = {}, ...extra) {
  return h(
    "ul",
    { class: "nav-list", ...attrs },
    routes.map((route) => h("li", {}, navLink(route.path, route.nav.text, path, route.nav.testid))),
    extra.map((item) => h("li", {}, item)),
  );
}

/**
 * A disclosure (WAI-ARIA pattern): `button` shows or hides `panel`, the element right after it (the
 * stylesheet reads aria-expanded). Escape closes the innermost open one and gives the focus back to
 * its button; a click elsewhere, a link followed or the focus leaving the header closes it too (closeMenus).
 */
function disclosure({ id, button, panel, className }) {
  panel.id = id;
  panel.classList.add("menu-panel");
  button.setAttribute("aria-expanded", "false");
  button.setAttribute("aria-controls", id);
  button.addEventListener("click", () => button.setAttribute("aria-expanded", String(button.getAttribute("aria-expanded") !== "true")));
  const box = h("div", { class: ["menu", className] }, button, panel);
  box.addEventListener("keydown", (event) => {
    if (event.key !== "Escape" || button.getAttribute("aria-expanded") !== "true") return;
    event.stopPropagation();
    button.setAttribute("aria-expanded", "false");
    button.focus();
  });
  return box;
}

/** Close the header's open menus, except those holding `target` (a link followed, or none, closes them all). */
function closeMenus(target) {
  const followed = target instanceof Element && target.closest("a");
  for (const button of header.querySelectorAll(".menu > [aria-expanded=true]")) {
    if (followed || !button.parentElement.contains(target)) button.setAttribute("aria-expanded", "false");
  }
}

/** "FIN, DG" — the user's services, primary first (the header's reminder of where they work). */
function userServices(user) {
  const services = [...(user.services || [])].sort((a, b) => Number(Boolean(b.primary)) - Number(Boolean(a.primary)));
  if (!services.length) return null;
  return h(
    "span",
    { class: "user-services", "data-testid": "current-user-services", title: services.map((service) => `${service.code} — ${service.nom}`).join(", ") },
    services.map((service) => service.code).join(", "),
  );
}

/** Who is signed in: the name, then the role and the services on a second line. */
function currentUser(user) {
  return h(
    "span",
    { class: "user-name", id: "current-user", "data-testid": "current-user" },
    h("span", { class: "user-fullname" }, personName(user)),
    h("span", { class: "user-details" }, h("span", { class: "user-role" }, label("role", user.role)), userServices(user)),
  );
}

function logoutButton() {
  const button = h("button", { type: "button", class: "btn btn-secondary", id: "logout-button", "data-testid": "logout-button" }, "Se déconnecter");
  button.addEventListener("click", async () => {
    button.disabled = true;
    const endSessionUrl = await api.logout();
    state.user = null;
    // A ProConnect session also ends at the provider, which sends the browser back here.
    if (endSessionUrl) {
      window.location.assign(endSessionUrl);
      return;
    }
    flash("Vous êtes déconnecté.");
    navigate("/login");
  });
  return button;
}

/** The main menu: the work links in a row, then each other group as a disclosure (if it has entries). */
function mainNav(path) {
  return h(
    "nav",
    { class: "main-nav", "aria-label": "Navigation principale" },
    h(
      "ul",
      { class: "nav-list nav-bar" },
      NAV_GROUPS.map((group) => {
        const routes = entriesOf(group.key, state.user);
        if (!group.text) return routes.map((route) => h("li", {}, navLink(route.path, route.nav.text, path, route.nav.testid)));
        if (!routes.length) return null;
        const current = routes.some((route) => isCurrent(route.path, path));
        return h(
          "li",
          {},
          disclosure({
            id: group.id,
            className: "nav-group",
            button: h("button", { type: "button", class: ["nav-link", "menu-button", current ? "active" : ""], id: `${group.id}-button`, "data-testid": `${group.id}-button` }, group.text),
            panel: linkList(routes, path),
          }),
        );
      }),
    ),
  );
}

/** The account menu, under the user's name: the account's screens and « Se déconnecter ». */
function accountMenu(path) {
  return h(
    "nav",
    { class: "user-box", "aria-label": "Mon compte" },
    disclosure({
      id: "account-menu",
      className: "account",
      button: h("button", { type: "button", class: "account-button menu-button", id: "account-menu-button", "data-testid": "account-menu-button" }, currentUser(state.user)),
      panel: linkList(entriesOf(ACCOUNT_GROUP, state.user), path, {}, logoutButton()),
    }),
  );
}

function renderHeader(path) {
  if (!state.user || !api.isLoggedIn()) {
    header.hidden = true;
    replace(header);
    return;
  }
  const brand = h("a", { href: `#${HOME}`, class: "brand" }, h("span", { class: "brand-mark", "aria-hidden": "true" }), "Courrier");
  // A session restricted to its security screen has no menu: who is signed in, and the way out.
  const content = state.user.restriction
    ? [brand, h("div", { class: "user-box" }, currentUser(state.user), logoutButton())]
    : [
        brand,
        disclosure({
          id: "site-menu",
          className: "site",
          button: h("button", { type: "button", class: "btn btn-secondary menu-toggle", id: "menu-button", "data-testid": "menu-button" }, "Menu"),
          panel: h("div", { class: "site-menu" }, mainNav(path), accountMenu(path)),
        }),
      ];
  replace(header, h("div", { class: "header-inner" }, content));
  header.hidden = false;
}

async function render() {
  const ticket = ++state.renderTicket;
  const { path, query, full } = parseHash();
  const match = ROUTES.map((route) => ({ route, found: route.pattern.exec(path) })).find(({ found }) => found);

  if (!match) {
    navigate(api.isLoggedIn() ? HOME : "/login");
    return;
  }
  const { route, found } = match;
  if (!route.public && !route.open && !api.isLoggedIn()) {
    state.afterLogin = full;
    navigate("/login");
    return;
  }
  if (route.public && api.isLoggedIn()) {
    navigate(HOME);
    return;
  }
  if (state.user?.restriction && path !== RESTRICTED_SCREEN && !route.public && !route.open) {
    navigate(RESTRICTED_SCREEN);
    return;
  }
  if (!allowed(route, state.user)) {
    flash("Cette page est réservée aux administrateurs.", "error");
    navigate(HOME);
    return;
  }

  renderHeader(path);
  main.setAttribute("aria-busy", "true");
  const context = {
    params: found.slice(1).map(decodeURIComponent),
    query,
    path,
    user: state.user,
    navigate,
    flash,
    isCurrent: () => ticket === state.renderTicket,
    refreshUser: async () => {
      const payload = await api.request("/api/auth/me");
      state.user = payload.data;
      api.saveUser(payload.data);
      return payload.data;
    },
    onLogin: async (user) => {
      state.user = user;
      // The login's answer names the user; /me adds what the menu reads too (its `actions`: Pilotage).
      await context.refreshUser().catch(() => null);
      const next = user.restriction ? RESTRICTED_SCREEN
        : state.afterLogin && !state.afterLogin.startsWith("/login") ? state.afterLogin : HOME;
      state.afterLogin = null;
      navigate(next);
    },
    onLogout: (message) => {
      api.clearAuth();
      state.user = null;
      if (message) flash(message);
      navigate("/login");
    },
  };

  let content;
  try {
    content = await route.view(context);
  } catch (err) {
    if (err instanceof api.ApiError && err.sessionEnded) return; // the session-end handler navigates
    content = loadError(err);
  }
  if (ticket !== state.renderTicket) return; // the user went elsewhere meanwhile
  main.removeAttribute("aria-busy");
  main.dataset.route = full; // which screen is on display (tests wait for it)

  const message = state.flash;
  state.flash = null;
  replace(
    main,
    message ? h("div", { class: `alert alert-${message.kind}`, role: "status", id: "flash", "data-testid": "flash" }, message.text) : null,
    content,
  );
  document.title = `${route.title || document.getElementById("page-title")?.textContent || "Courrier"} — courrier`;
  document.getElementById("page-title")?.focus({ preventScroll: true });
  window.scrollTo(0, 0);
}

api.onReauthenticationRequired((original) => askForIdentity(state.user, original));

api.onSessionEnded((code) => {
  state.user = null;
  flash(SESSION_END_MESSAGES[code] || SESSION_END_MESSAGES.token_invalid, "error");
  const { full } = parseHash();
  if (!full.startsWith("/login") && !full.startsWith("/register")) state.afterLogin = full;
  navigate("/login");
});

async function boot() {
  if (api.isLoggedIn()) {
    // The role shown (and the admin menu) follows the server's current record, not the old login.
    try {
      const payload = await api.request("/api/auth/me");
      state.user = payload.data;
      api.saveUser(payload.data);
    } catch (err) {
      if (!(err instanceof api.ApiError && err.status === 401)) state.user = api.storedUser();
    }
  }
  window.addEventListener("hashchange", render);
  document.addEventListener("click", (event) => closeMenus(event.target));
  header.addEventListener("focusout", (event) => {
    if (event.relatedTarget && !header.contains(event.relatedTarget)) closeMenus(null);
  });
  render();
}

boot();
