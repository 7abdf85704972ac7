// The one door to the JSON API. It adds the access token, renews it once with the refresh token
// when the server says it expired, and ends the local session when the server says it is dead.

const KEYS = {
  access: "courrier.access_token",
  refresh: "courrier.refresh_token",
  user: "courrier.user",
};

/** An API failure: `code`, `message` and field `errors` come from the error envelope. */
export class ApiError extends Error {
  constructor(status, payload) {
    super(payload?.message || defaultMessage(status));
    this.name = "ApiError";
    this.status = status;
    this.code = payload?.code || (status >= 500 ? "internal_error" : "error");
    this.errors = payload?.errors && typeof payload.errors === "object" ? payload.errors : {};
    this.sessionEnded = false; // true once the client has logged out because of it
  }
}

function defaultMessage(status) {
  if (status === 0) return "Le serveur est injoignable. Vérifiez votre connexion puis réessayez.";
  if (status >= 500) return "Le serveur a rencontré une erreur. Réessayez dans un instant.";
  return `La requête a échoué (erreur ${status}).`;
}

// ---------------------------------------------------------------- local session

function read(key) {
  try {
    return localStorage.getItem(key);
  } catch {
    return null;
  }
}

export function accessToken() {
  return read(KEYS.access);
}

export function refreshToken() {
  return read(KEYS.refresh);
}

/** The user saved at login (display only: the server decides from its own records). */
export function storedUser() {
  try {
    return JSON.parse(read(KEYS.user) || "null");
  } catch {
    return null;
  }
}

export function isLoggedIn() {
  return Boolean(accessToken());
}

/** Keep what an auth response (`data`) carries: tokens and, when present, the user. */
export function saveAuth(data) {
  if (data?.access_token) localStorage.setItem(KEYS.access, data.access_token);
  if (data?.refresh_token) localStorage.setItem(KEYS.refresh, data.refresh_token);
  if (data?.user) saveUser(data.user);
}

export function saveUser(user) {
  localStorage.setItem(KEYS.user, JSON.stringify(user));
}

/** Forget tokens and user. */
export function clearAuth() {
  for (const key of Object.values(KEYS)) localStorage.removeItem(key);
}

const endListeners = new Set();

/** Be told (with the server's code) when the session ends behind the user's back. */
export function onSessionEnded(listener) {
  endListeners.add(listener);
}

function endSession(code) {
  // Several requests in flight can all learn that the session is dead: it ends (and is announced) once.
  const wasOpen = Boolean(accessToken() || refreshToken());
  clearAuth();
  if (!wasOpen) return;
  for (const listener of endListeners) listener(code);
}

// Another tab logged out (or in as someone else): follow it.
window.addEventListener("storage", (event) => {
  if (event.key === KEYS.access && !event.newValue) {
    for (const listener of endListeners) listener("logged_out_elsewhere");
  }
});

// ---------------------------------------------------------------- refresh

let refreshing = null;

/**
 * Trade the refresh token for a new pair, once, however many requests are waiting for it:
 * presenting the same refresh token twice would look like theft and revoke the session.
 */
function refreshTokens() {
  if (!refreshing) {
    refreshing = (async () => {
      const token = refreshToken();
      if (!token) return false;
      let response;
      try {
        response = await fetch("/api/auth/refresh", {
          method: "POST",
          headers: { Accept: "application/json", Authorization: `Bearer ${token}` },
          cache: "no-store",
          credentials: "omit",
        });
      } catch {
        throw new ApiError(0);
      }
      if (!response.ok) return false;
      const payload = await readJson(response);
      if (!payload?.data?.access_token) return false;
      saveAuth(payload.data);
      return true;
    })().finally(() => {
      refreshing = null;
    });
  }
  return refreshing;
}

// ---------------------------------------------------------------- requests

async function readJson(response) {
  try {
    return await response.json();
  } catch {
    return null;
  }
}

function buildUrl(path, query) {
  const url = new URL(path, window.location.origin);
  for (const [key, value] of Object.entries(query || {})) {
    if (value !== undefined && value !== null && value !== "") url.searchParams.set(key, value);
  }
  return url.pathname + url.search;
}

const SESSION_CODES = new Set(["token_expired", "token_revoked", "token_invalid", "token_missing"]);

/** The error for a 401; a dead token also ends the local session (other 401s, e.g. a wrong password, do not). */
function failure(status, payload, endOnAuthFailure) {
  const error = new ApiError(status, payload);
  if (endOnAuthFailure && (SESSION_CODES.has(payload?.code) || !payload?.code)) {
    error.sessionEnded = true;
    endSession(payload?.code || "token_invalid");
  }
  return error;
}

/**
 * Call the API. Options: method, json (body object), form (FormData), query (object),
 * auth (default true), raw (return the Response of a successful call, for downloads),
 * endOnAuthFailure (default true: a dead session sends the user back to the login screen).
 * Resolves with the success envelope ({success, data, meta, message}); rejects with ApiError.
 */
export async function request(
  path,
  { method = "GET", json, form, query, auth = true, raw = false, endOnAuthFailure = true } = {},
) {
  const url = buildUrl(path, query);

  const send = async () => {
    const headers = { Accept: "application/json" };
    let body;
    if (json !== undefined) {
      headers["Content-Type"] = "application/json";
      body = JSON.stringify(json);
    } else if (form) {
      body = form; // the browser writes the multipart boundary
    }
    const token = auth ? accessToken() : null;
    if (token) headers.Authorization = `Bearer ${token}`;
    try {
      const response = await fetch(url, { method, headers, body, cache: "no-store", credentials: "omit" });
      return { response, token };
    } catch {
      throw new ApiError(0);
    }
  };

  let { response, token } = await send();

  // A sensitive action with a stale proof of identity: ask for it (a dialog), then try once more.
  if (auth && response.status === 401 && reauthenticator) {
    const payload = await readJson(response.clone());
    if (payload?.code === "reauthentication_required") {
      await reauthenticator(new ApiError(401, payload));
      ({ response, token } = await send());
    }
  }

  if (auth && response.status === 401) {
    const payload = await readJson(response);
    if (payload?.code !== "token_expired") throw failure(401, payload, endOnAuthFailure);
    // Another request (or tab) may already have renewed the pair while this one was in flight.
    const current = accessToken();
    const renewed = current && current !== token ? true : await refreshTokens();
    if (!renewed) throw failure(401, payload, endOnAuthFailure);
    ({ response } = await send());
    if (response.status === 401) throw failure(401, await readJson(response), endOnAuthFailure);
  }

  if (raw && response.ok) return response;
  const payload = await readJson(response);
  if (!response.ok || !payload || payload.success === false) {
    throw new ApiError(response.status, payload);
  }
  return payload;
}

let reauthenticator = null;

/**
 * Who asks the user to prove their identity again when the server answers `reauthentication_required`:
 * a function returning a promise that resolves once POST /api/auth/reauthenticate succeeded and rejects
 * (with the original error) if the user gives up.
 */
export function onReauthenticationRequired(handler) {
  reauthenticator = handler;
}

// ---------------------------------------------------------------- auth calls

/** The user of a login answer, with what the session is restricted to (null: nothing). */
function loggedInUser(data) {
  const user = { ...data.user, restriction: data.restriction || null };
  saveAuth({ ...data, user });
  return user;
}

/**
 * Log in with a password. Resolves with the user, or with `{mfa_required, mfa_token, expires_in}`
 * when the account has a second factor: `verifyMfa` then finishes the login.
 */
export async function login(email, password) {
  const payload = await request("/api/auth/login", { method: "POST", json: { email, password }, auth: false });
  if (payload.data.mfa_required) return payload.data;
  return loggedInUser(payload.data);
}

/** The login's second step: `proof` is `{code}` or `{recovery_code}`. Resolves with the user. */
export async function verifyMfa(mfaToken, proof) {
  const payload = await request("/api/auth/mfa/verify", { method: "POST", json: { mfa_token: mfaToken, ...proof }, auth: false });
  return loggedInUser(payload.data);
}

/** Finish a login answered elsewhere (ProConnect's ticket exchange): tokens, or the second step. */
export function completeLogin(data) {
  return data.mfa_required ? data : loggedInUser(data);
}

export async function register(fields) {
  const payload = await request("/api/auth/register", { method: "POST", json: fields, auth: false });
  saveAuth(payload.data);
  return payload.data.user;
}

/**
 * Revoke this session on the server (best effort), then forget it here. Resolves with the provider's
 * logout URL when the session was opened with ProConnect (null otherwise).
 */
export async function logout() {
  try {
    if (!accessToken()) return null;
    const payload = await request("/api/auth/logout", { method: "POST", endOnAuthFailure: false });
    return payload.data?.end_session_url || null;
  } catch {
    // Already dead or unreachable: forgetting the tokens locally is what matters.
    return null;
  } finally {
    clearAuth();
  }
}

/** The file name a Content-Disposition header proposes (filename*=UTF-8'' first), or null. */
function dispositionFilename(response) {
  const header = response.headers.get("Content-Disposition") || "";
  const extended = /filename\*\s*=\s*UTF-8''([^;]+)/i.exec(header);
  if (extended) {
    try {
      return decodeURIComponent(extended[1].trim());
    } catch {
      // a malformed name: fall back to the plain one
    }
  }
  const plain = /filename\s*=\s*"?([^";]+)"?/i.exec(header);
  return plain ? plain[1].trim() : null;
}

/**
 * Download a file (an attachment, an export) with the bearer token and hand it to the browser.
 * Without `filename`, the name the server proposes (Content-Disposition) is kept.
 */
export async function download(path, filename, { query } = {}) {
  const response = await request(path, { raw: true, query });
  const blob = await response.blob();
  const url = URL.createObjectURL(blob);
  const link = document.createElement("a");
  link.href = url;
  link.download = filename || dispositionFilename(response) || "piece-jointe";
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}
