"""Domain events sent by the services; the audit listener (courrier.audit.listeners) records each one.

Senders pass keyword arguments: `actor_id` (who acted), `subject_user_id` (whom it concerns),
`email` (the email concerned, e.g. the one tried on a failed login) and `details` (a JSON dict).
"""
from blinker import Namespace
from flask import current_app

_signals = Namespace()


def announce(signal, **event):
    """Send a domain event from this app; its listeners write their rows in the caller's transaction."""
    signal.send(current_app._get_current_object(), **event)


login_succeeded = _signals.signal("login_succeeded")
login_failed = _signals.signal("login_failed")
logout = _signals.signal("logout")
logout_all = _signals.signal("logout_all")
token_refreshed = _signals.signal("token_refreshed")
refresh_reuse_detected = _signals.signal("refresh_reuse_detected")
password_changed = _signals.signal("password_changed")
user_created = _signals.signal("user_created")
user_updated = _signals.signal("user_updated")
sessions_revoked = _signals.signal("sessions_revoked")
document_validated = _signals.signal("document_validated")
document_rejected = _signals.signal("document_rejected")
document_assigned = _signals.signal("document_assigned")
service_created = _signals.signal("service_created")
service_updated = _signals.signal("service_updated")
memberships_changed = _signals.signal("memberships_changed")
document_taken_in_charge = _signals.signal("document_taken_in_charge")
document_treated = _signals.signal("document_treated")
document_reopened = _signals.signal("document_reopened")
typologie_changed = _signals.signal("typologie_changed")
contacts_merged = _signals.signal("contacts_merged")
contact_deleted = _signals.signal("contact_deleted")
notifications_changed = _signals.signal("notifications_changed")
register_exported = _signals.signal("register_exported")
mfa_enabled = _signals.signal("mfa_enabled")
mfa_disabled = _signals.signal("mfa_disabled")
mfa_failed = _signals.signal("mfa_failed")
mfa_recovery_used = _signals.signal("mfa_recovery_used")
mfa_reset = _signals.signal("mfa_reset")
reauthenticated = _signals.signal("reauthenticated")
oidc_identity_linked = _signals.signal("oidc_identity_linked")
document_captured = _signals.signal("document_captured")
document_qualified = _signals.signal("document_qualified")
document_set_aside = _signals.signal("document_set_aside")

AUDITED_SIGNALS = (
    login_succeeded, login_failed, logout, logout_all, token_refreshed, refresh_reuse_detected,
    password_changed, user_created, user_updated, sessions_revoked, document_validated, document_rejected,
    document_assigned, service_created, service_updated, memberships_changed,
    document_taken_in_charge, document_treated, document_reopened, typologie_changed, notifications_changed,
    contacts_merged, contact_deleted, register_exported,
    mfa_enabled, mfa_disabled, mfa_failed, mfa_recovery_used, mfa_reset, reauthenticated,
    oidc_identity_linked, document_captured, document_qualified, document_set_aside,
)
AUDIT_EVENT_TYPES = tuple(signal.name for signal in AUDITED_SIGNALS)
# The events a user sees in their own history (GET /api/auth/history): their account's security.
SECURITY_EVENT_TYPES = (
    "login_succeeded", "login_failed", "logout", "logout_all", "refresh_reuse_detected", "password_changed",
    "user_created", "user_updated", "sessions_revoked", "mfa_enabled", "mfa_disabled", "mfa_failed",
    "mfa_recovery_used", "mfa_reset", "reauthenticated",
)
