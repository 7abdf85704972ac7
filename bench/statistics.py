"""The dashboard (GET /api/statistiques) at 1,000,000 letters: p50 for a year and all services, as an
administrateur, with a small data set beside it (A/B rounds) for the ratio.

The letters are bulk-seeded (COPY on PostgreSQL, executemany on SQLite), then counted by the app's own
`flask statistiques rebuild`, as an office that imports its history would; its time is printed too.
"""
import random
import time
import uuid
from datetime import datetime, timedelta, timezone

from bench.database import (
    ORGANISMES, PREFIXES, VILLES, Seeder, paris_today, run_flask, seed_users, service_rows,
)
from bench.load import Request
from bench.scenarios import Goal, Section, alternate, bearer, check_errors, expect_ok, log, login

GOAL_MS = 300.0
# 10 typologies: 2 « silence vaut acceptation », 1 « silence vaut rejet »; 60 % of the incoming letters have one.
TYPOLOGIES = [("PC", "sva", 40), ("DP", "sva", 20), ("REC", "svr", 40), ("SUB", "normal", 30),
              ("ETC", "normal", 10), ("RH", "normal", 15), ("JUR", "normal", 20), ("TRX", "normal", 25),
              ("ENV", "normal", 30), ("DIV", "normal", 30)]
TYPOLOGIE_SHARE = 0.6
# An office that keeps up: letters older than RECENT_DAYS are decided (valide 95 % / rejete 5 %) and 98 % of the
# valid ones treated; the recent ones are still pending for 30 %, and 40 % of the valid ones still open.
RECENT_DAYS = 45
STATUTS = {False: (("valide", "rejete"), (95, 5)), True: (("valide", "en_attente", "rejete"), (65, 30, 5))}
ETATS = {False: (("traite", "en_cours", None), (98, 1, 1)), True: (("traite", "en_cours", None), (60, 20, 20))}


def seed_statistics(url, count, services=50, users=25, years=2, seed=29):
    """`count` letters over `years` years to now: 50 services (95 % routed), 10 typologies, statut, deadline,
    treatment (treated 0–40 days after receipt, never in the future; the old letters nearly all decided and
    treated, STATUTS and ETATS). Returns {"seconds"}."""
    started = time.perf_counter()
    rng = random.Random(seed)
    now = datetime.now(timezone.utc)
    today = paris_today()
    seeder = Seeder(url)
    try:
        user_ids = seed_users(seeder, users, rng, prefix="bench-stat-user",
                              role_of=lambda i: "validateur" if i >= users - 5 else "agent")
        service_list = service_rows(services, rng, now)
        seeder.insert("services", service_list)
        service_ids = [row["id"] for row in service_list]
        typologies = [{"id": str(uuid.UUID(int=rng.getrandbits(128), version=4)), "code": code,
                       "nom": f"Typologie {code}", "delai_jours": delay, "mode": mode, "is_active": True,
                       "created_at": now, "updated_at": now} for code, mode, delay in TYPOLOGIES]
        seeder.insert("typologies", typologies)
        span = years * 365 * 86400
        stamps = sorted(rng.uniform(60, span) for _ in range(count))
        counters = {}

        def rows():
            for seconds in reversed(stamps):
                created = now - timedelta(seconds=seconds)
                kind = rng.choices(("entrant", "sortant", "interne"), (6, 3, 1))[0]
                key = (kind, created.year)
                counters[key] = counters.get(key, 0) + 1
                typologie = rng.choice(typologies) if kind == "entrant" and rng.random() < TYPOLOGIE_SHARE else None
                received = created.date()
                recent = seconds < RECENT_DAYS * 86400
                statut = rng.choices(*STATUTS[recent])[0]
                service_id = rng.choice(service_ids) if rng.random() < 0.95 else None
                etat = rng.choices(*ETATS[recent])[0] if statut == "valide" and service_id else None
                treated = None
                if etat == "traite":
                    treated = min(created + timedelta(days=rng.randrange(0, 41), hours=rng.uniform(0, 8)),
                                  now - timedelta(seconds=1))
                delay = typologie["delai_jours"] if typologie else 30
                yield {
                    "id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                    "reference": f"{PREFIXES[kind]}-{created.year}-{counters[key]:07d}", "type": kind,
                    "objet": f"Dossier {rng.randrange(1000, 99999)}",
                    "expediteur": rng.choice(ORGANISMES).format(v=rng.choice(VILLES)), "destinataire": "Mairie",
                    "date_reception": received if kind == "entrant" else None,
                    "priorite": "normale", "statut": statut,
                    "created_by_id": rng.choice(user_ids), "service_id": service_id,
                    "typologie_id": typologie["id"] if typologie else None,
                    # Calendar days stand in for working days here: the figures only need a spread.
                    "echeance": received + timedelta(days=delay * 7 // 5),
                    "traitement_etat": etat, "traite_at": treated, "traite_par_id": user_ids[0] if treated else None,
                    "created_at": created, "updated_at": treated or created,
                }

        seeder.insert("documents", rows())
        if "reference_counters" in seeder.metadata.tables:
            seeder.insert("reference_counters", [
                {"type": kind, "year": year, "last_value": value} for (kind, year), value in counters.items()])
    finally:
        seeder.close()
    return {"seconds": time.perf_counter() - started, "today": today}


def analyze(url):
    """Fresh statistics (and, on PostgreSQL, the visibility map index-only scans need) after the rebuild."""
    seeder = Seeder(url)
    try:
        if seeder.dialect == "sqlite":
            with seeder.engine.connect() as conn:
                conn.exec_driver_sql("ANALYZE")
        else:
            raw = seeder.engine.raw_connection()
            try:
                raw.driver_connection.autocommit = True
                for table in ("statistiques_courriers", "statistiques_jours", "statistiques_durees", "documents"):
                    raw.driver_connection.execute(f'VACUUM ANALYZE "{table}"')
            finally:
                raw.close()
    finally:
        seeder.close()


def scenario_statistics(ctx):
    small, large = ctx.options.statistiques_small, ctx.options.statistiques_letters
    section = Section(f"GET /api/statistiques (a year, all services) with {small:,} vs {large:,} letters "
                      f"[{ctx.dialect}]")
    seeder = Seeder(ctx.databases.template_url)
    try:
        ready = "statistiques_jours" in seeder.metadata.tables
    finally:
        seeder.close()
    if not ready:
        section.skipped = "no statistiques_jours table (migration 7a1c0de0a005)"
        return section
    today = paris_today()
    year_ago = (today - timedelta(days=365)).isoformat()
    paths = {"default": "/api/statistiques",
             "unaligned": f"/api/statistiques?date_from={year_ago}&date_to={today.isoformat()}"}
    datasets = []
    for count in (small, large):
        name = f"statistiques{count}"
        url = ctx.databases.clone(name)
        log(f"  seeding {count:,} letters over two years…")
        seeded = seed_statistics(url, count)
        section.facts.append((f"seeding {count:,} letters", f"{seeded['seconds']:.1f} s"))
        started = time.perf_counter()
        run_flask(ctx.app_env.for_database(url), "statistiques", "rebuild", timeout=3600)
        analyze(url)
        section.facts.append((f"flask statistiques rebuild, {count:,} letters",
                              f"{time.perf_counter() - started:.1f} s"))
        datasets.append((f"{count:,} letters", name, url))
    variants, servers = [], []
    try:
        for label, name, url in datasets:
            server = ctx.app_server(f"app-{name}", url).start()
            servers.append(server)
            token = login(server)
            request = Request("GET", paths["default"], bearer(token))
            body = expect_ok(server, request)
            data = body["data"]
            section.facts.append((f"{label}: period {body['meta']['periode']['date_from']} → "
                                  f"{body['meta']['periode']['date_to']}",
                                  f"{sum(w['entrants'] + w['sortants'] + w['internes'] for w in data['semaines']):,} "
                                  f"registered, {sum(r['nombre'] for r in data['retards']):,} late, "
                                  f"{sum(r['nombre'] for r in data['delais_services']):,} treated, "
                                  f"{len(data['silences'])} silences"))
            variants.append((label, server, request))
        # One connection: p50 is the service time, not queueing behind a second client.
        section.runs = alternate(ctx, variants, connections=1)
        unaligned = Request("GET", paths["unaligned"], bearer(login(servers[-1])))
        expect_ok(servers[-1], unaligned)
        result = ctx.load(servers[-1], unaligned, connections=1)
        section.facts.append((f"{datasets[-1][0]}: date_from={year_ago} (months cut at both ends) p50",
                              f"{result.p50_ms:.1f} ms"))
    finally:
        for server in servers:
            server.stop()
    for _, name, _ in datasets:
        ctx.databases.drop(name)
    small_runs, large_runs = section.runs[datasets[0][0]], section.runs[datasets[1][0]]
    section.goals.append(Goal(f"statistiques p50 ms, {large:,} letters [{ctx.dialect}]",
                              [run.p50_ms for run in large_runs], GOAL_MS, higher_is_better=False, unit=" ms"))
    ratios = [a.p50_ms / b.p50_ms for a, b in zip(large_runs, small_runs) if b.p50_ms]
    section.facts.append((f"p50 ratio {large:,} / {small:,} letters (median of rounds)",
                          f"{sorted(ratios)[len(ratios) // 2]:.2f}×" if ratios else "-"))
    check_errors(section)
    return section
