"""Bench databases: one migrated template per run, cloned per data set, then bulk-seeded.

SQLite: one file per data set in a temporary folder (the template file is copied).
PostgreSQL: one database per data set on the server of `--database-url`, created with
`CREATE DATABASE … TEMPLATE …` and dropped at the end; the database named in the URL itself is
never touched (the test suite drops its schema).

Seeding goes straight into the tables that `flask db upgrade` created, reflected with
`MetaData.reflect()` so that it follows the real schema: raw `executemany` on SQLite, `COPY` on
PostgreSQL, both in chunks.
"""
import os
import random
import shutil
import sqlite3
import subprocess
import tempfile
import time
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import bcrypt
from sqlalchemy import MetaData, create_engine, make_url, text

from bench.servers import PROJECT_ROOT, tool

CHUNK = 50_000
# A real bcrypt hash (cost 4) of a random password: the seeded users never log in.
DUMMY_HASH = bcrypt.hashpw(os.urandom(16).hex().encode(), bcrypt.gensalt(4)).decode()


class SeedError(RuntimeError):
    pass


def run_flask(env, *args, timeout=600):
    completed = subprocess.run([tool("flask"), *args], cwd=PROJECT_ROOT, env=env, capture_output=True,
                               text=True, timeout=timeout)
    if completed.returncode != 0:
        raise SeedError(f"`flask {' '.join(args)}` failed ({completed.returncode}):\n"
                        f"{completed.stdout}\n{completed.stderr}")
    return completed


class Databases:
    """Creates the template and the data sets of one run, and removes them at the end."""

    def __init__(self, base_url, keep=False):
        self.base_url = make_url(base_url) if base_url else None
        self.keep = keep
        self.tag = f"courrier_bench_{os.getpid()}_{int(time.time()) % 100000}"
        self.tmpdir = tempfile.mkdtemp(prefix="courrier-bench-")
        self.created = []
        self.template_url = None
        if self.base_url is None:
            self.dialect = "sqlite"
        else:
            self.dialect = self.base_url.get_backend_name()
            if self.dialect not in ("sqlite", "postgresql"):
                raise SeedError(f"unsupported database {self.dialect!r}: sqlite or postgresql")

    @property
    def label(self):
        return self.dialect

    # -- URLs ------------------------------------------------------------------------------------
    def _sqlite_path(self, name):
        if self.base_url is not None and self.base_url.database not in (None, "", ":memory:"):
            folder = os.path.dirname(os.path.abspath(self.base_url.database))
            return os.path.join(folder, f"{self.tag}_{name}.sqlite")
        return os.path.join(self.tmpdir, f"{name}.sqlite")

    def url_for(self, name):
        if self.dialect == "sqlite":
            return f"sqlite:///{self._sqlite_path(name)}"
        return self.base_url.set(database=f"{self.tag}_{name}").render_as_string(hide_password=False)

    def _admin_conninfo(self):
        return self.base_url.set(drivername="postgresql").render_as_string(hide_password=False)

    def _pg_execute(self, statement):
        import psycopg

        with psycopg.connect(self._admin_conninfo(), autocommit=True) as conn:
            conn.execute(statement)

    # -- life cycle ------------------------------------------------------------------------------
    def create_template(self, app_env, admin):
        """Migrate an empty database (`flask db upgrade`) and add the administrator to it."""
        name = "template"
        if self.dialect == "postgresql":
            self._pg_execute(f'CREATE DATABASE "{self.tag}_{name}"')
        self.created.append(name)
        self.template_url = self.url_for(name)
        env = app_env.for_database(self.template_url)
        run_flask(env, "db", "upgrade")
        run_flask(env, "create-admin", "--email", admin["email"], "--nom", admin["nom"], "--prenom",
                  admin["prenom"], "--password", admin["password"])
        if self.dialect == "sqlite":
            with sqlite3.connect(self._sqlite_path(name)) as conn:
                conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return self.template_url

    def clone(self, name):
        """A new data set: a copy of the template (schema and administrator)."""
        if self.dialect == "sqlite":
            shutil.copyfile(self._sqlite_path("template"), self._sqlite_path(name))
        else:
            self._pg_execute(f'CREATE DATABASE "{self.tag}_{name}" TEMPLATE "{self.tag}_template"')
        self.created.append(name)
        return self.url_for(name)

    def drop(self, name):
        if self.keep or name not in self.created:
            return
        if self.dialect == "sqlite":
            for suffix in ("", "-wal", "-shm"):
                try:
                    os.unlink(self._sqlite_path(name) + suffix)
                except FileNotFoundError:
                    pass
        else:
            self._pg_execute(f'DROP DATABASE IF EXISTS "{self.tag}_{name}" WITH (FORCE)')
        self.created.remove(name)

    def cleanup(self):
        if self.keep:
            return [self.url_for(name) for name in self.created]
        for name in list(self.created):
            try:
                self.drop(name)
            except Exception as error:  # noqa: BLE001 - cleanup must go on
                print(f"warning: could not drop {name}: {error}")
        shutil.rmtree(self.tmpdir, ignore_errors=True)
        return []


# -- seeding ---------------------------------------------------------------------------------------
def _sqlite_value(value):
    """What SQLAlchemy itself stores on SQLite for the app's column types (UTC, naive)."""
    if isinstance(value, datetime):
        return value.astimezone(timezone.utc).replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return int(value)
    return value


class Seeder:
    """Bulk inserts into one database, following its reflected schema."""

    def __init__(self, url):
        self.url = url
        self.engine = create_engine(url)
        self.metadata = MetaData()
        self.metadata.reflect(self.engine)
        self.dialect = self.engine.dialect.name

    def close(self):
        self.engine.dispose()

    def columns_for(self, table_name, values):
        """The columns to fill: the ones we have values for; refuses an unknown NOT NULL column."""
        if table_name not in self.metadata.tables:
            raise SeedError(f"table {table_name!r} does not exist (has `flask db upgrade` created it?)")
        table = self.metadata.tables[table_name]
        names = []
        for column in table.columns:
            if column.name in values:
                names.append(column.name)
            elif not column.nullable and column.server_default is None and column.autoincrement is not True:
                raise SeedError(f"{table_name}.{column.name} is NOT NULL and the bench does not know it: "
                                f"update bench/database.py")
        return names

    def insert(self, table_name, rows, total=None):
        """Insert an iterable of dicts (all with the same keys); returns the number inserted."""
        iterator = iter(rows)
        first = next(iterator, None)
        if first is None:
            return 0
        names = self.columns_for(table_name, first)

        def chunks():
            chunk = [first]
            for row in iterator:
                chunk.append(row)
                if len(chunk) >= CHUNK:
                    yield chunk
                    chunk = []
            if chunk:
                yield chunk

        if self.dialect == "sqlite":
            return self._insert_sqlite(table_name, names, chunks())
        return self._insert_postgresql(table_name, names, chunks())

    def _insert_sqlite(self, table_name, names, chunks):
        path = self.engine.url.database
        conn = sqlite3.connect(path, isolation_level=None)
        count = 0
        try:
            conn.execute("PRAGMA synchronous=OFF")
            conn.execute("PRAGMA cache_size=-1000000")  # 1 GB: random-UUID indexes stay in memory
            conn.execute("PRAGMA temp_store=MEMORY")
            conn.execute("BEGIN")
            placeholders = ", ".join("?" for _ in names)
            statement = f'INSERT INTO "{table_name}" ({", ".join(names)}) VALUES ({placeholders})'
            for chunk in chunks:
                conn.executemany(statement, [tuple(_sqlite_value(row[n]) for n in names) for row in chunk])
                count += len(chunk)
            conn.execute("COMMIT")
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            conn.execute("ANALYZE")
        finally:
            conn.close()
        return count

    def _insert_postgresql(self, table_name, names, chunks):
        raw = self.engine.raw_connection()
        count = 0
        try:
            driver = raw.driver_connection
            with driver.cursor() as cursor:
                with cursor.copy(f'COPY "{table_name}" ({", ".join(names)}) FROM STDIN') as copy:
                    for chunk in chunks:
                        for row in chunk:
                            copy.write_row(tuple(row[n] for n in names))
                        count += len(chunk)
            driver.commit()
            driver.autocommit = True
            driver.execute(f'VACUUM ANALYZE "{table_name}"')
            driver.autocommit = False
        finally:
            raw.close()
        return count

    def count(self, table_name):
        from sqlalchemy import func, select

        table = self.metadata.tables[table_name]
        with self.engine.connect() as conn:
            return conn.scalar(select(func.count()).select_from(table))


def fast_uuids(count, rng):
    """`count` random version-4 UUID strings, faster than uuid.uuid4() in a loop."""
    for _ in range(count):
        yield str(uuid.UUID(int=rng.getrandbits(128), version=4))


def user_rows(count, rng, now, prefix="bench-user", role_of=None):
    for index, user_id in enumerate(fast_uuids(count, rng)):
        created = now - timedelta(days=rng.uniform(30, 900))
        yield {
            "id": user_id, "email": f"{prefix}-{index}@example.com", "password_hash": DUMMY_HASH,
            "nom": f"Nom{index}", "prenom": f"Prénom{index}", "contact": None,
            "role": role_of(index) if role_of else "agent", "is_active": True,
            "created_at": created, "updated_at": created,
        }


def seed_users(seeder, count, rng, prefix="bench-user", role_of=None):
    now = datetime.now(timezone.utc)
    rows = list(user_rows(count, rng, now, prefix, role_of))
    seeder.insert("users", rows)
    return [row["id"] for row in rows]


SESSION_COLUMNS = ("id", "user_id", "access_jti", "refresh_jti", "ip", "user_agent", "created_at", "last_used_at",
                   "expires_at", "revoked_at", "revoked_reason")

# Sessions are generated by the database itself (INSERT … SELECT over a number series): a million
# rows take seconds instead of the minutes that building them in Python costs. Like a real table:
# mostly expired, some revoked, a few live; `dead` = every row expired (and 30 % revoked) 40+ days ago.


def _sqlite_ts(seconds, micros):
    return f"(strftime('%Y-%m-%d %H:%M:%S', {seconds}, 'unixepoch') || printf('.%06d', {micros}))"


SQLITE_KEYS = """
INSERT INTO temp.{table} (v)
WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < :count),
hexes AS MATERIALIZED (SELECT lower(hex(randomblob(16))) AS h FROM seq)
SELECT u FROM (
  SELECT substr(h, 1, 8) || '-' || substr(h, 9, 4) || '-4' || substr(h, 14, 3) || '-' || substr(h, 17, 4) || '-'
         || substr(h, 21, 12) AS u
  FROM hexes) ORDER BY u
"""

# The three UUID keys (id, access_jti, refresh_jti) each have a UNIQUE index SQLite cannot drop:
# each is generated apart, sorted, and row n gets the n-th of each, so the indexes are filled by
# appends (as a CREATE INDEX would build them). Dead sessions are also created in the order of n,
# so keys follow creation time as the app's UUIDv7 keys do, and a prune finds the old rows together.
SQLITE_SESSIONS = f"""
WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < :count),
base AS MATERIALIZED (
  SELECT n, abs(random()) % 100 AS dice, abs(random()) % 1000000 AS micros,
         abs(random()) % 5400 AS used_after, abs(random()) % 10000000 AS spread
  FROM seq),
timed AS MATERIALIZED (
  SELECT n, dice, micros, used_after,
         CAST(:now AS INTEGER) - CASE
           WHEN :dead THEN 40 * 86400 + (:count - n) * (360 * 86400) / :count
           WHEN dice < 5 THEN 60 + spread % 6000
           ELSE 8 * 86400 + spread % (392 * 86400) END AS created,
         CASE WHEN :dead THEN dice < 30 ELSE dice >= 5 AND dice < 15 END AS revoked
  FROM base)
INSERT INTO sessions ({{columns}})
SELECT (SELECT v FROM temp.bench_keys_id WHERE k = n), (SELECT id FROM temp.bench_users WHERE k = n % :users),
       (SELECT v FROM temp.bench_keys_access WHERE k = n), (SELECT v FROM temp.bench_keys_refresh WHERE k = n),
       '10.' || (n % 256) || '.' || (n / 256 % 256) || '.' || (1 + n / 65536 % 254),
       'Mozilla/5.0 (X11; Linux x86_64) courrier-bench',
       {_sqlite_ts("created", "micros")}, {_sqlite_ts("created + used_after", "micros")},
       {_sqlite_ts("created + 7 * 86400", "micros")},
       CASE WHEN revoked THEN {_sqlite_ts("created + used_after", "micros")} END,
       CASE WHEN revoked THEN 'logout' END
FROM timed ORDER BY n
"""

POSTGRESQL_SESSIONS = """
INSERT INTO sessions ({columns})
SELECT gen_random_uuid()::text, u.id, gen_random_uuid()::text, gen_random_uuid()::text,
       '10.' || (b.n %% 256) || '.' || (b.n / 256 %% 256) || '.' || (1 + b.n / 65536 %% 254),
       'Mozilla/5.0 (X11; Linux x86_64) courrier-bench',
       b.created, b.created + b.used_after, b.created + interval '7 days',
       CASE WHEN b.revoked THEN b.created + b.used_after END, CASE WHEN b.revoked THEN 'logout' END
FROM (
  SELECT t.n, t.used_after, t.revoked,
         now() - CASE WHEN %(dead)s THEN interval '40 days' + t.spread * interval '360 days'
                      WHEN t.dice < 5 THEN interval '1 minute' + t.spread * interval '100 minutes'
                      ELSE interval '8 days' + t.spread * interval '392 days' END AS created
  FROM (
    SELECT g AS n, d.dice, random() AS spread, random() * interval '90 minutes' AS used_after,
           CASE WHEN %(dead)s THEN d.dice < 30 ELSE d.dice >= 5 AND d.dice < 15 END AS revoked
    FROM generate_series(1, %(count)s) AS g, LATERAL (SELECT floor(random() * 100 + g * 0) AS dice) AS d
  ) AS t
) AS b
JOIN bench_users AS u ON u.k = b.n %% %(users)s
"""


def _sqlite_secondary_indexes(conn, table):
    """(name, sql) of the indexes that CREATE INDEX made (UNIQUE constraints' autoindexes cannot be dropped)."""
    return conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? "
                        "AND sql IS NOT NULL", (table,)).fetchall()


def _postgresql_deferrable(cursor, table):
    """The table's indexes and PK/UNIQUE constraints that can be dropped now and rebuilt by sorting later.

    Returns (drop statements, create statements); a constraint another table's foreign key needs stays.
    """
    cursor.execute(
        "SELECT c.conname, pg_get_constraintdef(c.oid), c.conindid FROM pg_constraint c "
        "WHERE c.conrelid = %s::regclass AND c.contype IN ('p', 'u') AND NOT EXISTS ("
        "  SELECT 1 FROM pg_constraint f WHERE f.contype = 'f' AND f.conindid = c.conindid)", (table,))
    constraints = cursor.fetchall()
    cursor.execute(
        "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i "
        "WHERE i.indrelid = %s::regclass AND NOT EXISTS ("
        "  SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)", (table,))
    indexes = cursor.fetchall()
    drops = [f'ALTER TABLE "{table}" DROP CONSTRAINT "{name}"' for name, _, _ in constraints]
    drops += [f"DROP INDEX {name}" for name, _ in indexes]
    creates = [f'ALTER TABLE "{table}" ADD CONSTRAINT "{name}" {definition}' for name, definition, _ in constraints]
    creates += [definition for _, definition in indexes]
    return drops, creates


def insert_sessions(seeder, count, user_ids, dead=False):
    """Generate `count` sessions in the database; secondary indexes are dropped and rebuilt around it."""
    seeder.columns_for("sessions", dict.fromkeys(SESSION_COLUMNS))
    columns = ", ".join(SESSION_COLUMNS)
    if seeder.dialect == "sqlite":
        seeder.engine.dispose()  # leaving WAL mode needs the only connection to the file
        conn = sqlite3.connect(seeder.engine.url.database, isolation_level=None)
        try:
            # Nobody else uses the file yet: no journal while seeding, WAL again afterwards.
            conn.execute("PRAGMA journal_mode=OFF")
            conn.execute("PRAGMA synchronous=OFF")
            conn.execute("PRAGMA cache_size=-1000000")
            conn.execute("PRAGMA temp_store=MEMORY")
            conn.execute("CREATE TEMP TABLE bench_users (k INTEGER PRIMARY KEY, id TEXT NOT NULL)")
            conn.executemany("INSERT INTO temp.bench_users VALUES (?, ?)", list(enumerate(user_ids)))
            for table in ("bench_keys_id", "bench_keys_access", "bench_keys_refresh"):
                conn.execute(f"CREATE TEMP TABLE {table} (k INTEGER PRIMARY KEY, v TEXT NOT NULL)")
                conn.execute(SQLITE_KEYS.format(table=table), {"count": count})
            conn.execute("BEGIN")
            indexes = _sqlite_secondary_indexes(conn, "sessions")
            for name, _ in indexes:
                conn.execute(f'DROP INDEX "{name}"')
            conn.execute(SQLITE_SESSIONS.format(columns=columns),
                         {"count": count, "users": len(user_ids), "dead": int(dead),
                          "now": int(time.time())})
            for _, sql in indexes:
                conn.execute(sql)
            conn.execute("COMMIT")
            conn.execute("ANALYZE")
            conn.execute("PRAGMA journal_mode=WAL")
        finally:
            conn.close()
        return
    raw = seeder.engine.raw_connection()
    try:
        driver = raw.driver_connection
        with driver.cursor() as cursor:
            cursor.execute("SET LOCAL maintenance_work_mem = '512MB'")
            cursor.execute("SET LOCAL synchronous_commit = off")
            cursor.execute("CREATE TEMP TABLE bench_users (k integer PRIMARY KEY, id text NOT NULL)")
            with cursor.copy("COPY bench_users (k, id) FROM STDIN") as copy:
                for row in enumerate(user_ids):
                    copy.write_row(row)
            drops, creates = _postgresql_deferrable(cursor, "sessions")
            for statement in drops:
                cursor.execute(statement)
            cursor.execute(POSTGRESQL_SESSIONS.replace("{columns}", columns),
                           {"count": count, "users": len(user_ids), "dead": dead})
            for statement in creates:
                cursor.execute(statement)
        driver.commit()
        driver.autocommit = True
        driver.execute("VACUUM ANALYZE sessions")
        driver.autocommit = False
    finally:
        raw.close()


def seed_sessions(url, count, users=1000, dead_only=False, seed=7):
    """`users` extra users and `count` session rows spread over them; returns seconds taken."""
    started = time.perf_counter()
    rng = random.Random(seed)
    seeder = Seeder(url)
    try:
        user_ids = seed_users(seeder, users, rng)
        insert_sessions(seeder, count, user_ids, dead_only)
    finally:
        seeder.close()
    return time.perf_counter() - started


OBJETS = [
    "Facture n° {n} — fournitures de bureau", "Demande de congé annuel", "Convocation à la réunion du comité",
    "Rapport d'activité trimestriel", "Note de service sur les horaires", "Bon de commande {n}",
    "Courrier de réclamation d'un usager", "Demande de subvention {n}", "Invitation au séminaire régional",
    "Transmission de pièces justificatives", "Avis de marché public {n}", "Demande d'attestation de travail",
    "Procès-verbal de la séance du conseil", "Relance facture impayée {n}", "Contrat de maintenance informatique",
    "Dossier de candidature", "Arrêté de nomination", "Circulaire ministérielle {n}", "Demande de stage",
    "Compte rendu de mission", "Réponse à la demande d'information", "Plan de formation annuel",
    "Notification de décision", "Demande de rendez-vous", "Accusé de réception de dossier",
    "Devis travaux de rénovation", "Déclaration de sinistre", "Budget prévisionnel {n}",
    "Lettre de recommandation", "Mise en demeure",
]
ORGANISMES = [
    "Mairie de {v}", "Préfecture de {v}", "Trésor public", "Société Dupont SARL", "Cabinet Martin & associés",
    "Direction régionale des finances", "Ministère de l'Intérieur", "CHU de {v}", "Université de {v}",
    "Banque Populaire", "Chambre de commerce de {v}", "Office national des postes", "M. Jean Moreau",
    "Mme Claire Lefèvre", "Association des usagers", "Conseil départemental", "Tribunal administratif de {v}",
    "Entreprise Bernard BTP", "Rectorat de {v}", "Caisse d'allocations familiales",
]
VILLES = ["Lyon", "Lille", "Nantes", "Rennes", "Dijon", "Tours", "Metz", "Brest", "Nice", "Pau", "Caen", "Reims"]
PREFIXES = {"entrant": "ENT", "sortant": "SOR", "interne": "INT"}


def document_rows(count, creators, validators, rng, now):
    """`count` documents over two years, references sequential per type and year in creation order."""
    stamps = sorted(now - timedelta(seconds=rng.uniform(60, 2 * 365 * 86400)) for _ in range(count))
    counters = {}
    rows = []
    for created in stamps:
        kind = rng.choices(("entrant", "sortant", "interne"), (6, 3, 1))[0]
        key = (kind, created.year)
        counters[key] = counters.get(key, 0) + 1
        statut = rng.choices(("en_attente", "valide", "rejete"), (3, 6, 1))[0]
        decided = statut != "en_attente"
        validated_at = created + timedelta(hours=rng.uniform(1, 72)) if decided else None
        ville = rng.choice(VILLES)
        organisme = rng.choice(ORGANISMES).format(v=ville)
        service = f"Service {rng.choice(('courrier', 'juridique', 'comptabilité', 'RH', 'technique'))}"
        expediteur, destinataire = (organisme, service) if kind == "entrant" else (service, organisme)
        rows.append({
            "id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            "reference": f"{PREFIXES[kind]}-{created.year}-{counters[key]:06d}",
            "type": kind,
            "objet": rng.choice(OBJETS).format(n=rng.randrange(1000, 99999)),
            "expediteur": expediteur, "destinataire": destinataire,
            "date_courrier": (created - timedelta(days=rng.randrange(0, 10))).date(),
            "date_reception": created.date() if kind == "entrant" else None,
            "priorite": "urgente" if rng.random() < 0.15 else "normale",
            "description": "Document enregistré par le banc d'essai." if rng.random() < 0.5 else None,
            "statut": statut,
            "motif_rejet": "Pièce manquante." if statut == "rejete" else None,
            "created_by_id": rng.choice(creators),
            "validated_by_id": rng.choice(validators) if decided else None,
            "created_at": created, "updated_at": validated_at or created, "validated_at": validated_at,
        })
    return rows, counters


def seed_documents(url, count, seed=11):
    """25 users (20 agents, 5 validateurs) and `count` documents; returns seconds taken."""
    started = time.perf_counter()
    rng = random.Random(seed)
    seeder = Seeder(url)
    try:
        user_ids = seed_users(seeder, 25, rng, prefix="bench-doc-user",
                              role_of=lambda i: "validateur" if i >= 20 else "agent")
        rows, counters = document_rows(count, user_ids[:20], user_ids[20:], rng, datetime.now(timezone.utc))
        seeder.insert("documents", rows)
        if "reference_counters" in seeder.metadata.tables:
            seeder.insert("reference_counters", [
                {"type": kind, "year": year, "last_value": value} for (kind, year), value in counters.items()])
    finally:
        seeder.close()
    return time.perf_counter() - started


def count_rows(url, table_name):
    seeder = Seeder(url)
    try:
        return seeder.count(table_name)
    finally:
        seeder.close()


def pin_database_backends(url, core):
    """Pin the PostgreSQL backends of the clients of `url`'s database to `core`; returns how many.

    The database works for the server under test: its backends share the server's core, as the
    worker does, instead of wandering onto the load generator's (or the baseline's) core.
    """
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            pids = connection.scalars(text(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() "
                "AND backend_type = 'client backend'"
            )).all()
    finally:
        engine.dispose()
    pinned = 0
    for pid in pids:
        try:
            os.sched_setaffinity(pid, {int(core)})
            pinned += 1
        except OSError:  # not allowed (not root), or the backend ended meanwhile
            pass
    return pinned


# -- services and routing (issue 12) ---------------------------------------------------------------------
def service_rows(count, rng, now, top_level=5):
    """`count` services: `top_level` directions, the others spread under them (a two-level tree)."""
    top_level = max(1, min(top_level, count))
    rows = []
    for index in range(count):
        created = now - timedelta(days=rng.uniform(400, 900))
        top = index < top_level
        parent = None if top else rows[(index - top_level) % top_level]["id"]
        code = f"DIR{index + 1}" if top else f"SRV{index + 1:03d}"
        rows.append({
            "id": str(uuid.UUID(int=rng.getrandbits(128), version=4)), "code": code,
            "nom": f"{'Direction' if top else 'Service'} {index + 1} du banc d'essai", "parent_id": parent,
            "email": f"{code.lower()}@example.com", "is_active": True, "is_mail_office": False,
            "created_at": created, "updated_at": created,
        })
    return rows


def seed_services(url, count, services=50, users=500, agent_password_hash=None, copy_service_share=0.05,
                  copy_user_share=0.01, responsable_share=0.6, seed=17, treatment=False):
    """`services` services (a small tree), `users` agents (one primary membership each, round-robin over the
    services) and `count` letters routed to those services.

    Each letter: a treating service drawn uniformly, a creator among all the users, a responsable (a
    member of its service) for `responsable_share` of them, one copy service (another one) for
    `copy_service_share`, one copy user for `copy_user_share`. The agent measured is user 0, the first
    member of the first service below a direction; `agent_password_hash` lets them log in.

    Returns {"seconds", "agent_email", "agent_service", "visible"}: `visible` is the number of letters
    that agent sees by the rules of courrier/documents/visibility.py, computed here from the rows.

    `treatment` (issue 13, the bannettes scenario): the letters also get a statut, a deadline and a
    treatment state (see `add_treatment`), some copies are marked read, and the first member of the last
    direction (DIR5, whose subtree is 10 services) becomes a validateur (same password as the agent). The
    result then also has "validateur_email", "validateur_service", "validateur_subtree", "today", "reads"
    and "expected": {"agent"|"validateur": {code: count, "visible": n}}, the counts of
    courrier/documents/bannettes.py computed from the rows.
    """
    started = time.perf_counter()
    rng = random.Random(seed)
    now = datetime.now(timezone.utc)
    seeder = Seeder(url)
    try:
        service_list = service_rows(services, rng, now)
        seeder.insert("services", service_list)
        service_ids = [row["id"] for row in service_list]
        # The agent's service: the first one under a direction (a leaf), so user 0 is put there.
        first_leaf = next((i for i, row in enumerate(service_list) if row["parent_id"] is not None), 0)
        order = service_ids[first_leaf:] + service_ids[:first_leaf]
        user_list = list(user_rows(users, rng, now, prefix="bench-svc-user"))
        if agent_password_hash is not None:
            user_list[0]["password_hash"] = agent_password_hash
        # The first member of the last direction (DIR5 with 5 directions: `order` ends with them), if any.
        validateur = len(order) - 1 if treatment and len(order) - 1 < users else None
        if validateur is not None:
            user_list[validateur]["role"] = "validateur"
            if agent_password_hash is not None:
                user_list[validateur]["password_hash"] = agent_password_hash
        seeder.insert("users", user_list)
        user_ids = [row["id"] for row in user_list]
        memberships = [{"user_id": user_id, "service_id": order[index % len(order)], "is_primary": True}
                       for index, user_id in enumerate(user_ids)]
        seeder.insert("service_members", memberships)
        members = {}
        for row in memberships:
            members.setdefault(row["service_id"], []).append(row["user_id"])

        rows, counters = document_rows(count, user_ids, user_ids, rng, now)
        copy_services, copy_users = [], []
        agent, agent_service = user_ids[0], order[0]
        visible = 0
        for row in rows:
            service_id = rng.choice(service_ids)
            row["service_id"] = service_id
            row["responsable_id"] = rng.choice(members[service_id]) if rng.random() < responsable_share else None
            copied_service = copied_user = None
            if rng.random() < copy_service_share:
                copied_service = rng.choice([s for s in service_ids if s != service_id])
                copy_services.append({"document_id": row["id"], "service_id": copied_service})
            if rng.random() < copy_user_share:
                copied_user = rng.choice(user_ids)
                copy_users.append({"document_id": row["id"], "user_id": copied_user})
            if agent in (row["created_by_id"], row["responsable_id"], copied_user) \
                    or agent_service in (service_id, copied_service):
                visible += 1
        result = {}
        reads = []
        if treatment:
            # Its own generator: the rows above stay those of the services scenario.
            reads = add_treatment(rows, copy_services, copy_users, members, user_ids, random.Random(seed + 1), now)
            today = paris_today()
            parents = {row["id"]: row["parent_id"] for row in service_list}
            viewers = {"agent": Viewer(agent, "agent", frozenset({agent_service}))}
            if validateur is not None:
                own = frozenset({order[validateur]})
                viewers["validateur"] = Viewer(user_ids[validateur], "validateur", own, subtree(own, parents))
                result["validateur_email"] = user_list[validateur]["email"]
                result["validateur_service"] = service_list[service_ids.index(order[validateur])]["code"]
                result["validateur_subtree"] = len(viewers["validateur"].supervised_ids)
            result["expected"] = {who: expected_bannettes(rows, copy_services, copy_users, reads, viewer, today)
                                  for who, viewer in viewers.items()}
            result["today"] = today
        seeder.insert("documents", rows)
        seeder.insert("document_copy_services", copy_services)
        seeder.insert("document_copy_users", copy_users)
        if reads:
            seeder.insert("document_reads", reads)
        if "reference_counters" in seeder.metadata.tables:
            seeder.insert("reference_counters", [
                {"type": kind, "year": year, "last_value": value} for (kind, year), value in counters.items()])
    finally:
        seeder.close()
    result.update({"seconds": time.perf_counter() - started, "agent_email": user_list[0]["email"],
                   "agent_service": service_list[service_ids.index(agent_service)]["code"], "visible": visible,
                   "copies": (len(copy_services), len(copy_users)), "reads": len(reads)})
    return result


# -- treatment, deadlines and work queues (issue 13) -----------------------------------------------------
PARIS = ZoneInfo("Europe/Paris")
# Shares of the bannettes data: statut of the letters, treatment state of the valid ones, copies read.
STATUT_SHARES = {"valide": 80, "en_attente": 15, "rejete": 5}
ETAT_SHARES = {None: 50, "en_cours": 20, "traite": 30}
READ_SHARE = 0.5
# Deadlines: today plus a number of days drawn in this range, so about a quarter of them are past.
ECHEANCE_DAYS = (-10, 30)


def paris_today():
    """The date the app's `late` queue compares deadlines with (courrier.deadlines.paris_today)."""
    return datetime.now(PARIS).date()


def add_treatment(rows, copy_services, copy_users, members, user_ids, rng, now):
    """Statut, deadline and treatment state of each letter (rows already routed), in place; returns the
    document_reads rows: each copy user, and each member of a copy service, opened it with READ_SHARE.

    Statut: mostly valide, some en_attente, a few rejete (STATUT_SHARES). Deadline (`echeance`): today
    plus ECHEANCE_DAYS, some late. Valid letters: no stored state (à traiter), en_cours (with a responsable,
    as taking it in charge sets one) or traite (ETAT_SHARES); the others have none.
    """
    today = paris_today()
    statuts, statut_weights = zip(*STATUT_SHARES.items())
    etats, etat_weights = zip(*ETAT_SHARES.items())
    for row in rows:
        statut = rng.choices(statuts, statut_weights)[0]
        decided = statut != "en_attente"
        created = row["created_at"]
        validated_at = created + timedelta(hours=rng.uniform(1, 72)) if decided else None
        row.update(statut=statut, validated_at=validated_at, validated_by_id=rng.choice(user_ids) if decided else None,
                   motif_rejet="Pièce manquante." if statut == "rejete" else None,
                   updated_at=validated_at or created,
                   echeance=today + timedelta(days=rng.randint(*ECHEANCE_DAYS)),
                   traitement_etat=None, traite_at=None, traite_par_id=None, traitement_commentaire=None)
        if statut != "valide":
            continue
        etat = rng.choices(etats, etat_weights)[0]
        row["traitement_etat"] = etat
        if etat is not None and row["responsable_id"] is None:
            row["responsable_id"] = rng.choice(members[row["service_id"]])
        if etat == "traite":
            row["traite_at"] = min(now, validated_at + timedelta(days=rng.uniform(0.1, 20)))
            row["traite_par_id"] = row["responsable_id"]
            row["traitement_commentaire"] = "Réponse envoyée." if rng.random() < 0.3 else None
            row["updated_at"] = row["traite_at"]
    created_at = {row["id"]: row["created_at"] for row in rows}
    readers = [(copy["document_id"], copy["user_id"]) for copy in copy_users]
    readers += [(copy["document_id"], member) for copy in copy_services for member in members[copy["service_id"]]]
    reads, seen = [], set()
    for document_id, user_id in readers:
        if (document_id, user_id) not in seen and rng.random() < READ_SHARE:
            seen.add((document_id, user_id))
            read_at = min(now, created_at[document_id] + timedelta(hours=rng.uniform(1, 500)))
            reads.append({"document_id": document_id, "user_id": user_id, "read_at": read_at})
    return reads


@dataclass(frozen=True)
class Viewer:
    """The caller as courrier/documents/visibility.py sees them (agents and validateurs only)."""

    id: str
    role: str
    service_ids: frozenset
    supervised_ids: frozenset = frozenset()


def subtree(roots, parents):
    """`roots` and every service below them, from {service id: parent id}."""
    found = set(roots)
    while True:
        below = {child for child, parent in parents.items() if parent in found} - found
        if not below:
            return frozenset(found)
        found |= below


def expected_bannettes(rows, copy_services, copy_users, reads, viewer, today):
    """{code: count} of GET /api/bannettes for `viewer`, by the rules of courrier/documents/bannettes.py
    (one copy service and one copy user at most per letter, every letter routed and with a deadline)."""
    copied_services = {copy["document_id"]: copy["service_id"] for copy in copy_services}
    copied_users = {copy["document_id"]: copy["user_id"] for copy in copy_users}
    read = {(read["document_id"], read["user_id"]) for read in reads if read["user_id"] == viewer.id}
    supervisor = viewer.role == "validateur"
    codes = ["a_traiter", "en_copie", "en_retard", "mes_enregistrements"]
    coming = viewer.role == "agent" and bool(viewer.service_ids)  # no mail office among the seeded services
    counts = dict.fromkeys((["a_valider"] if supervisor else []) + codes + (["a_venir"] if coming else []), 0)
    counts["visible"] = 0
    for row in rows:
        document_id, service_id, responsable = row["id"], row["service_id"], row["responsable_id"]
        copied = copied_users.get(document_id) == viewer.id or copied_services.get(document_id) in viewer.service_ids
        mine = viewer.id in (row["created_by_id"], responsable)
        if not (mine or copied or service_id in viewer.service_ids or service_id in viewer.supervised_ids
                or (supervisor and service_id is None)):
            continue
        counts["visible"] += 1
        statut, etat = row["statut"], row["traitement_etat"]
        if supervisor and statut == "en_attente" and row["created_by_id"] != viewer.id \
                and (service_id is None or service_id in viewer.supervised_ids):
            counts["a_valider"] += 1
        if statut == "valide" and service_id is not None and etat in (None, "en_cours") and (
                responsable == viewer.id or (responsable is None and service_id in viewer.service_ids)):
            counts["a_traiter"] += 1
        if coming and statut == "en_attente" and service_id in viewer.service_ids:
            counts["a_venir"] += 1
        if copied and (document_id, viewer.id) not in read:
            counts["en_copie"] += 1
        if statut != "rejete" and etat != "traite" and row["echeance"] is not None and row["echeance"] < today and (
                responsable == viewer.id or service_id in (viewer.service_ids | viewer.supervised_ids)):
            counts["en_retard"] += 1
        if row["created_by_id"] == viewer.id and etat != "traite":
            counts["mes_enregistrements"] += 1
    return counts


# -- the register export (issue 14) ----------------------------------------------------------------------
REGISTER_NATURES = {"courrier_simple": 60, "recommande": 10, "recommande_ar": 10, "courriel": 12, "fax": 1,
                    "depot_main_propre": 4, "colis": 2, "autre": 1}
# Long enough to wrap on two or three lines of the PDF's objet column.
LONG_OBJET_SUFFIX = (" — suite à votre courrier du {d} concernant le dossier {n}, pièces complémentaires "
                     "et demande de précisions sur le calendrier de traitement")


def seed_register(url, count, kind="entrant", services=20, users=25, long_objet_share=0.2, seed=23):
    """`count` letters of one `kind`, all registered this year (UTC) in reference order, for the register
    export: natures, registered-mail numbers, a treating service for 80 %, statut and treatment state, a fifth
    of the objets long enough to wrap. Returns {"seconds", "year"}."""
    started = time.perf_counter()
    rng = random.Random(seed)
    now = datetime.now(timezone.utc)
    start = datetime(now.year, 1, 1, tzinfo=timezone.utc)
    seeder = Seeder(url)
    try:
        user_ids = seed_users(seeder, users, rng, prefix="bench-reg-user",
                              role_of=lambda i: "validateur" if i >= users - 5 else "agent")
        service_list = service_rows(services, rng, now)
        seeder.insert("services", service_list)
        service_ids = [row["id"] for row in service_list]
        span = max(60.0, (now - start).total_seconds() - 60)
        stamps = sorted(start + timedelta(seconds=rng.uniform(0, span)) for _ in range(count))
        natures, nature_weights = zip(*REGISTER_NATURES.items())
        prefix = PREFIXES[kind]

        def rows():
            for number, created in enumerate(stamps, 1):
                nature = rng.choices(natures, nature_weights)[0]
                statut = rng.choices(("en_attente", "valide", "rejete"), (2, 7, 1))[0]
                service_id = rng.choice(service_ids) if rng.random() < 0.8 else None
                etat = rng.choice((None, "en_cours", "traite")) if statut == "valide" and service_id else None
                organisme = rng.choice(ORGANISMES).format(v=rng.choice(VILLES))
                objet = rng.choice(OBJETS).format(n=rng.randrange(1000, 99999))
                if rng.random() < long_objet_share:
                    objet += LONG_OBJET_SUFFIX.format(d=created.date().strftime("%d/%m/%Y"),
                                                      n=rng.randrange(1000, 99999))
                yield {
                    "id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                    "reference": f"{prefix}-{created.year}-{number:06d}", "type": kind, "objet": objet[:255],
                    "expediteur": organisme if kind == "entrant" else "Service courrier",
                    "destinataire": "Service courrier" if kind == "entrant" else organisme,
                    "date_courrier": (created - timedelta(days=rng.randrange(0, 10))).date(),
                    "date_reception": created.date() if kind == "entrant" else None,
                    "priorite": "urgente" if rng.random() < 0.15 else "normale", "description": None,
                    "statut": statut, "motif_rejet": "Pièce manquante." if statut == "rejete" else None,
                    "created_by_id": rng.choice(user_ids),
                    "validated_by_id": rng.choice(user_ids[-5:]) if statut != "en_attente" else None,
                    "service_id": service_id, "traitement_etat": etat, "nature": nature,
                    "numero_recommande": (f"1A{rng.randrange(10 ** 10, 10 ** 11)}"
                                          if nature in ("recommande", "recommande_ar") else None),
                    "created_at": created, "updated_at": created,
                    "validated_at": created + timedelta(hours=1) if statut != "en_attente" else None,
                }

        seeder.insert("documents", rows())
        if "reference_counters" in seeder.metadata.tables:
            seeder.insert("reference_counters", [{"type": kind, "year": now.year, "last_value": count}])
    finally:
        seeder.close()
    return {"seconds": time.perf_counter() - started, "year": now.year}
