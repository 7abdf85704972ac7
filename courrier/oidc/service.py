"""ProConnect sign-in, one function per step: start, callback, ticket exchange, provider logout URL.

Each step commits once. Refusals after the provider vouched for the agent (SIRET, deactivated or unknown
account) are audited `login_failed` with `method: oidc`; linking a provider account to an existing one by
e-mail is audited `oidc_identity_linked`.
"""
import hashlib
import secrets
from datetime import timedelta
from urllib.parse import urlencode

from flask import current_app
from flask_jwt_extended import decode_token
from sqlalchemy import delete, select

from courrier import signals
from courrier.database import commit_then_raise, transactional
from courrier.signals import announce
from courrier.auth.models import AuthSession, User
from courrier.auth.passwords import hash_password
from courrier.auth.login import complete_login
from courrier.auth.service import find_user_by_email
from courrier.columns import utcnow
from courrier.errors import ApiError
from courrier.extensions import db
from courrier.oidc import provider
from courrier.oidc.models import OidcIdentity, OidcPendingLogin, OidcSessionHint, OidcTicket

PENDING_LIFETIME = timedelta(minutes=10)
TICKET_LIFETIME = timedelta(seconds=30)

# What the SPA's return screen says for each refusal (`/#/oidc?error=<reason>`), with the API's code.
REFUSALS = {
    "state_invalid": ("bad_request", "La connexion ProConnect a expiré ou a déjà servi : recommencez depuis "
                                     "l'écran de connexion."),
    "provider_error": ("bad_request", "La réponse de ProConnect n'a pas pu être vérifiée : recommencez."),
    "provider_denied": ("forbidden", "La connexion a été annulée sur ProConnect."),
    "siret_not_allowed": ("forbidden", "Votre établissement (SIRET) n'a pas accès à ce registre du courrier."),
    "account_inactive": ("forbidden", "Votre compte est désactivé : adressez-vous à un administrateur."),
    "account_unknown": ("forbidden", "Aucun compte ne correspond à votre identité ProConnect : demandez à un "
                                     "administrateur de vous en créer un."),
}
TICKET_INVALID = "Ticket de connexion ProConnect inconnu ou déjà utilisé : reconnectez-vous."
TICKET_EXPIRED = "Ticket de connexion ProConnect expiré : reconnectez-vous."


class OidcRefusal(ApiError):
    """A sign-in refused for `reason` (a key of REFUSALS): JSON for a script, the SPA's screen for a browser."""

    def __init__(self, reason):
        code, message = REFUSALS[reason]
        super().__init__(code, message)
        self.reason = reason


def enabled():
    return bool(current_app.config.get("OIDC_ISSUER"))


def require_enabled():
    """Without OIDC_ISSUER the feature does not exist (404)."""
    if not enabled():
        raise ApiError("not_found")


def digest(value):
    return hashlib.sha256(value.encode()).hexdigest()


def public_config():
    return {"enabled": enabled(), "label": current_app.config["OIDC_LABEL"] if enabled() else None}


@transactional
def begin_login():
    """A pending login (state, nonce, PKCE verifier) and the provider URL; returns (url, browser handle)."""
    handle, state, nonce, verifier = (secrets.token_urlsafe(32) for _ in range(4))
    url = provider.authorization_url(state, nonce, verifier)
    now = utcnow()
    db.session.add(OidcPendingLogin(id=digest(handle), state=state, nonce=nonce, code_verifier=verifier,
                                    created_at=now, expires_at=now + PENDING_LIFETIME))
    return url, handle


@transactional
def take_pending_login(handle):
    """The pending login of this browser, deleted as it is read, in a transaction of its own: a state serves
    once, whatever happens next."""
    if not handle:
        return None
    pending = db.session.get(OidcPendingLogin, digest(handle))
    if pending is None:
        return None
    if db.session.execute(delete(OidcPendingLogin).where(OidcPendingLogin.id == pending.id)).rowcount != 1:
        return None  # another request (the same callback twice) took it first
    return pending


@transactional
def finish_login(handle, args):
    """The provider's callback: check it all, find the user, return a one-time ticket for the SPA."""
    pending = take_pending_login(handle)
    if (pending is None or pending.expires_at <= utcnow() or not args.get("state")
            or not secrets.compare_digest(pending.state, args["state"])):
        raise OidcRefusal("state_invalid")
    if args.get("error") or not args.get("code"):
        raise OidcRefusal("provider_denied")
    if args.get("iss") not in (None, provider.issuer()):  # RFC 9207: an answer from another provider
        raise OidcRefusal("provider_error")
    try:
        session, token = provider.fetch_tokens(args["code"], pending.code_verifier)
        if not token.get("id_token"):
            raise provider.ProviderError("no id_token")
        id_claims = provider.verify_id_token(token["id_token"], pending.nonce)
        userinfo = provider.read_userinfo(session, id_claims["sub"])
    except provider.ProviderError as error:
        current_app.logger.warning("OIDC callback refused: %s", error)
        raise OidcRefusal("provider_error") from None
    try:
        user = find_or_create_user(id_claims["sub"], userinfo)
    except OidcRefusal as refusal:
        announce(signals.login_failed, email=(userinfo.get("email") or "")[:254] or None,
                 details={"method": "oidc", "reason": refusal.reason})
        commit_then_raise(refusal)
    ticket = secrets.token_urlsafe(32)
    now = utcnow()
    db.session.add(OidcTicket(id=digest(ticket), user_id=user.id, mfa=provider.shows_mfa(id_claims),
                              id_token_hint=token["id_token"], created_at=now, expires_at=now + TICKET_LIFETIME))
    return ticket


def siret_allowed(userinfo):
    allowed = current_app.config["OIDC_ALLOWED_SIRETS"]
    return not allowed or str(userinfo.get("siret") or "") in allowed


def find_or_create_user(sub, userinfo):
    """The local user of (issuer, sub); on a first sign-in the account with that e-mail, or a new agent."""
    if not siret_allowed(userinfo):
        raise OidcRefusal("siret_not_allowed")
    issuer = provider.issuer()
    identity = db.session.scalar(select(OidcIdentity).where(OidcIdentity.issuer == issuer, OidcIdentity.sub == sub))
    if identity is not None:
        user = db.session.get(User, identity.user_id)
    else:
        user = link_first_sign_in(issuer, sub, userinfo)
    if not user.is_active:
        raise OidcRefusal("account_inactive")
    if identity is not None:
        identity.last_login_at = utcnow()
    return user


def link_first_sign_in(issuer, sub, userinfo):
    """First sign-in of (issuer, sub): link the account with the same e-mail, or create one if allowed."""
    email = (userinfo.get("email") or "").strip().lower()
    user = find_user_by_email(email) if email else None
    if user is None:
        if not (current_app.config["OIDC_AUTO_CREATE"] and email):
            raise OidcRefusal("account_unknown")
        user = create_agent(email, userinfo)
    elif user.is_active:
        announce(signals.oidc_identity_linked, actor_id=user.id, subject_user_id=user.id, email=user.email,
                 details={"issuer": issuer, "sub": sub})
    if user.is_active:
        db.session.add(OidcIdentity(issuer=issuer, sub=sub, user_id=user.id))
    return user


def create_agent(email, userinfo):
    """A new `agent` from the provider's claims; its password is random and unknown (ProConnect only)."""
    nom = (userinfo.get("usual_name") or userinfo.get("family_name") or email.split("@")[0])[:100]
    prenom = (userinfo.get("given_name") or "-")[:100]
    user = User(email=email, password_hash=hash_password(secrets.token_urlsafe(32)), nom=nom, prenom=prenom,
                role="agent", is_active=True)
    db.session.add(user)
    db.session.flush()
    announce(signals.user_created, actor_id=user.id, subject_user_id=user.id,
             email=user.email, details={"role": "agent", "method": "oidc"})
    return user


@transactional
def exchange_ticket(ticket):
    """Trade a ticket (once, within 30 s) for what `complete_login` answers: tokens or the MFA step."""
    row = db.session.get(OidcTicket, digest(ticket))
    if row is None or db.session.execute(delete(OidcTicket).where(OidcTicket.id == row.id)).rowcount != 1:
        raise ApiError("token_invalid", TICKET_INVALID)
    if row.expires_at <= utcnow():
        commit_then_raise(ApiError("token_expired", TICKET_EXPIRED))
    user = db.session.get(User, row.user_id)
    if not user.is_active:
        commit_then_raise(OidcRefusal("account_inactive"))
    result = complete_login(user, method="oidc", mfa=row.mfa)
    keep_logout_hint(result, row.id_token_hint)
    return result


def keep_logout_hint(result, id_token_hint):
    """Remember the ID token beside the session just opened (sessions tracked), for the provider logout."""
    if "access_token" not in result:
        return
    jti = decode_token(result["access_token"])["jti"]
    session_id = db.session.scalar(select(AuthSession.id).where(AuthSession.access_jti == jti))
    if session_id is not None:
        db.session.add(OidcSessionHint(session_id=session_id, id_token_hint=id_token_hint))


def logout_data(principal):
    """What POST /api/auth/logout adds to its answer: the provider's logout URL, or nothing (null)."""
    url = end_session_url(principal)
    return {"end_session_url": url} if url else None


def end_session_url(principal):
    """The provider's logout URL for a session opened through it, or None (other sessions, provider down)."""
    if not enabled() or principal.session_id is None:
        return None
    hint = db.session.get(OidcSessionHint, principal.session_id)
    if hint is None:
        return None
    try:
        endpoint = provider.metadata().get("end_session_endpoint")
    except ApiError:
        return None
    if not endpoint:
        return None
    query = urlencode({"id_token_hint": hint.id_token_hint, "state": secrets.token_urlsafe(32),
                       "post_logout_redirect_uri": provider.post_logout_redirect_uri()})
    return f"{endpoint}{'&' if '?' in endpoint else '?'}{query}"
