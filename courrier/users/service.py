"""User management by administrateurs: list, create, update, deactivate, force logout, MFA reset.

Each use case does its writes and its audit row (through the signal) in one transaction and commits
once at the end, so an action without its audit row, or the reverse, can never be committed.
"""
import uuid

from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload

from courrier import signals
from courrier.signals import announce
from courrier.auth import mfa, service as auth_service
from courrier.auth.reauth import require_recent_authentication
from courrier.auth.models import User
from courrier.auth.tokens import token_store
from courrier.database import paginate, transactional
from courrier.errors import ApiError
from courrier.extensions import db

ADMIN_ROLE = "administrateur"
# The fields PATCH may change, in the order they are reported in the audit details.
EDITABLE_FIELDS = ("role", "is_active", "nom", "prenom", "contact")

SELF_CHANGE_REFUSED = ("Un administrateur ne peut ni se désactiver ni se retirer le rôle d'administrateur : "
                       "demandez-le à un autre administrateur.")
LAST_ADMIN_REFUSED = "Impossible : ce compte est le dernier administrateur actif."
USER_NOT_FOUND = "Utilisateur introuvable."


def list_users(args):
    """One page of users, newest first, filtered by role, status and a text search."""
    query = select(User).options(selectinload(User.memberships)).order_by(User.created_at.desc(), User.id.desc())
    if args.get("role"):
        query = query.where(User.role == args["role"])
    if args.get("is_active") is not None:
        query = query.where(User.is_active.is_(args["is_active"]))
    if args.get("q"):
        text = args["q"].lower()
        query = query.where(or_(*(func.lower(column).contains(text, autoescape=True)
                                  for column in (User.email, User.nom, User.prenom))))
    return paginate(query, args["page"], args["per_page"])


def get_user(user_id):
    """The user with this id; 404 for an unknown or malformed id."""
    try:
        uuid.UUID(user_id)
    except ValueError:
        raise ApiError("not_found", USER_NOT_FOUND) from None
    user = db.session.get(User, user_id)
    if user is None:
        raise ApiError("not_found", USER_NOT_FOUND)
    return user


@transactional
def create_user(data, actor):
    """An administrateur creates a user of any role (registration rules, email unique)."""
    user = auth_service.create_user(data, role=data["role"], actor_id=actor.id)
    return user


@transactional
def update_user(actor, user_id, changes):
    """Apply an administrateur's changes; deactivation revokes every session in the same transaction.

    An administrateur cannot deactivate or demote themself (403), and the last active administrateur
    can never lose that status (409), even when two administrateurs act on each other at once.
    """
    user = get_user(user_id)
    changed = {name: {"old": getattr(user, name), "new": changes[name]}
               for name in EDITABLE_FIELDS if name in changes and changes[name] != getattr(user, name)}
    loses_admin = user.role == ADMIN_ROLE and user.is_active and (
        "is_active" in changed or ("role" in changed and changes["role"] != ADMIN_ROLE))
    if loses_admin and user.id == actor.id:
        raise ApiError("forbidden", SELF_CHANGE_REFUSED)
    if not changed:
        return user
    if {"role", "is_active"} & set(changed):
        require_recent_authentication(actor)
    if loses_admin:
        # PostgreSQL: concurrent requests removing administrateurs queue here, locking in one order so
        # they cannot deadlock; the count below then sees the winner's commit. (SQLite has one writer.)
        db.session.execute(select(User.id).where(User.role == ADMIN_ROLE, User.is_active.is_(True))
                           .order_by(User.id).with_for_update())
    for name, change in changed.items():
        setattr(user, name, change["new"])
    details = {"changes": changed}
    if "is_active" in changed and not user.is_active:
        details["revoked_sessions"] = token_store().revoke_all(user.id, "deactivated")
    db.session.flush()
    if loses_admin and count_active_admins() == 0:
        db.session.rollback()
        raise ApiError("conflict", LAST_ADMIN_REFUSED)
    announce(signals.user_updated, actor_id=actor.id, subject_user_id=user.id,
             email=user.email, details=details)
    return user


def count_active_admins():
    return db.session.scalar(
        select(func.count()).select_from(User).where(User.role == ADMIN_ROLE, User.is_active.is_(True)))


@transactional
def revoke_sessions(actor, user_id):
    """Force the logout of a user (a stolen laptop): every live session is revoked; returns how many."""
    require_recent_authentication(actor)
    user = get_user(user_id)
    revoked = token_store().revoke_all(user.id, "admin_revoked")
    announce(signals.sessions_revoked, actor_id=actor.id, subject_user_id=user.id,
             email=user.email, details={"revoked": revoked})
    return revoked


def reset_mfa(actor, user_id):
    """An administrateur removes a user's second factor; returns how many sessions were revoked."""
    return mfa.reset(actor, get_user(user_id))
