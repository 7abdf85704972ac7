"""Fixtures: an app and a clean database per test, its client and CLI runner, and account helpers.

The suite runs on SQLite by default; with TEST_DATABASE_URL (PostgreSQL) and TEST_REDIS_URL it runs
the same tests against them (rate-limit storage on Redis). Under pytest-xdist (`-n 2`) each worker
has a database of its own: `<database>_gw0`, `<database>_gw1`, … created on the fly, and a SQLite
file of its own.

What is built once and what is reset per test (the suite ran ~1,350 `create_app` + schema builds):
- the schema is built once per worker: SQLite keeps a template file, copied over the test's file
  before each test; PostgreSQL deletes every row and restarts the sequences before each test, with
  the audit tables' append-only triggers set aside for that transaction only (`session_replication_role`);
- the app is built once per distinct configuration (`app_config`) and reused by the following tests
  that ask for the same one; its settings, rate-limit counters and upload folder are restored or
  emptied before each test;
- accounts are made through the service layer (user row, then the same `complete_login` the login
  route ends in), not by an HTTP login each; the tests of login and registration go through HTTP.
"""
import copy
import os
import shutil
import time
import uuid
from contextlib import contextmanager
from types import SimpleNamespace

import pytest
from sqlalchemy import create_engine, text, update
from sqlalchemy.engine import make_url

from courrier import create_app
from courrier.auth.login import complete_login
from courrier.auth.models import AuthSession, User
from courrier.auth.passwords import hash_password, policy_mark
from courrier.auth.schemas import LoginAnswerSchema
from courrier.columns import utcnow
from courrier.extensions import api, db, limiter
from courrier.jobs import runner as job_runner
from courrier.jobs.queue import queue_of
from courrier.services import service as services_service
from courrier.services.schemas import MembershipsSchema, ServiceCreateSchema, ServiceSchema

WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")


def worker_database_url(url):
    """The database of this xdist worker (`<name>_gw0`), or `url` itself outside xdist."""
    if not url or not WORKER:
        return url
    parsed = make_url(url)
    return parsed.set(database=f"{parsed.database}_{WORKER}").render_as_string(hide_password=False)


SHARED_DATABASE_URL = os.environ.get("TEST_DATABASE_URL")
TEST_DATABASE_URL = worker_database_url(SHARED_DATABASE_URL)
TEST_REDIS_URL = os.environ.get("TEST_REDIS_URL")
STRONG_PASSWORD = "Tournesol-Quai-Brume-42"
RUN_KEY_PREFIX = f"test-{uuid.uuid4().hex}"


def base_config(tmp_path):
    config = {
        "TESTING": True,
        "APP_ENV": "testing",
        "BCRYPT_ROUNDS": 4,
        "SQLALCHEMY_DATABASE_URI": TEST_DATABASE_URL or f"sqlite:///{tmp_path / 'test.sqlite'}",
        "UPLOAD_FOLDER": str(tmp_path / "uploads"),
        "AUTH_RATE_LIMIT": "1000 per minute",
        # Most tests register their users; tests of the closed default set it to False (tests/test_auth.py).
        "REGISTRATION_OPEN": True,
        # Tests of the second factor turn it on for their roles (tests/test_mfa.py); elsewhere it is off.
        "MFA_REQUIRED_ROLES": (),
        # Tests of the forced change of an administrateur-set password turn it on (tests/test_users.py).
        "PASSWORD_CHANGE_ON_FIRST_LOGIN": False,
        # Bcrypt slots of their own (other test runs on the machine hash too), and room to wait for one.
        "PASSWORD_HASHING_LOCK_DIR": str(tmp_path / "bcrypt-slots"),
        "PASSWORD_HASHING_WAIT_MS": 10_000,
        # A key space of this process's own on Redis; each test gets a fresh one (reset_rate_limits).
        "RATELIMIT_KEY_PREFIX": RUN_KEY_PREFIX,
        # The jobs' queue: a SQLite file of this process's own, or with Redis its database 1 and a queue named
        # for this run and xdist worker (tests/test_jobs.py runs the queued jobs itself).
        "JOBS_URL": f"sqlite:///{tmp_path / 'jobs.sqlite'}",
        "JOBS_QUEUE": f"{RUN_KEY_PREFIX}-{WORKER or 'main'}",
    }
    if TEST_REDIS_URL:
        config["RATELIMIT_STORAGE_URI"] = TEST_REDIS_URL
        config["JOBS_URL"] = jobs_redis_url(TEST_REDIS_URL)
    return config


def jobs_redis_url(url):
    """The jobs' Redis database (1), beside the rate limiter's: same server, another database number."""
    return make_url(url).set(database="1").render_as_string(hide_password=False)


# ------------------------------------------------------------------------ databases, built once


def _admin_engine(url):
    return create_engine(make_url(url), isolation_level="AUTOCOMMIT", poolclass=None)


class _Schema:
    """Whether this process has built the schema of TEST_DATABASE_URL, and SQLite's template file."""

    postgres_ready = False
    sequences = ()
    worker_database_created = False
    sqlite_templates = {}  # database file -> template file


def _create_worker_database():
    """`<database>_gwN` from TEST_DATABASE_URL's server, new for this run (an old one is dropped)."""
    if _Schema.worker_database_created or TEST_DATABASE_URL == SHARED_DATABASE_URL:
        return
    name = make_url(TEST_DATABASE_URL).database
    engine = _admin_engine(SHARED_DATABASE_URL)
    with engine.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
        # A test database need not survive a crash of its server: commits do not wait for the disk.
        connection.execute(text(f'ALTER DATABASE "{name}" SET synchronous_commit = off'))
    engine.dispose()
    _Schema.worker_database_created = True


def _drop_worker_database():
    if not _Schema.worker_database_created:
        return
    engine = _admin_engine(SHARED_DATABASE_URL)
    with engine.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{make_url(TEST_DATABASE_URL).database}" WITH (FORCE)'))
    engine.dispose()


# The server pass's files that take longest, in that order, ahead of the others (alphabetical): `make test`
# runs that pass with `--dist loadfile --no-loadscope-reorder`, a file's tests on one worker, files handed
# out in collection order. xdist's own order (most tests first) started schemathesis, two tests but a third
# of the pass, last, and left one core idle until it ended.
LONGEST_FILES_FIRST = (
    "tests/system/test_system_schemathesis.py", "tests/system/test_storage_s3.py",
    "tests/browser/test_browser_proconnect.py", "tests/browser/test_browser_sessions_admin.py",
    "tests/system/test_docs_walkthrough.py",
)


def pytest_collection_modifyitems(items):
    def rank(item):
        path = item.nodeid.split("::", 1)[0]
        return LONGEST_FILES_FIRST.index(path) if path in LONGEST_FILES_FIRST else len(LONGEST_FILES_FIRST)

    items.sort(key=rank)  # stable: the rest keep their order


def pytest_sessionfinish(session):
    if TEST_DATABASE_URL:
        _drop_worker_database()


def _sqlite_path(app):
    return make_url(app.config["SQLALCHEMY_DATABASE_URI"]).database


def _remove_sqlite_files(path):
    for suffix in ("", "-wal", "-shm", "-journal"):
        if os.path.exists(path + suffix):
            os.remove(path + suffix)


def empty_database(app):
    """Bring the app's database back to the schema and no rows, building the schema the first time."""
    with app.app_context():
        db.session.remove()
        if db.engine.dialect.name == "postgresql":
            _empty_postgresql()
        else:
            _empty_sqlite(app)


def _empty_postgresql():
    if not _Schema.postgres_ready:
        _create_worker_database()
        db.session.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        db.session.commit()
        db.create_all()
        _Schema.sequences = db.session.execute(text(
            "SELECT sequencename FROM pg_sequences WHERE schemaname = 'public'")).scalars().all()
        db.session.commit()
        _Schema.postgres_ready = True
        return
    # Replica mode, for this transaction only, sets aside the triggers: the audit tables' append-only
    # ones (courrier/audit/append_only.py), which the tests' superuser may bypass and the app's role may
    # not, and the foreign keys' own. DELETE rather than TRUNCATE: 15 ms against 300–500 ms for the 22
    # tables (TRUNCATE gives every table and index a new file); the sequences restart as with
    # TRUNCATE … RESTART IDENTITY.
    db.session.execute(text("SET LOCAL session_replication_role = replica"))
    for table in reversed(db.metadata.sorted_tables):
        db.session.execute(text(f'DELETE FROM "{table.name}"'))
    for sequence in _Schema.sequences:
        db.session.execute(text(f'ALTER SEQUENCE "{sequence}" RESTART'))
    db.session.commit()


def _empty_sqlite(app):
    path = _sqlite_path(app)
    template = _Schema.sqlite_templates.get(path)
    db.engine.dispose()
    if template is None:
        _remove_sqlite_files(path)
        db.create_all()
        db.engine.dispose()
        template = path + ".template"
        shutil.copyfile(path, template)
        _Schema.sqlite_templates[path] = template
        return
    _remove_sqlite_files(path)
    shutil.copyfile(template, path)


@contextmanager
def app_on_fresh_database(config):
    """An app of its own (not shared with other tests) whose database holds the schema and no rows."""
    app = create_app(config)
    empty_database(app)
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


# --------------------------------------------------------------------------- one app per config


class _Cache:
    """The last app built and the configuration it was built for."""

    app = key = None


def _config_key(config):
    return repr(sorted(config.items()))


def _cached_app(config, own=False):
    """The app of `config`, reused while the tests that follow ask for the same configuration.

    Extensions such as flask-smorest's `api` (the OpenAPI document) and the limiter are module-level
    objects that the last `create_app` configures: the cached app is reused only while it is that last
    app, otherwise it is built again.
    """
    key = None if own else _config_key(config)
    if key is not None and _Cache.key == key and api._app is _Cache.app:
        return _Cache.app
    if _Cache.app is not None:
        with _Cache.app.app_context():
            db.session.remove()
            db.engine.dispose()
    _Cache.app, _Cache.key = create_app(config), key
    return _Cache.app


def reset_rate_limits(app):
    """Fresh limiter storage and key space, as a new app had: no counts carried from the last test."""
    app.config["RATELIMIT_KEY_PREFIX"] = f"test-{uuid.uuid4().hex}"
    limiter._key_prefix = None  # init_app keeps a prefix it already has
    limiter.init_app(app)  # a new storage; the app's hooks are not added twice


@pytest.fixture(scope="session")
def suite_directory(tmp_path_factory):
    """This process's SQLite file, upload folder and bcrypt slots (reset per test)."""
    return tmp_path_factory.mktemp("suite")


@pytest.fixture
def app_config():
    """Override in a test module (or with `@pytest.mark.parametrize`) to change settings."""
    return {}


@pytest.fixture
def app(request, suite_directory, app_config):
    """The app of this test's configuration, on an emptied database; `@pytest.mark.own_app` for an app
    of the test's own (one that adds routes, which an app that has served a request no longer accepts)."""
    config = {**base_config(suite_directory), **app_config}
    app = _cached_app(config, own=request.node.get_closest_marker("own_app") is not None)
    settings = dict(app.config)
    shutil.rmtree(app.config["UPLOAD_FOLDER"], ignore_errors=True)
    empty_database(app)
    reset_rate_limits(app)
    yield app
    with app.app_context():
        db.session.remove()
    app.config.clear()
    app.config.update(settings)


@pytest.fixture
def scratch_database_url(tmp_path):
    """A database no other test uses, for tests that build their own schema (the migrations)."""
    if not TEST_DATABASE_URL:
        yield f"sqlite:///{tmp_path / 'scratch.sqlite'}"
        return
    name = f"{make_url(TEST_DATABASE_URL).database}_scratch"
    engine = _admin_engine(SHARED_DATABASE_URL)
    with engine.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    yield make_url(TEST_DATABASE_URL).set(database=name).render_as_string(hide_password=False)
    with engine.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


class Account:
    """A logged-in user: its id, email, password and tokens."""

    def __init__(self, email, password, data):
        self.email, self.password = email, password
        self.user = data["user"]
        self.id = self.user["id"]
        self.token = data["access_token"]
        self.refresh = data["refresh_token"]

    @property
    def headers(self):
        return bearer(self.token)


_password_hashes = {}  # bcrypt rounds -> a hash of STRONG_PASSWORD (a salt shared by the suite's accounts)


class AuthActions:
    """Register and log in through the API; create users of any role with open sessions directly."""

    def __init__(self, app, client):
        self.app, self.client = app, client

    @staticmethod
    def registration(**overrides):
        body = {"email": f"agent-{uuid.uuid4().hex[:10]}@example.com", "password": STRONG_PASSWORD,
                "password_confirmation": STRONG_PASSWORD, "nom": "Martin", "prenom": "Claire",
                "contact": "0102030405"}
        body.update(overrides)
        return body

    def register(self, **overrides):
        body = self.registration(**overrides)
        return self.client.post("/api/auth/register", json=body)

    def register_account(self, **overrides):
        body = self.registration(**overrides)
        response = self.client.post("/api/auth/register", json=body)
        assert response.status_code == 201, response.json
        return Account(body["email"], body["password"], response.json["data"])

    def login(self, email, password, **kwargs):
        return self.client.post("/api/auth/login", json={"email": email, "password": password}, **kwargs)

    def login_account(self, email, password):
        response = self.login(email, password)
        assert response.status_code == 200, response.json
        return Account(email, password, response.json["data"])

    def account(self, role="agent", **fields):
        """A user of `role` with a session, as a login would leave them: the user's row (its password
        meeting today's policy for the role, so no zxcvbn), then `complete_login`, which every login
        method ends in (the session, its tokens, the `login_succeeded` audit row), from the client's
        address and user agent."""
        email = fields.pop("email", f"{role}-{uuid.uuid4().hex[:10]}@example.com")
        with self.app.test_request_context(environ_base=self.client.environ_base):
            rounds = self.app.config["BCRYPT_ROUNDS"]
            if rounds not in _password_hashes:
                _password_hashes[rounds] = hash_password(STRONG_PASSWORD)
            user = User(email=email, password_hash=_password_hashes[rounds], password_policy=policy_mark(role),
                        nom=fields.get("nom", "Durand"), prenom=fields.get("prenom", "Paul"), contact=None,
                        role=role, is_active=True)
            db.session.add(user)
            db.session.flush()
            answer = complete_login(user)
            db.session.commit()
            data = LoginAnswerSchema().dump(answer)
            db.session.remove()
        return Account(email, STRONG_PASSWORD, data)


@pytest.fixture
def auth(app, client):
    return AuthActions(app, client)


@pytest.fixture
def agent(auth):
    return auth.account("agent")


@pytest.fixture
def validateur(auth):
    return auth.account("validateur")


@pytest.fixture
def admin(auth):
    return auth.account("administrateur")


# ---------------------------------------------------------------- an organisation (issues 12–14)

def service(client, admin, code, parent=None, **fields):
    body = {"code": code, "nom": f"Service {code}", "parent_id": parent["id"] if parent else None, **fields}
    response = client.post("/api/services", json=body, headers=admin.headers)
    assert response.status_code == 201, response.json
    return response.json["data"]


def join(client, admin, account, *services):
    response = client.put(f"/api/users/{account.id}/services", json={"services": [s["id"] for s in services]},
                          headers=admin.headers)
    assert response.status_code == 200, response.json


class OrganisationBuilder:
    """Services and memberships written by the services' own functions, as the administrateur."""

    def __init__(self, app, admin):
        self.app, self.admin = app, admin

    def _as_admin(self, work):
        with self.app.test_request_context():
            result = work(db.session.get(User, self.admin.id))
            db.session.remove()
            return result

    def service(self, code, parent=None, **fields):
        body = {"code": code, "nom": f"Service {code}", "parent_id": parent["id"] if parent else None, **fields}
        data = ServiceCreateSchema().load(body)  # the route's own schema: its defaults too
        return self._as_admin(lambda actor: ServiceSchema().dump(services_service.create_service(actor, data)))

    def join(self, account, *services):
        data = MembershipsSchema().load({"services": [s["id"] for s in services]})
        self._as_admin(lambda actor: services_service.set_memberships(actor, account.id, data))


class _OrgSnapshot:
    """The organisation's rows as `org` first built them, restored instead of built again (176 tests ask
    for it: 13 users with their sessions, 5 services and the memberships, each through the service layer:
    half a second of CPU a test).

    Kept for the app it was built with (its random JWT secret signs the accounts' tokens) and its test
    configuration, at most MAX_AGE seconds (the access tokens live 15 minutes; the sessions' `last_used_at`
    is set to the time of the restore). Restored only when the database holds what it held then before
    `org` (the emptied schema and the `admin` fixture's rows, whose Account then takes the snapshot
    administrateur's identity); otherwise built as before. SQLite: a copy of the file; PostgreSQL: the rows
    kept in a schema of their own, and the sequences' positions."""

    MAX_AGE = 120
    app = key = value = rows_before = None
    taken_at = 0.0
    sqlite_file = None
    pg_tables = ()  # the tables that held rows
    pg_sequences = ()  # (name, last_value, is_called)

    @classmethod
    def usable(cls, app, key, rows_before):
        return (cls.app is app and cls.key == key and cls.rows_before == rows_before
                and time.monotonic() - cls.taken_at < cls.MAX_AGE)


def _row_count():
    """The number of rows of every table, in one statement."""
    return db.session.scalar(text("SELECT " + " + ".join(
        f'(SELECT count(*) FROM "{table.name}")' for table in db.metadata.sorted_tables)))


def _take_org_snapshot(app, key, rows_before, value):
    with app.app_context():
        db.session.remove()
        if db.engine.dialect.name == "postgresql":
            db.session.execute(text("DROP SCHEMA IF EXISTS org_snapshot CASCADE; CREATE SCHEMA org_snapshot"))
            tables = []
            for table in db.metadata.sorted_tables:
                if db.session.scalar(text(f'SELECT EXISTS (SELECT 1 FROM "{table.name}")')):
                    db.session.execute(text(f'CREATE TABLE org_snapshot."{table.name}" AS TABLE "{table.name}"'))
                    tables.append(table)
            sequences = [(name, *db.session.execute(text(f'SELECT last_value, is_called FROM "{name}"')).one())
                         for name in _Schema.sequences]
            db.session.commit()
            _OrgSnapshot.pg_tables, _OrgSnapshot.pg_sequences = tables, sequences
        else:
            db.engine.dispose()
            _OrgSnapshot.sqlite_file = _sqlite_path(app) + ".org"
            shutil.copyfile(_sqlite_path(app), _OrgSnapshot.sqlite_file)
    _OrgSnapshot.app, _OrgSnapshot.key, _OrgSnapshot.rows_before = app, key, rows_before
    _OrgSnapshot.value = copy.deepcopy(value)
    _OrgSnapshot.taken_at = time.monotonic()


def _restore_org_snapshot(app):
    with app.app_context():
        db.session.remove()
        if db.engine.dialect.name == "postgresql":
            _empty_postgresql()
            db.session.execute(text("SET LOCAL session_replication_role = replica"))
            for table in _OrgSnapshot.pg_tables:
                columns = ", ".join(f'"{column.name}"' for column in table.columns if column.computed is None)
                db.session.execute(text(f'INSERT INTO "{table.name}" ({columns}) '
                                        f'SELECT {columns} FROM org_snapshot."{table.name}"'))
            for name, last_value, is_called in _OrgSnapshot.pg_sequences:
                db.session.execute(text("SELECT setval(CAST(:name AS regclass), :value, :called)"),
                                   {"name": f'"{name}"', "value": last_value, "called": is_called})
            db.session.commit()
        else:
            db.engine.dispose()
            _remove_sqlite_files(_sqlite_path(app))
            shutil.copyfile(_OrgSnapshot.sqlite_file, _sqlite_path(app))
        # The sessions were used just now, as after a login: no request of the test finds one due for its
        # once-a-minute `last_used_at` update (tests count the statements of a request).
        db.session.execute(update(AuthSession).values(last_used_at=utcnow()))
        db.session.commit()


@pytest.fixture
def org(app, auth, admin):
    """DG > FIN > COMPTA, RH beside DG, BC the mail office; one or two people in each (a copy of the
    accounts per test; the rows restored from `_OrgSnapshot` when it may)."""
    key = _Cache.key if _Cache.app is app else None  # None: an app of the test's own
    with app.app_context():
        rows_before = _row_count()
        db.session.remove()
    if key is not None and _OrgSnapshot.usable(app, key, rows_before):
        _restore_org_snapshot(app)
        restored = copy.deepcopy(_OrgSnapshot.value)
        vars(admin).update(vars(restored.admin))  # the test's `admin` is the organisation's
        restored.admin = admin
        return restored
    built = _build_org(app, auth, admin)
    if key is not None:
        _take_org_snapshot(app, key, rows_before, built)
    return built


def _build_org(app, auth, admin):
    build = OrganisationBuilder(app, admin)
    o = SimpleNamespace(admin=admin)
    o.dg = build.service("DG")
    o.fin = build.service("FIN", o.dg)
    o.compta = build.service("COMPTA", o.fin)
    o.rh = build.service("RH")
    o.bc = build.service("BC", is_mail_office=True)
    people = {
        "registrar": ("agent", []), "fin_agent": ("agent", [o.fin]), "fin_agent2": ("agent", [o.fin]),
        "dg_validateur": ("validateur", [o.dg]), "fin_validateur": ("validateur", [o.fin]),
        "compta_validateur": ("validateur", [o.compta]), "rh_validateur": ("validateur", [o.rh]),
        "dg_agent": ("agent", [o.dg]), "rh_agent": ("agent", [o.rh]), "bc_agent": ("agent", [o.bc]),
        "copied_agent": ("agent", []), "outsider": ("agent", []), "lone_validateur": ("validateur", []),
    }
    for name, (role, services) in people.items():
        account = auth.account(role, nom=name)
        if services:
            build.join(account, *services)
        setattr(o, name, account)
    return o


def create(client, account, expected=201, **fields):
    body = {"type": "entrant", "objet": "Demande de subvention", "expediteur": "Mairie", "destinataire": "Préfecture",
            **fields}
    response = client.post("/api/documents", json=body, headers=account.headers)
    assert response.status_code == expected, response.json
    return response.json["data"] if expected == 201 else response.json


def assign(client, account, document, **body):
    return client.post(f"/api/documents/{document['id']}/assign", json=body, headers=account.headers)


@pytest.fixture
def huey(app):
    """The app's job queue, emptied before and after (jobs run in-process with `drain`)."""
    huey = queue_of(app).huey
    huey.flush()
    yield huey
    huey.flush()
    job_runner.release_connection()  # the connection this thread's runs held


def drain(huey):
    """Run every task waiting in the queue, as a worker would (tasks not yet due go to the schedule)."""
    ran = 0
    while huey.pending_count():
        task = huey.dequeue()
        if task is None:
            break
        huey.execute(task)
        ran += 1
    return ran
