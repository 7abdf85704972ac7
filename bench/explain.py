"""`python -m bench.explain`: the query plan of GET /api/bannettes' one statement on the bannettes data.

Seeds one data set as the `bannettes` scenario does (services, users, letters with statut, deadline,
treatment state, reads), then, in this process and for each caller (the agent of SRV006, the validateur
of DIR5), captures the statement `count_bannettes` executes, prints EXPLAIN QUERY PLAN (SQLite) or
EXPLAIN (ANALYZE, BUFFERS) (PostgreSQL), and times it: the whole statement (on PostgreSQL also with
jit = off), the visible letters alone (`count(*)` with the visibility predicate only), each queue's
FILTER alone, and one possible rewrite (one scalar subquery per queue, no visibility WHERE).

    .venv/bin/python -m bench.explain [--letters 100000] [--database-url postgresql+psycopg://…]
"""
import argparse
import os
import statistics
import sys
import time

import bcrypt

from bench.database import Databases, seed_services
from bench.scenarios import ADMIN, BANNETTES_CALLERS, SERVICES_AGENT_PASSWORD
from bench.servers import PROJECT_ROOT, AppEnvironment


def parse_args(argv=None):
    parser = argparse.ArgumentParser(prog="python -m bench.explain", description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=None,
                        help="as for python -m bench (default: a temporary SQLite file)")
    parser.add_argument("--letters", type=int, default=100_000)
    parser.add_argument("--services-count", type=int, default=50)
    parser.add_argument("--services-users", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=15, help="executions timed per statement (median printed)")
    parser.add_argument("--who", default="agent,validateur", help="callers, among agent,validateur")
    parser.add_argument("--keep", action="store_true", help="keep the database")
    return parser.parse_args(argv)


def timed(session, statement, repeat):
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        session.execute(statement).all()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def explain(connection, statement):
    dialect = connection.dialect
    compiled = statement.compile(dialect=dialect, compile_kwargs={"render_postcompile": True})
    if dialect.name == "sqlite":
        params = tuple(compiled.params[name] for name in compiled.positiontup)
        params = tuple(value.isoformat() if hasattr(value, "isoformat") else value for value in params)
        rows = connection.exec_driver_sql("EXPLAIN QUERY PLAN " + str(compiled), params).all()
        depth, lines = {0: -1}, []
        for node, parent, _, detail in rows:
            depth[node] = depth.get(parent, -1) + 1
            lines.append("  " * depth[node] + detail)
        return str(compiled), params, lines
    params = compiled.params
    rows = connection.exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS) " + str(compiled), params).all()
    return str(compiled), params, [row[0] for row in rows]


def main(argv=None):
    options = parse_args(argv)
    os.chdir(PROJECT_ROOT)
    sys.path.insert(0, PROJECT_ROOT)
    databases = Databases(options.database_url, keep=options.keep)
    app_env = AppEnvironment(4)
    try:
        databases.create_template(app_env, ADMIN)
        url = databases.clone("explain")
        password_hash = bcrypt.hashpw(SERVICES_AGENT_PASSWORD.encode(), bcrypt.gensalt(4)).decode()
        print(f"seeding {options.letters:,} letters…", flush=True)
        seeded = seed_services(url, options.letters, options.services_count, options.services_users,
                               agent_password_hash=password_hash, treatment=True)
        os.environ.update(app_env.for_database(url))
        from sqlalchemy import func, select, text

        from courrier import create_app
        from courrier.auth.models import User
        from courrier.documents import bannettes, visibility
        from courrier.documents.models import Document
        from courrier.extensions import db

        app = create_app()
        with app.app_context():
            for who, email_key, _ in BANNETTES_CALLERS:
                if who not in options.who.split(","):
                    continue
                user = db.session.scalars(select(User).where(User.email == seeded[email_key])).one()
                viewer = visibility.viewer_of(user)
                captured, real = [], db.session.execute
                db.session.execute = lambda statement, *a, **k: captured.append(statement) or real(statement, *a, **k)
                try:
                    counts = bannettes.count_bannettes(viewer)
                finally:
                    del db.session.execute
                statement = captured[-1]
                sql, params, plan = explain(db.session.connection(), statement)
                print(f"\n## {who} ({seeded['expected'][who]['visible']:,} letters visible), "
                      f"{options.letters:,} letters [{databases.dialect}]")
                print("counts: " + ", ".join(f"{c['code']} {c['count']:,}" for c in counts))
                print(f"\n{sql}\n-- params: {params}\n")
                print("\n".join(plan))
                print(f"\nwhole statement: {timed(db.session, statement, options.repeat):.1f} ms (median)")
                if databases.dialect == "postgresql":
                    db.session.execute(text("SET jit = off"))
                    executed = [line for line in explain(db.session.connection(), statement)[2]
                                if line.startswith("Execution Time")]
                    print(f"whole statement with jit = off: {timed(db.session, statement, options.repeat):.1f} ms "
                          f"(EXPLAIN ANALYZE: {executed[0] if executed else '?'})")
                    db.session.execute(text("RESET jit"))
                today = bannettes.deadlines.paris_today()
                predicate = visibility.visible_predicate(viewer)
                alone = select(func.count()).select_from(Document).where(predicate)
                print(f"visible letters only, count(*): {timed(db.session, alone, options.repeat):.1f} ms")
                for item in counts:
                    condition = bannettes.bannette_condition(viewer, item["code"], today)
                    one = select(func.count().filter(condition)).select_from(Document).where(predicate)
                    print(f"  + FILTER {item['code']} alone: {timed(db.session, one, options.repeat):.1f} ms")
                # A possible change, measured: every queue's condition implies visibility (each names the
                # caller, their services or their subtree), so one scalar subquery per queue, without the
                # visibility WHERE, lets each count use the indexes of its own condition.
                per_queue = select(*(
                    select(func.count()).select_from(Document)
                    .where(bannettes.bannette_condition(viewer, item["code"], today))
                    .scalar_subquery().label(item["code"]) for item in counts))
                got = dict(db.session.execute(per_queue).one()._mapping)
                same = got == {item["code"]: item["count"] for item in counts}
                print(f"\nalternative, one scalar subquery per queue, no visibility WHERE "
                      f"({'same counts' if same else f'DIFFERENT counts: {got}'}): "
                      f"{timed(db.session, per_queue, options.repeat):.1f} ms")
                print("\n".join(explain(db.session.connection(), per_queue)[2]))
                db.session.rollback()
    finally:
        kept = databases.cleanup()
        if kept:
            print("kept: " + ", ".join(kept))


if __name__ == "__main__":
    main()
