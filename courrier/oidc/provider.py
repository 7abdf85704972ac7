"""The OpenID provider seen from courrier: discovery, keys, the OAuth client and the token checks.

Authlib's `OAuth2Session` speaks OAuth (PKCE S256, `client_secret_post`); joserfc (Authlib's successor
for JOSE: `authlib.jose` is deprecated) verifies the ID token and a signed userinfo against the
provider's JWKS. Discovery and keys are cached per process for DISCOVERY_TTL seconds; a key id the
cache does not know makes one fresh fetch (the provider rotated its keys).

Authlib, requests and joserfc are imported by the functions that use them, for the worker's memory
(about 25 MB that a worker never needs unless ProConnect is used).
"""
import logging
import time

from flask import current_app

from courrier.errors import ApiError

log = logging.getLogger(__name__)

DISCOVERY_TTL = 300
HTTP_TIMEOUT = 5
LEEWAY = 60
SIGNING_ALGORITHMS = ["RS256", "ES256", "PS256"]
# acr values and amr methods meaning a second factor (ProConnect's assurance levels, RFC 8176).
MFA_ACR = {"eidas2", "eidas3", "https://proconnect.gouv.fr/assurance/self-asserted-2fa",
           "https://proconnect.gouv.fr/assurance/consistency-checked-2fa"}
MFA_AMR = {"mfa"}
UNAVAILABLE = "ProConnect est momentanément injoignable : réessayez dans quelques minutes."

_cache = {}  # (what, url) -> (expires at, value)


class ProviderError(Exception):
    """The provider's answer cannot be trusted (bad signature, issuer, audience, nonce, acr…)."""


def _get_json(url):
    import requests  # for the worker's memory (see the module's docstring)

    try:
        response = requests.get(url, timeout=HTTP_TIMEOUT, headers={"Accept": "application/json"})
        response.raise_for_status()
        return response.json()
    except (requests.RequestException, ValueError) as error:
        log.warning("OIDC provider unreachable at %s: %s", url, error.__class__.__name__)
        raise ApiError("service_unavailable", UNAVAILABLE) from None


def _cached(what, url, fetch, refresh=False):
    now = time.monotonic()
    entry = _cache.get((what, url))
    if entry and entry[0] > now and not refresh:
        return entry[1]
    value = fetch(url)
    _cache[(what, url)] = (now + DISCOVERY_TTL, value)
    return value


def issuer():
    return current_app.config["OIDC_ISSUER"]


def metadata():
    """The provider's discovery document (cached); 503 when the provider cannot be reached."""
    return _cached("discovery", issuer() + "/.well-known/openid-configuration", _get_json)


def key_set(kid=None):
    """The provider's public keys; fetched again once if `kid` is not among the cached ones."""
    from joserfc.jwk import KeySet  # for the worker's memory (see the module's docstring)

    url = metadata()["jwks_uri"]
    keys = _cached("jwks", url, lambda u: KeySet.import_key_set(_get_json(u)))
    if kid is not None and all(key.kid != kid for key in keys.keys):
        keys = _cached("jwks", url, lambda u: KeySet.import_key_set(_get_json(u)), refresh=True)
    return keys


def client(**kwargs):
    """Authlib's OAuth client for this application, as declared to the provider."""
    from authlib.integrations.requests_client import OAuth2Session  # for the worker's memory (module docstring)

    config = current_app.config
    return OAuth2Session(
        config["OIDC_CLIENT_ID"], config["OIDC_CLIENT_SECRET"], scope=config["OIDC_SCOPES"],
        redirect_uri=redirect_uri(), token_endpoint_auth_method="client_secret_post",
        code_challenge_method="S256", **kwargs)


def redirect_uri():
    return current_app.config["APP_URL"] + "/api/auth/oidc/callback"


def post_logout_redirect_uri():
    return current_app.config["APP_URL"] + "/"


def authorization_url(state, nonce, code_verifier):
    config = current_app.config
    extra = {"acr_values": config["OIDC_ACR_VALUES"]} if config["OIDC_ACR_VALUES"] else {}
    url, _ = client().create_authorization_url(
        metadata()["authorization_endpoint"], state=state, nonce=nonce, code_verifier=code_verifier, **extra)
    return url


def fetch_tokens(code, code_verifier):
    """Exchange the authorisation code (with the PKCE verifier) for the provider's tokens."""
    import requests  # for the worker's memory (see the module's docstring)
    from authlib.integrations.base_client import OAuthError

    session = client()
    try:
        return session, session.fetch_token(metadata()["token_endpoint"], grant_type="authorization_code",
                                            code=code, code_verifier=code_verifier, timeout=HTTP_TIMEOUT)
    except requests.RequestException as error:
        log.warning("OIDC token endpoint unreachable: %s", error.__class__.__name__)
        raise ApiError("service_unavailable", UNAVAILABLE) from None
    except OAuthError as error:
        raise ProviderError(f"token endpoint: {error.error}") from None


def decode_signed(token, claims_options):
    """A JWT signed with one of the provider's keys, its claims checked against `claims_options`."""
    from joserfc import jws, jwt  # for the worker's memory (see the module's docstring)
    from joserfc.errors import JoseError

    try:
        header_kid = jws.extract_compact(token.encode()).headers().get("kid")
        decoded = jwt.decode(token, key_set(header_kid), algorithms=SIGNING_ALGORITHMS)
        jwt.JWTClaimsRegistry(leeway=LEEWAY, **claims_options).validate(decoded.claims)
    except (JoseError, ValueError) as error:
        raise ProviderError(f"jwt: {error}") from None
    return decoded.claims


def verify_id_token(id_token, nonce):
    """The ID token's claims: signature, `iss`, `aud`, `exp`, `nonce` and, when asked, `acr`."""
    config = current_app.config
    options = {
        "iss": {"essential": True, "value": issuer()},
        "aud": {"essential": True, "value": config["OIDC_CLIENT_ID"]},
        "exp": {"essential": True},
        "sub": {"essential": True},
        "nonce": {"essential": True, "value": nonce},
    }
    if config["OIDC_ACR_VALUES"]:
        options["acr"] = {"essential": True, "values": config["OIDC_ACR_VALUES"].split()}
    return decode_signed(id_token, options)


def read_userinfo(session, sub):
    """The userinfo claims: a signed JWT (ProConnect) or plain JSON; its `sub` must be the ID token's."""
    import requests  # for the worker's memory (see the module's docstring)

    try:
        response = session.get(metadata()["userinfo_endpoint"], timeout=HTTP_TIMEOUT)
        response.raise_for_status()
    except requests.RequestException as error:
        log.warning("OIDC userinfo endpoint failed: %s", error.__class__.__name__)
        raise ApiError("service_unavailable", UNAVAILABLE) from None
    if response.headers.get("Content-Type", "").split(";")[0].strip() == "application/jwt":
        claims = decode_userinfo_jwt(response.text.strip())
    else:
        try:
            claims = response.json()
        except ValueError:
            raise ProviderError("userinfo: not JSON") from None
    if not isinstance(claims, dict) or claims.get("sub") != sub:
        raise ProviderError("userinfo: sub differs from the ID token's")
    return claims


def decode_userinfo_jwt(token):
    """A signed userinfo response: the provider's key, its issuer and this client as audience."""
    return decode_signed(token, {
        "iss": {"essential": True, "value": issuer()},
        "aud": {"essential": True, "value": current_app.config["OIDC_CLIENT_ID"]},
        "sub": {"essential": True},
    })


def shows_mfa(id_claims):
    """The provider says the agent proved a second factor (acr level or amr `mfa`)."""
    amr = id_claims.get("amr") or []
    return id_claims.get("acr") in MFA_ACR or bool(MFA_AMR & set(amr if isinstance(amr, list) else [amr]))
