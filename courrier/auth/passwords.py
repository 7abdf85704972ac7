"""Password hashing (bcrypt) and the password rules of API.md section 3.

Every bcrypt call runs on a hashing thread holding one of the machine's hashing slots
(courrier.auth.hashing): a storm of logins gets 503 with Retry-After rather than every core.
"""
import bcrypt
from flask import current_app

from courrier.auth.hashing import hash_in_slot
from courrier.auth.models import ROLES
from courrier.schemas import has_control_character

MAX_PASSWORD_BYTES = 72  # bcrypt's limit: longer passwords are refused, never truncated
MIN_ZXCVBN_SCORE = 3  # zxcvbn: 3 is "safely unguessable" online (10^8 to 10^10 tries)


def hash_password(password):
    rounds = current_app.config["BCRYPT_ROUNDS"]
    return hash_in_slot(bcrypt.hashpw, password.encode("utf-8"), bcrypt.gensalt(rounds)).decode("ascii")


def check_password(password, password_hash):
    """True when `password` matches; a password bcrypt cannot take (over 72 bytes) simply does not match."""
    encoded = password.encode("utf-8")
    # Over 72 bytes: the same bcrypt work as a real comparison, so that length leaks nothing through timing.
    matches = hash_in_slot(bcrypt.checkpw, encoded[:MAX_PASSWORD_BYTES], password_hash.encode("ascii"))
    return matches and len(encoded) <= MAX_PASSWORD_BYTES


_dummy_hashes = {}


def dummy_hash():
    """A hash at the configured cost, compared against when the email is unknown (no timing oracle)."""
    rounds = current_app.config["BCRYPT_ROUNDS"]
    if rounds not in _dummy_hashes:
        _dummy_hashes[rounds] = hash_in_slot(bcrypt.hashpw, b"courrier-dummy-password",
                                             bcrypt.gensalt(rounds)).decode("ascii")
    return _dummy_hashes[rounds]


PRIVILEGED_ROLES = ("validateur", "administrateur")


def min_length(role):
    """The minimum length in characters for a password of `role` (ANSSI: longer for privileged access)."""
    config = current_app.config
    return config["PASSWORD_MIN_LENGTH_PRIVILEGED"] if role in PRIVILEGED_ROLES else config["PASSWORD_MIN_LENGTH"]


def public_policy():
    """The lengths the forms state beside a new password (GET /api/auth/config), the numbers checked here."""
    return {"min_length": {role: min_length(role) for role in ROLES}, "max_bytes": MAX_PASSWORD_BYTES}


def policy_mark(role):
    """What a password of `role` was checked against; stored with it so that a stricter policy is noticed."""
    return f"{min_length(role)}:{MIN_ZXCVBN_SCORE}"


def password_problems(password, user_inputs=(), role="agent"):
    """The French reasons `password` is refused for an account of `role`, empty when it is acceptable."""
    # Control characters (tab, line break…) cannot be typed in a password box, and make zxcvbn crash
    # ("1234\n" passes its `^\d{4,8}$`, then int() refuses it).
    if has_control_character(password):
        return ["Le mot de passe ne peut pas contenir de caractère de contrôle (tabulation, retour à la ligne…)."]
    minimum = min_length(role)
    if len(password) < minimum:
        who = " pour un compte validateur ou administrateur" if role in PRIVILEGED_ROLES else ""
        return [f"Le mot de passe doit contenir au moins {minimum} caractères{who}."]
    if len(password.encode("utf-8")) > MAX_PASSWORD_BYTES:
        return [f"Le mot de passe ne doit pas dépasser {MAX_PASSWORD_BYTES} octets en UTF-8 (limite de l'algorithme "
                "bcrypt ; un caractère accentué compte pour 2 octets) : raccourcissez-le."]
    # Imported here: its dictionaries take 12 MB, which a worker pays only once it checks a password.
    from zxcvbn import zxcvbn
    from zxcvbn.matching import RANKED_DICTIONARIES

    if any(password.lower() in ranked for ranked in RANKED_DICTIONARIES.values()):
        return ["Ce mot de passe figure dans les listes de mots de passe courants : choisissez-en un autre."]
    context = [value for value in user_inputs if value]
    context += [part for value in context if "@" in value for part in value.split("@")[0].split(".")]
    if zxcvbn(password, user_inputs=context)["score"] < MIN_ZXCVBN_SCORE:
        return ["Mot de passe trop facile à deviner : allongez-le ou mélangez des mots inattendus."]
    return []
