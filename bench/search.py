"""Issue 25: full-text `q` on the register at 1,000,000 letters with 200,000 attachments' text, a two-word
query as an agent of one service out of 50 (visibility applies), against the same query at 10,000 letters.

The data sets are those of the `services` scenario (bench.database.seed_services), plus the extracted text
of one attachment for `--search-attachments-share` of the letters. The index is not grown row by row while
seeding: its triggers (and PostgreSQL's GIN index) are set aside, then the app's own `flask search
reindex` builds it (`--offline` on PostgreSQL: the GIN index once at the end), and its time is printed.
"""
import random
import time
import uuid
from datetime import datetime, timedelta, timezone
from urllib.parse import urlencode

import bcrypt

from bench.database import Seeder, run_flask, seed_services
from bench.load import Request
from bench.scenarios import SERVICES_AGENT_PASSWORD, Goal, Section, alternate, bearer, check_errors, expect_ok, \
    log, login

GOALS_MS = {"postgresql": 100.0, "sqlite": 250.0}
# The words of the attachments' text: an administration's letters, a few names and places.
VOCABULARY = (
    "demande dossier courrier subvention facture paiement relance commune mairie préfecture conseil arrêté "
    "décision délibération séance commission budget crédit dépense recette marché public travaux voirie "
    "assainissement réseau eau électricité bâtiment école cantine transport urbanisme permis construire "
    "déclaration préalable certificat cadastre parcelle terrain propriétaire locataire logement social aide "
    "allocation famille enfant jeunesse sport culture association bénévole manifestation autorisation "
    "occupation domaine stationnement circulation sécurité police environnement déchets collecte tri "
    "recyclage énergie chauffage rénovation isolation accessibilité handicap personnel agent recrutement "
    "contrat formation congé retraite rémunération indemnité mutuelle assurance sinistre expertise "
    "réclamation contentieux tribunal avocat recours délai procédure notification accusé réception "
    "signature pièce justificative attestation document original copie monsieur madame veuillez agréer "
    "salutations distinguées objet référence vu considérant article alinéa loi décret code général "
    "collectivités territoriales"
).split()
TEXT_POOL = 4000
TEXT_WORDS = (80, 200)


def text_pool(rng):
    """Distinct texts of 80 to 200 words (about 0.6 to 1.5 kB), numbers here and there."""
    pool = []
    for _ in range(TEXT_POOL):
        words = [rng.choice(VOCABULARY) for _ in range(rng.randint(*TEXT_WORDS))]
        for position in rng.sample(range(len(words)), 3):
            words[position] = str(rng.randrange(10, 100000))
        pool.append(" ".join(words).capitalize() + ".")
    return pool


def seed_attachments(url, share, seed=31):
    """An attachment whose text was extracted (`texte_etat` extrait) for `share` of the letters; returns its count."""
    rng = random.Random(seed)
    seeder = Seeder(url)
    try:
        with seeder.engine.connect() as connection:
            ids = connection.exec_driver_sql("SELECT id FROM documents").scalars().all()
        chosen = rng.sample(ids, int(len(ids) * share))
        pool = text_pool(rng)
        now = datetime.now(timezone.utc)

        def rows():
            for document_id in chosen:
                digest = uuid.UUID(int=rng.getrandbits(128)).hex * 2
                yield {"id": str(uuid.UUID(int=rng.getrandbits(128), version=4)), "document_id": document_id,
                       "filename": "courrier.pdf", "content_type": "application/pdf",
                       "size": rng.randrange(20_000, 2_000_000), "sha256": digest, "storage_name": digest,
                       "created_at": now - timedelta(days=rng.uniform(0, 700)), "texte_etat": "extrait",
                       "texte": f"{rng.choice(pool)} Dossier {rng.randrange(100000, 999999)}."}

        return seeder.insert("attachments", rows())
    finally:
        seeder.close()


def set_index_aside(url):
    """No index maintenance while seeding: the triggers off, and PostgreSQL's GIN index dropped."""
    seeder = Seeder(url)
    try:
        with seeder.engine.begin() as connection:
            if seeder.dialect == "postgresql":
                connection.exec_driver_sql("DROP INDEX IF EXISTS ix_documents_recherche")
                connection.exec_driver_sql("ALTER TABLE documents DISABLE TRIGGER documents_recherche")
            else:
                for name in ("insert", "update", "delete"):
                    connection.exec_driver_sql(f"DROP TRIGGER IF EXISTS documents_recherche_{name}")
    finally:
        seeder.close()


def build_index(ctx, url):
    """`flask search reindex` (it puts the triggers back), then fresh planner statistics; returns seconds."""
    seeder = Seeder(url)
    try:
        if seeder.dialect == "postgresql":
            with seeder.engine.begin() as connection:
                connection.exec_driver_sql("ALTER TABLE documents ENABLE TRIGGER documents_recherche")
    finally:
        seeder.close()
    started = time.perf_counter()
    options = ["--offline"] if ctx.dialect == "postgresql" else []
    run_flask(ctx.app_env.for_database(url), "search", "reindex", "--batch-size", "10000", *options, timeout=7200)
    seconds = time.perf_counter() - started
    seeder = Seeder(url)
    try:
        raw = seeder.engine.raw_connection()
        try:
            if seeder.dialect == "postgresql":
                raw.driver_connection.autocommit = True
                raw.driver_connection.execute("VACUUM ANALYZE documents")
                raw.driver_connection.execute("VACUUM ANALYZE attachments")
            else:
                raw.driver_connection.execute("ANALYZE")
                raw.driver_connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            raw.close()
    finally:
        seeder.close()
    return seconds


def scenario_search(ctx):
    small, large = ctx.options.search_small, ctx.options.search_letters
    share = ctx.options.search_attachments_share
    query = {"q": ctx.options.search_query, "per_page": 20}
    path = f"/api/documents?{urlencode(query)}"
    section = Section(f"GET {path} as an agent of 1 of 50 services, {small:,} vs {large:,} letters, "
                      f"attachments' text for {share:.0%} of them [{ctx.dialect}]")
    seeder = Seeder(ctx.databases.template_url)
    try:
        ready = ("recherche" in seeder.metadata.tables["documents"].columns if ctx.dialect == "postgresql"
                 else "recherche_cles" in seeder.metadata.tables)
    finally:
        seeder.close()
    if not ready:
        section.skipped = "no full-text index yet (migration 7a1c0de0a010)"
        return section
    password_hash = bcrypt.hashpw(SERVICES_AGENT_PASSWORD.encode(), bcrypt.gensalt(ctx.app_env.bcrypt_rounds)).decode()
    datasets = []
    for count in (small, large):
        name = f"search{count}"
        url = ctx.databases.clone(name)
        set_index_aside(url)
        log(f"  seeding {count:,} letters (50 services, 500 users) and {int(count * share):,} attachments' text…")
        seeded = seed_services(url, count, 50, 500, agent_password_hash=password_hash)
        started = time.perf_counter()
        attachments = seed_attachments(url, share)
        section.facts.append((f"seeding {count:,} letters / {attachments:,} attachments' text",
                              f"{seeded['seconds']:.1f} s / {time.perf_counter() - started:.1f} s"))
        log("  flask search reindex…")
        seconds = build_index(ctx, url)
        section.facts.append((f"flask search reindex, {count:,} letters", f"{seconds:.1f} s"))
        datasets.append((f"{count:,} letters", name, url, seeded))
    variants, servers = [], []
    try:
        for label, name, url, seeded in datasets:
            server = ctx.app_server(f"app-{name}", url).start()
            servers.append(server)
            request = Request("GET", path, bearer(login(server, seeded["agent_email"], SERVICES_AGENT_PASSWORD)))
            body = expect_ok(server, request)
            section.facts.append((f"{label}: matches visible to the agent (meta.total) / rows returned",
                                  f"{body['meta']['total']:,} / {len(body['data'])}"))
            variants.append((label, server, request))
        # One connection: p50 is the service time, not queueing behind a second client.
        section.runs = alternate(ctx, variants, connections=1)
        broad_path = f"/api/documents?{urlencode({**query, 'q': ctx.options.search_broad_query})}"
        for (label, server, request), (_, _, _, seeded) in zip(variants, datasets):
            broad = Request("GET", broad_path, request.headers)
            body = expect_ok(server, broad)
            result = ctx.load(server, broad, connections=1)
            section.facts.append((f"{label}: q={ctx.options.search_broad_query!r} (common words): meta.total / p50",
                                  f"{body['meta']['total']:,} / {result.p50_ms:.1f} ms"))
    finally:
        for server in servers:
            server.stop()
    for _, name, _, _ in datasets:
        ctx.databases.drop(name)
    small_runs, large_runs = section.runs[datasets[0][0]], section.runs[datasets[1][0]]
    section.goals.append(Goal(f"search p50 ms, {large:,} letters [{ctx.dialect}]", [r.p50_ms for r in large_runs],
                              GOALS_MS[ctx.dialect], higher_is_better=False, unit=" ms"))
    section.goals.append(Goal(f"search p50 {large:,}/{small:,} [{ctx.dialect}]",
                              [a.p50_ms / b.p50_ms for a, b in zip(large_runs, small_runs) if b.p50_ms], 2.0,
                              higher_is_better=False))
    check_errors(section)
    return section
