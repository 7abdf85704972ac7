"""Sign-in with ProConnect (OpenID Connect).

The browser goes to `GET /api/auth/oidc/login`, which sends it to the provider with a `state`, a `nonce`
and a PKCE challenge kept server-side (`OidcPendingLogin`) and bound to the browser by a short-lived
cookie. The provider sends it back to `GET /api/auth/oidc/callback`, which checks everything, finds the
local user and hands the SPA a one-time ticket (`/#/oidc?ticket=…`, 30 s); the SPA trades it at
`POST /api/auth/oidc/token` for the usual courrier session (`complete_login(method="oidc")`).
Only the provider's `sub` (and, per session, the ID token kept as the logout hint) is stored.
"""
