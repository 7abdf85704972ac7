"""Configuration read from the environment (API.md section 8).

`Config.from_env()` builds a typed configuration; `APP_ENV=production` refuses weak secrets so a
deployment can never run with a guessable signing key.
"""
import os
import secrets
import tempfile
from dataclasses import dataclass
from datetime import timedelta

BASE_DIR = os.path.dirname(os.path.abspath(__file__))
INSTANCE_DIR = os.path.join(BASE_DIR, "instance")

APP_ENVS = ("development", "testing", "production")
MIN_SECRET_BYTES = 32
PLACEHOLDER_SECRETS = {
    "changeme", "change-me", "secret", "dev", "development", "test", "testing", "please-change-me",
    "top-secret!", "you-will-never-guess", "your-secret-key", "super-secret", "xxx",
}


# Machine-wide by default: /dev/shm (memory) when there is one, else the temporary folder.
DEFAULT_HASHING_LOCK_DIR = os.path.join("/dev/shm" if os.path.isdir("/dev/shm") else tempfile.gettempdir(),
                                        "courrier-bcrypt-slots")


def default_hashing_slots():
    """Half the cores this process may run on, at least one: the rest stays for every other request."""
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cores = os.cpu_count() or 1
    return max(1, cores // 2)


class ConfigError(RuntimeError):
    """The environment describes a configuration the app must not start with."""


def env_str(name, default=None):
    value = os.environ.get(name)
    return default if value is None or value.strip() == "" else value.strip()


def env_int(name, default):
    raw = env_str(name)
    if raw is None:
        return default
    try:
        return int(raw)
    except ValueError:
        raise ConfigError(f"{name} doit être un entier, reçu {raw!r}.") from None


def env_bool(name, default):
    raw = env_str(name)
    if raw is None:
        return default
    if raw.lower() in ("1", "true", "yes", "on"):
        return True
    if raw.lower() in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"{name} doit valoir true ou false, reçu {raw!r}.")


def env_list(name):
    raw = env_str(name, "")
    return [item.strip().rstrip("/") for item in raw.split(",") if item.strip()]


def env_roles(name, default):
    """A comma-separated list of roles; `none` is the empty list."""
    raw = env_str(name, default)
    if raw.lower() == "none":
        return ()
    roles = tuple(item.strip().lower() for item in raw.split(",") if item.strip())
    unknown = sorted(set(roles) - {"agent", "validateur", "administrateur"})
    if unknown:
        raise ConfigError(f"{name} : rôle(s) inconnu(s) {', '.join(unknown)} (agent, validateur, administrateur "
                          "ou none).")
    return roles


def env_choice(name, choices, default):
    value = env_str(name, default).lower()
    if value not in choices:
        raise ConfigError(f"{name} doit valoir {' ou '.join(choices)}, reçu {value!r}.")
    return value


def jobs_setting(name, default):
    """A count or a number of seconds of the background work: at least 1."""
    value = env_int(name, default)
    if value < 1:
        raise ConfigError(f"{name} doit valoir au moins 1, reçu {value}.")
    return value


JOBS_URL_SCHEMES = ("sqlite:///", "redis://", "rediss://", "unix://")


def jobs_url():
    url = env_str("JOBS_URL", "sqlite:///" + os.path.join(INSTANCE_DIR, "jobs.sqlite"))
    if not url.startswith(JOBS_URL_SCHEMES):
        raise ConfigError(f"JOBS_URL doit commencer par {', '.join(JOBS_URL_SCHEMES)} ; reçu une autre adresse.")
    return url


def is_weak_secret(value):
    """Missing, shorter than 32 bytes, or a well-known placeholder."""
    if not value:
        return True
    if len(value.encode("utf-8")) < MIN_SECRET_BYTES:
        return True
    lowered = value.lower()
    return lowered in PLACEHOLDER_SECRETS or any(word in lowered for word in ("changeme", "change-me", "change_me"))


@dataclass
class Config:
    """Flask configuration keys, one attribute each (Flask reads the upper-case ones)."""

    APP_ENV: str
    SECRET_KEY: str
    JWT_SECRET_KEY: str
    SQLALCHEMY_DATABASE_URI: str
    BCRYPT_ROUNDS: int
    JWT_ACCESS_TOKEN_EXPIRES: timedelta
    JWT_REFRESH_TOKEN_EXPIRES: timedelta
    SESSION_IDLE_TIMEOUT: int
    SESSION_TRACKING: bool
    AUTH_RATE_LIMIT: str
    RATELIMIT_ENABLED: bool
    RATELIMIT_STORAGE_URI: str
    RATELIMIT_KEY_PREFIX: str
    TRUSTED_PROXIES: int
    CORS_ORIGINS: list
    REGISTRATION_OPEN: bool
    MAX_JSON_BYTES: int
    ATTACHMENT_MAX_BYTES: int
    UPLOAD_FOLDER: str
    STORAGE_URL: str | None
    S3_ENDPOINT_URL: str | None
    DELAI_NORMALE: int
    DELAI_URGENTE: int
    ALERTE_JOURS: int
    HOLIDAYS_SUBDIVISION: str | None
    APP_URL: str
    SMTP_URL: str | None
    MAIL_FROM: str
    NOTIFY_MAX_ATTEMPTS: int
    NOTIFY_RETRY_SECONDS: int
    NOTIFY_CLAIM_SECONDS: int
    NOTIFY_BATCH_SIZE: int
    NOTIFY_INTERVAL: int
    JOBS_URL: str
    JOBS_QUEUE: str
    JOBS_WORKERS: int
    JOBS_WORKER_TYPE: str
    JOBS_LEASE_SECONDS: int
    JOBS_MAX_ATTEMPTS: int
    JOBS_RETRY_SECONDS: int
    JOBS_RETENTION_DAYS: int
    CAPTURE_IMAP_URL: str | None
    CAPTURE_INTERVAL: int
    CAPTURE_IMAP_DONE_FOLDER: str
    CAPTURE_IMAP_ERROR_FOLDER: str
    OCR_LANGUAGES: str
    OCR_TIMEOUT: int
    MFA_REQUIRED_ROLES: tuple
    MFA_ISSUER: str
    PASSWORD_MIN_LENGTH: int
    PASSWORD_MIN_LENGTH_PRIVILEGED: int
    PASSWORD_CHANGE_ON_FIRST_LOGIN: bool
    REAUTH_MAX_AGE: int
    AUDIT_RETENTION_DAYS: int
    PASSWORD_HASHING_SLOTS: int
    PASSWORD_HASHING_WAIT_MS: int
    PASSWORD_HASHING_LOCK_DIR: str
    OIDC_ISSUER: str | None
    OIDC_CLIENT_ID: str | None
    OIDC_CLIENT_SECRET: str | None
    OIDC_SCOPES: str
    OIDC_ACR_VALUES: str
    OIDC_ALLOWED_SIRETS: list
    OIDC_AUTO_CREATE: bool
    OIDC_LABEL: str
    ACCESSIBILITY_CONTACT: str
    TESTING: bool = False

    @classmethod
    def from_env(cls):
        app_env = env_str("APP_ENV", "development").lower()
        if app_env not in APP_ENVS:
            raise ConfigError(f"APP_ENV doit être l'une de {', '.join(APP_ENVS)}, reçu {app_env!r}.")
        secret_key = env_str("SECRET_KEY")
        jwt_secret_key = env_str("JWT_SECRET_KEY")
        if app_env == "production":
            for name, value in (("SECRET_KEY", secret_key), ("JWT_SECRET_KEY", jwt_secret_key)):
                if is_weak_secret(value):
                    raise ConfigError(
                        f"{name} est absent, trop court (moins de {MIN_SECRET_BYTES} octets) ou une valeur "
                        f"d'exemple : l'application refuse de démarrer en production. Générez-en un avec "
                        f"`python -c 'import secrets; print(secrets.token_urlsafe(48))'`.")
        oidc_issuer = env_str("OIDC_ISSUER")
        if oidc_issuer:
            oidc_issuer = oidc_issuer.rstrip("/")
            missing = [name for name in ("OIDC_CLIENT_ID", "OIDC_CLIENT_SECRET") if not env_str(name)]
            if missing:
                raise ConfigError(f"OIDC_ISSUER est défini mais {' et '.join(missing)} manque : ProConnect ne "
                                  f"peut pas fonctionner sans les identifiants du service.")
        hashing_slots = env_int("PASSWORD_HASHING_SLOTS", default_hashing_slots())
        if hashing_slots < 1:
            raise ConfigError(f"PASSWORD_HASHING_SLOTS doit valoir au moins 1, reçu {hashing_slots}.")
        return cls(
            APP_ENV=app_env,
            # Outside production a missing secret is random per process: tokens die on restart.
            SECRET_KEY=secret_key or secrets.token_urlsafe(48),
            JWT_SECRET_KEY=jwt_secret_key or secrets.token_urlsafe(48),
            SQLALCHEMY_DATABASE_URI=env_str(
                "DATABASE_URL", "sqlite:///" + os.path.join(INSTANCE_DIR, "courrier.sqlite")),
            BCRYPT_ROUNDS=env_int("BCRYPT_ROUNDS", 12),
            JWT_ACCESS_TOKEN_EXPIRES=timedelta(seconds=env_int("JWT_ACCESS_TOKEN_EXPIRES", 900)),
            JWT_REFRESH_TOKEN_EXPIRES=timedelta(seconds=env_int("JWT_REFRESH_TOKEN_EXPIRES", 604800)),
            SESSION_IDLE_TIMEOUT=env_int("SESSION_IDLE_TIMEOUT", 7200),
            SESSION_TRACKING=env_bool("SESSION_TRACKING", True),
            AUTH_RATE_LIMIT=env_str("AUTH_RATE_LIMIT", "5 per minute"),
            RATELIMIT_ENABLED=env_bool("RATELIMIT_ENABLED", True),
            RATELIMIT_STORAGE_URI=env_str("RATELIMIT_STORAGE_URI", "memory://"),
            # Deployments sharing one Redis keep their counters apart with their own prefix.
            RATELIMIT_KEY_PREFIX=env_str("RATELIMIT_KEY_PREFIX", "courrier"),
            TRUSTED_PROXIES=env_int("TRUSTED_PROXIES", 0),
            CORS_ORIGINS=env_list("CORS_ORIGINS"),
            REGISTRATION_OPEN=env_bool("REGISTRATION_OPEN", False),
            MAX_JSON_BYTES=env_int("MAX_JSON_BYTES", 1048576),
            ATTACHMENT_MAX_BYTES=env_int("ATTACHMENT_MAX_BYTES", 10485760),
            # Where attachments are stored (courrier.storage): file://<folder> or s3://<bucket>/<prefix>. Unset: the
            # folder UPLOAD_FOLDER (the older setting, kept for existing installations), instance/uploads by default.
            UPLOAD_FOLDER=env_str("UPLOAD_FOLDER", os.path.join(INSTANCE_DIR, "uploads")),
            STORAGE_URL=env_str("STORAGE_URL"),
            # The S3-compatible server of an s3:// STORAGE_URL (MinIO, Garage, OVH…); unset: AWS. Its credentials
            # are the standard AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_DEFAULT_REGION, read by boto3.
            S3_ENDPOINT_URL=env_str("S3_ENDPOINT_URL"),
            # Treatment deadlines in working days, by priority when the letter has no typologie (issue 13).
            DELAI_NORMALE=env_int("DELAI_NORMALE", 30),
            DELAI_URGENTE=env_int("DELAI_URGENTE", 8),
            ALERTE_JOURS=env_int("ALERTE_JOURS", 3),
            # A subdivision of `holidays.France`, e.g. 57 (Moselle) or 6AE (Alsace): their extra public holidays.
            HOLIDAYS_SUBDIVISION=env_str("HOLIDAYS_SUBDIVISION") or None,
            # Where the SPA is, for the links in notification e-mails.
            APP_URL=env_str("APP_URL", "http://127.0.0.1:5000").rstrip("/"),
            SMTP_URL=env_str("SMTP_URL") or None,
            MAIL_FROM=env_str("MAIL_FROM", "courrier@localhost"),
            # The outbox sender (courrier.notifications): tries per message, the first retry's delay (doubled
            # at each try), how long a claimed message is reserved for one sender, messages claimed at once.
            NOTIFY_MAX_ATTEMPTS=env_int("NOTIFY_MAX_ATTEMPTS", 5),
            NOTIFY_RETRY_SECONDS=env_int("NOTIFY_RETRY_SECONDS", 60),
            NOTIFY_CLAIM_SECONDS=env_int("NOTIFY_CLAIM_SECONDS", 300),
            NOTIFY_BATCH_SIZE=env_int("NOTIFY_BATCH_SIZE", 50),
            # Seconds between two runs of the sender by the workers' periodic task (courrier.jobs.periodic).
            NOTIFY_INTERVAL=jobs_setting("NOTIFY_INTERVAL", 30),
            # Background work (courrier.jobs): the queue (sqlite:///<file>, or redis://host:port/<db> when several
            # machines run workers), its name (deployments sharing one Redis database keep theirs apart), the
            # workers of `flask worker` (threads or processes), how long a worker's claim on a job lasts without
            # renewal (a killed worker's job runs again after it), tries per job and the first retry's delay
            # (doubled at each try), and how long finished jobs (and the files they made) are kept.
            JOBS_URL=jobs_url(),
            JOBS_QUEUE=env_str("JOBS_QUEUE", "courrier"),
            JOBS_WORKERS=jobs_setting("JOBS_WORKERS", 2),
            JOBS_WORKER_TYPE=env_choice("JOBS_WORKER_TYPE", ("thread", "process"), "thread"),
            JOBS_LEASE_SECONDS=jobs_setting("JOBS_LEASE_SECONDS", 60),
            JOBS_MAX_ATTEMPTS=jobs_setting("JOBS_MAX_ATTEMPTS", 3),
            JOBS_RETRY_SECONDS=jobs_setting("JOBS_RETRY_SECONDS", 30),
            JOBS_RETENTION_DAYS=jobs_setting("JOBS_RETENTION_DAYS", 30),
            # Capture from a mailbox (courrier.capture.imap): imaps://user:password@host[:port]/INBOX, or imap://…
            # with STARTTLS; unset: no capture. Read every CAPTURE_INTERVAL seconds by the workers; processed
            # messages are moved to the first folder, those that cannot be taken to the second (created if missing).
            CAPTURE_IMAP_URL=env_str("CAPTURE_IMAP_URL") or None,
            CAPTURE_INTERVAL=jobs_setting("CAPTURE_INTERVAL", 300),
            CAPTURE_IMAP_DONE_FOLDER=env_str("CAPTURE_IMAP_DONE_FOLDER", "Traites"),
            CAPTURE_IMAP_ERROR_FOLDER=env_str("CAPTURE_IMAP_ERROR_FOLDER", "Erreurs"),
            # OCR of scans (courrier.search.ocr): Tesseract's languages (`fra`, `fra+eng`…, each installed as
            # tesseract-ocr-<lang>) and the seconds one file's OCR may take before it is stopped (`echec`).
            OCR_LANGUAGES=env_str("OCR_LANGUAGES", "fra"),
            OCR_TIMEOUT=env_int("OCR_TIMEOUT", 600),
            # Roles that must log in with a second factor (issue 15); `none` turns the requirement off.
            MFA_REQUIRED_ROLES=env_roles("MFA_REQUIRED_ROLES", "administrateur,validateur"),
            # The name authenticator apps show beside the account.
            MFA_ISSUER=env_str("MFA_ISSUER", "courrier"),
            # In characters (ANSSI: 12 for users, 16 for privileged access); bcrypt's 72 bytes stay the maximum.
            PASSWORD_MIN_LENGTH=env_int("PASSWORD_MIN_LENGTH", 12),
            PASSWORD_MIN_LENGTH_PRIVILEGED=env_int("PASSWORD_MIN_LENGTH_PRIVILEGED", 16),
            # A password an administrateur set (a new account) must be changed by its user at their first login:
            # the session is restricted to the change until then. `false`: used as given.
            PASSWORD_CHANGE_ON_FIRST_LOGIN=env_bool("PASSWORD_CHANGE_ON_FIRST_LOGIN", True),
            # How recent a proof of identity a sensitive change needs, in seconds (ASVS 7.5).
            REAUTH_MAX_AGE=env_int("REAUTH_MAX_AGE", 300),
            # How long audit events are kept before `flask audit prune` removes them (CNIL: 6 months to 1 year).
            AUDIT_RETENTION_DAYS=env_int("AUDIT_RETENTION_DAYS", 365),
            # bcrypt hashes run at once on the machine (default: half its cores), how long a login waits for
            # one before its 503 with Retry-After, and the folder of their lock files, shared by the instances
            # of the machine that should share the bound (courrier.auth.hashing, issue 16).
            PASSWORD_HASHING_SLOTS=hashing_slots,
            PASSWORD_HASHING_WAIT_MS=env_int("PASSWORD_HASHING_WAIT_MS", 500),
            PASSWORD_HASHING_LOCK_DIR=env_str("PASSWORD_HASHING_LOCK_DIR", DEFAULT_HASHING_LOCK_DIR),
            # ProConnect sign-in (issue 17, courrier.oidc): off without an issuer.
            OIDC_ISSUER=oidc_issuer,
            OIDC_CLIENT_ID=env_str("OIDC_CLIENT_ID"),
            OIDC_CLIENT_SECRET=env_str("OIDC_CLIENT_SECRET"),
            OIDC_SCOPES=env_str("OIDC_SCOPES", "openid given_name usual_name email uid siret"),
            OIDC_ACR_VALUES=env_str("OIDC_ACR_VALUES", "eidas1"),
            # SIRETs (establishments) whose agents may sign in; empty = any.
            OIDC_ALLOWED_SIRETS=env_list("OIDC_ALLOWED_SIRETS"),
            # Unknown agents become `agent` accounts at their first sign-in (otherwise refused).
            OIDC_AUTO_CREATE=env_bool("OIDC_AUTO_CREATE", False),
            OIDC_LABEL=env_str("OIDC_LABEL", "Se connecter avec ProConnect"),
            # Where users report an accessibility problem (the statement's « Retour d'information et contact »):
            # an e-mail address or the https:// address of a form; by default the office's own mailbox.
            ACCESSIBILITY_CONTACT=env_str("ACCESSIBILITY_CONTACT") or env_str("MAIL_FROM", "courrier@localhost"),
            TESTING=app_env == "testing",
        )

    def as_flask_config(self):
        """The settings as a mapping, plus the fixed ones derived from them."""
        settings = {key: value for key, value in vars(self).items() if key.isupper()}
        settings.update(
            JWT_ALGORITHM="HS256",
            JWT_DECODE_ALGORITHMS=["HS256"],
            JWT_TOKEN_LOCATION=["headers"],
            JWT_IDENTITY_CLAIM="userId",
            RATELIMIT_HEADERS_ENABLED=True,
            # Redis down: the limiter logs a warning and lets requests through (documented choice).
            RATELIMIT_SWALLOW_ERRORS=True,
            RATELIMIT_IN_MEMORY_FALLBACK_ENABLED=True,
            # Uploads are the largest bodies; JSON routes lower the limit per request.
            MAX_CONTENT_LENGTH=max(self.MAX_JSON_BYTES, self.ATTACHMENT_MAX_BYTES + 64 * 1024),
            MAX_FORM_MEMORY_SIZE=self.ATTACHMENT_MAX_BYTES + 64 * 1024,
            JSON_SORT_KEYS=False,
            API_TITLE="courrier",
            API_VERSION="1.0",
            OPENAPI_VERSION="3.0.3",
            OPENAPI_URL_PREFIX="/api",
            OPENAPI_JSON_PATH="openapi.json",
        )
        return settings


# PostgreSQL session settings. A statement waiting on a lock gives up after LOCK_TIMEOUT_MS (the
# request answers 503) rather than hanging until gunicorn kills its worker (a 500 in HTML after 30 s);
# a migration that cannot get its lock fails fast instead of queueing every request behind it. A
# session left idle inside a transaction (a stuck client holding locks) is ended by the server.
LOCK_TIMEOUT_MS = 5000
IDLE_IN_TRANSACTION_TIMEOUT_MS = 60000


def engine_options(database_url):
    """Pool settings: short connect and lock timeouts (courrier.database pings connections left idle)."""
    if database_url.startswith("sqlite"):
        return {"connect_args": {"timeout": 15, "check_same_thread": False}}
    connect_args = {"connect_timeout": 2}
    if database_url.startswith("postgresql"):
        # No JIT: the app's statements are short, and compiling one costs more than it saves (a queue count
        # crossing jit_above_cost spent 275 ms of 498 compiling, issue 13's benchmark).
        connect_args["options"] = (f"-c lock_timeout={LOCK_TIMEOUT_MS} "
                                   f"-c idle_in_transaction_session_timeout={IDLE_IN_TRANSACTION_TIMEOUT_MS} "
                                   "-c jit=off")
    return {
        "pool_size": 5,
        "max_overflow": 5,
        "pool_timeout": 2,
        "pool_recycle": 1800,
        "connect_args": connect_args,
    }
