// Entry point: the fragment router, the header, and the reaction to a session ending.

import * as api from "./api.js";
import { h, replace, label, personName } from "./dom.js";
import { loadError } from "./components.js";
import { loginView, registerView } from "./views/auth.js";
import { oidcReturnView } from "./views/oidc.js";
import { documentListView } from "./views/register.js";
import { documentCreateView, documentEditView } from "./views/letter-form.js";
import { documentDetailView } from "./views/documents.js";
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

const ADMIN = ["administrateur"];

// `path` is matched whole, each `:name` standing for one URL segment (a view's context.params);
// `title` names the screen in the browser tab ("<title> — courrier"); `open` screens are shown signed in
// or not; `roles` limits a screen (and its menu entry) to those roles; `nav` puts it in the main menu,
// in this order.
const ROUTES = [
  { path: "/login", view: loginView, public: true, title: "Connexion" },
  { path: "/register", view: registerView, public: true, title: "Création de compte" },
  { path: "/oidc", view: oidcReturnView, public: true, title: "Connexion avec ProConnect" },
  { path: "/accueil", view: homeView, title: "Accueil", nav: { text: "Accueil", testid: "nav-home" } },
  { path: "/documents", view: documentListView, title: "Registre", nav: { text: "Registre", testid: "nav-documents" } },
  { path: "/documents/new", view: documentCreateView, title: "Enregistrer un courrier" },
  { path: "/documents/:id/edit", view: documentEditView, title: "Modifier le courrier" },
  { path: "/documents/:id", view: documentDetailView, title: "Fiche du courrier" },
  { path: "/contacts", view: contactsView, title: "Correspondants", nav: { text: "Correspondants", testid: "nav-contacts" } },
  { path: "/contacts/new", view: contactCreateView, title: "Nouveau correspondant" },
  { path: "/contacts/:id", view: contactDetailView, title: "Fiche du correspondant" },
  { path: "/pilotage", view: pilotageView, title: "Pilotage", nav: { text: "Pilotage", testid: "nav-pilotage" } },
  { path: "/sessions", view: sessionsView, title: "Mes sessions", nav: { text: "Mes sessions", testid: "nav-sessions" } },
  { path: "/historique", view: historyView, title: "Mon historique", nav: { text: "Mon historique", testid: "nav-history" } },
  { path: "/securite", view: securityView, title: "Sécurité du compte", nav: { text: "Sécurité", testid: "nav-security" } },
  { path: "/admin/users", view: usersView, roles: ADMIN, title: "Utilisateurs", nav: { text: "Utilisateurs", testid: "nav-users" } },
  { path: "/admin/services", view: servicesView, roles: ADMIN, title: "Services", nav: { text: "Services", testid: "nav-services" } },
  { path: "/admin/typologies", view: typologiesView, roles: ADMIN, title: "Typologies", nav: { text: "Typologies", testid: "nav-typologies" } },
  { path: "/admin/connections", view: connectionsView, roles: ADMIN, title: "Historique des connexions", nav: { text: "Connexions", testid: "nav-connections" } },
  { path: "/admin/events", view: eventsView, roles: ADMIN, title: "Journal d'audit", nav: { text: "Journal", testid: "nav-events" } },
  { path: "/accessibilite", view: accessibilityView, open: true, title: "Accessibilité" },
].map((route) => ({ ...route, pattern: new RegExp(`^${route.path.replace(/:\w+/g, "([\\w-]+)")}$`) }));

const HOME = "/accueil";
// A session restricted to enrolling or to changing its password (issue 15) shows only this screen.
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
  const active = current === href || current.startsWith(`${href}/`) || current.startsWith(`${href}?`);
  return h("a", { href: `#${href}`, class: ["nav-link", active ? "active" : ""], "aria-current": active ? "page" : null, "data-testid": testid }, text);
}

/** May `user` open `route`? (a route without `roles` is for everyone signed in) */
function allowed(route, user) {
  return !route.roles || route.roles.includes(user?.role);
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

function renderHeader(path) {
  if (!state.user || !api.isLoggedIn()) {
    header.hidden = true;
    replace(header);
    return;
  }
  const restricted = Boolean(state.user.restriction);
  const logoutButton = h("button", { type: "button", class: "btn btn-secondary", id: "logout-button" }, "Se déconnecter");
  logoutButton.addEventListener("click", async () => {
    logoutButton.disabled = true;
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
  replace(
    header,
    h(
      "div",
      { class: "header-inner" },
      h("a", { href: `#${HOME}`, class: "brand" }, h("span", { class: "brand-mark", "aria-hidden": "true" }), "Courrier"),
      restricted ? null : h(
        "nav",
        { class: "main-nav", "aria-label": "Navigation principale" },
        ROUTES.filter((route) => route.nav && allowed(route, state.user)).map((route) => navLink(route.path, route.nav.text, path, route.nav.testid)),
      ),
      h(
        "div",
        { class: "user-box" },
        h(
          "span",
          { class: "user-name", id: "current-user", "data-testid": "current-user" },
          personName(state.user),
          h("span", { class: "user-role" }, label("role", state.user.role)),
          userServices(state.user),
        ),
        logoutButton,
      ),
    ),
  );
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
    onLogin: (user) => {
      state.user = user;
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
  render();
}

boot();
