"""The dashboard (GET /api/statistiques): its figures, who sees what, its filters, its CSV, its aggregates."""
import filecmp
import random
from datetime import date, datetime, time, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, text, update

from tests.conftest import TEST_DATABASE_URL, AuthActions, base_config, create
from courrier import create_app, deadlines, register_migrations
from courrier.documents.models import Document
from courrier.extensions import db
from courrier.statistics import ledger
from courrier.statistics.models import ALL, DailyCount, DurationCount, LetterFacts, MonthlyCount
from courrier.statistics.service import default_period, month_spans, percentile

ROOT = Path(__file__).resolve().parent.parent
URL = "/api/statistiques"


def stats(client, account, expected=200, **query):
    response = client.get(URL, query_string=query, headers=account.headers)
    assert response.status_code == expected, response.json
    return response.json


def typologie(client, admin, code, mode="normal", delai_jours=10):
    response = client.post("/api/typologies", json={"code": code, "nom": f"Typologie {code}", "mode": mode,
                                                    "delai_jours": delai_jours}, headers=admin.headers)
    assert response.status_code == 201, response.json
    return response.json["data"]


def post(client, account, letter, action, **body):
    response = client.post(f"/api/documents/{letter['id']}/{action}", json=body, headers=account.headers)
    assert response.status_code == 200, response.json
    return response.json["data"]


def valid(client, org, **fields):
    return post(client, org.admin, create(client, org.registrar, **fields), "validate")


def codes(rows, key="service"):
    return {(row[key] or {}).get("code"): row for row in rows}


def working_days_ago(days):
    """The day `days` working days before today: a letter received then and treated today took `days`."""
    day = deadlines.paris_today()
    for _ in range(days):
        day -= timedelta(days=1)
        while not deadlines.is_working_day(day):
            day -= timedelta(days=1)
    return day


# ------------------------------------------------------------------ the figures

def test_registrations_are_counted_per_iso_week_and_per_service(client, org):
    for service in (org.fin, org.fin, org.compta, org.rh):
        create(client, org.registrar, service_id=service["id"])
    create(client, org.registrar, type="sortant", service_id=org.fin["id"])
    create(client, org.registrar, type="interne")
    answer = stats(client, org.admin)
    today = date.fromisoformat(answer["meta"]["aujourdhui"])
    week = [w for w in answer["data"]["semaines"] if date.fromisoformat(w["debut"]) == today - timedelta(
        days=today.weekday())]
    assert [(w["entrants"], w["sortants"], w["internes"]) for w in week] == [(4, 1, 1)]
    assert sum(w["entrants"] for w in answer["data"]["semaines"]) == 4
    assert answer["data"]["semaines"][0]["semaine"] == "{0}-S{1:02d}".format(
        *date.fromisoformat(answer["meta"]["periode"]["date_from"]).isocalendar()[:2])
    services = codes(answer["data"]["services"])
    assert {code: (row["entrants"], row["sortants"], row["internes"], row["total"]) for code, row in services.items()} \
        == {"FIN": (2, 1, 0, 3), "COMPTA": (1, 0, 0, 1), "RH": (1, 0, 0, 1), None: (0, 0, 1, 1)}
    # The same letters as the register's list with the same filters.
    listed = client.get("/api/documents", query_string={"type": "entrant", "service_id": org.fin["id"]},
                        headers=org.admin.headers).json["meta"]["total"]
    fin = stats(client, org.admin, type="entrant", service_id=org.fin["id"])["data"]["services"]
    assert [row["total"] for row in fin] == [listed] == [2]


def test_the_default_period_is_the_last_twelve_months_and_a_period_is_kept(client, org):
    assert default_period(date(2026, 3, 15)) == (date(2025, 4, 1), date(2026, 3, 15))
    assert default_period(date(2026, 12, 31)) == (date(2026, 1, 1), date(2026, 12, 31))
    meta = stats(client, org.admin)["meta"]
    today = deadlines.paris_today()
    assert meta["periode"] == {"date_from": default_period(today)[0].isoformat(), "date_to": today.isoformat()}
    assert meta["unite_duree"] == "jours_ouvres"
    create(client, org.registrar, service_id=org.fin["id"])
    tomorrow = (today + timedelta(days=1)).isoformat()
    later = stats(client, org.admin, date_from=tomorrow)
    assert later["meta"]["periode"] == {"date_from": tomorrow, "date_to": tomorrow}
    assert later["data"]["services"] == [] and len(later["data"]["semaines"]) == 1


def test_a_service_with_its_sub_services(client, org):
    for service in (org.dg, org.fin, org.compta, org.rh):
        create(client, org.registrar, service_id=service["id"])
    alone = stats(client, org.admin, service_id=org.fin["id"])["data"]["services"]
    below = stats(client, org.admin, service_id=org.fin["id"], sous_services="true")["data"]["services"]
    tree = stats(client, org.admin, service_id=org.dg["id"], sous_services="true")["data"]["services"]
    assert list(codes(alone)) == ["FIN"]
    assert list(codes(below)) == ["COMPTA", "FIN"]
    assert list(codes(tree)) == ["COMPTA", "DG", "FIN"]


def test_type_and_typologie_filters(client, org):
    permis = typologie(client, org.admin, "PC")
    create(client, org.registrar, service_id=org.fin["id"], typologie_id=permis["id"])
    create(client, org.registrar, service_id=org.fin["id"])
    create(client, org.registrar, type="sortant", service_id=org.fin["id"])
    by_typologie = stats(client, org.admin, typologie_id=permis["id"])["data"]["services"]
    by_type = stats(client, org.admin, type="sortant")["data"]["services"]
    assert [(row["entrants"], row["sortants"]) for row in by_typologie] == [(1, 0)]
    assert [(row["entrants"], row["sortants"]) for row in by_type] == [(0, 1)]


def test_late_letters_per_service_are_those_of_the_late_queue(client, org):
    long_ago = (deadlines.paris_today() - timedelta(days=90)).isoformat()
    for service in (org.fin, org.fin, org.rh):
        valid(client, org, service_id=service["id"], date_reception=long_ago)
    create(client, org.registrar, date_reception=long_ago)  # pending, not routed: late too
    treated = valid(client, org, service_id=org.fin["id"], date_reception=long_ago)
    post(client, org.fin_agent, treated, "traiter")
    rejected = create(client, org.registrar, service_id=org.rh["id"], date_reception=long_ago)
    post(client, org.admin, rejected, "reject", motif="Doublon")
    valid(client, org, service_id=org.rh["id"])  # not late yet
    late = stats(client, org.admin)["data"]["retards"]
    assert {code: row["nombre"] for code, row in codes(late).items()} == {"FIN": 2, "RH": 1, None: 1}
    queue = client.get("/api/bannettes", headers=org.admin.headers).json["data"]
    assert sum(row["nombre"] for row in late) == next(q["count"] for q in queue if q["code"] == "en_retard")


def test_processing_time_percentiles_are_exact_in_working_days(client, org):
    permis = typologie(client, org.admin, "PC")
    # FIN: 10 letters received 0…9 working days ago, treated today; COMPTA: 1, 1, 1, 20.
    for days in range(10):
        letter = valid(client, org, service_id=org.fin["id"], date_reception=working_days_ago(days).isoformat(),
                       typologie_id=permis["id"] if days < 4 else None)
        post(client, org.fin_agent, letter, "traiter")
    for days in (1, 1, 1, 20):
        letter = valid(client, org, service_id=org.compta["id"], date_reception=working_days_ago(days).isoformat())
        post(client, org.admin, letter, "traiter")
    valid(client, org, service_id=org.fin["id"])  # not treated: not counted
    data = stats(client, org.admin)["data"]
    services = {code: (row["nombre"], row["mediane"], row["p90"])
                for code, row in codes(data["delais_services"]).items()}
    # Nearest rank: median of 0…9 is the 5th value (4), p90 the 9th (8); of 1,1,1,20: 1 and 20.
    assert services == {"FIN": (10, 4, 8), "COMPTA": (4, 1, 20)}
    typologies = {code: (row["nombre"], row["mediane"], row["p90"])
                  for code, row in codes(data["delais_typologies"], "typologie").items()}
    assert typologies == {"PC": (4, 1, 3), None: (10, 5, 9)}


def test_percentile_is_the_nearest_rank():
    assert percentile({3: 1}, 0.5) == 3
    assert percentile({0: 1, 1: 1}, 0.5) == 0
    assert percentile({0: 1, 1: 1}, 0.9) == 1
    assert percentile({2: 5, 7: 5}, 0.5) == 2
    assert percentile({2: 5, 7: 5}, 0.51) == 7


def test_working_days_between_counts_like_the_deadlines():
    assert ledger.working_days_between(date(2026, 5, 8), date(2026, 5, 8), None) == 0
    # Friday 8 May 2026 (a holiday) to Monday 11 May: one working day; to Friday 15 (Ascension on 14): 4.
    assert ledger.working_days_between(date(2026, 5, 8), date(2026, 5, 11), None) == 1
    assert ledger.working_days_between(date(2026, 5, 8), date(2026, 5, 15), None) == 4
    start = date(2026, 3, 2)
    for days in range(0, 40, 7):
        assert ledger.working_days_between(start, deadlines.add_working_days(start, days), None) == days


def test_silences_due_in_the_next_ten_working_days(client, org):
    soon = typologie(client, org.admin, "SVA5", "sva", delai_jours=5)
    later = typologie(client, org.admin, "SVR30", "svr", delai_jours=30)
    svr_soon = typologie(client, org.admin, "SVR10", "svr", delai_jours=10)
    normal = typologie(client, org.admin, "N2", delai_jours=2)
    due = valid(client, org, service_id=org.fin["id"], typologie_id=soon["id"])
    due_svr = create(client, org.registrar, service_id=org.rh["id"], typologie_id=svr_soon["id"])  # pending: open
    valid(client, org, service_id=org.fin["id"], typologie_id=later["id"])
    valid(client, org, service_id=org.fin["id"], typologie_id=normal["id"])
    treated = valid(client, org, service_id=org.fin["id"], typologie_id=soon["id"])
    post(client, org.fin_agent, treated, "traiter")
    past = (deadlines.paris_today() - timedelta(days=60)).isoformat()
    valid(client, org, service_id=org.fin["id"], typologie_id=soon["id"], date_reception=past)
    answer = stats(client, org.admin)
    silences = answer["data"]["silences"]
    assert [(row["reference"], row["mode"]) for row in silences] == [(due["reference"], "sva"),
                                                                     (due_svr["reference"], "svr")]
    assert silences[0]["lien"] == f"#/documents/{due['id']}"
    assert silences[0]["echeance"] == due["traitement"]["echeance"]
    assert silences[1]["echeance"] == answer["meta"]["horizon_silences"]
    assert silences[0]["service"]["code"] == "FIN" and silences[0]["typologie"]["code"] == "SVA5"
    assert [row["reference"] for row in stats(client, org.fin_validateur)["data"]["silences"]] == [due["reference"]]


# ------------------------------------------------------------------ who sees what

def test_a_validateur_sees_the_sub_trees_of_their_services(client, org):
    for service in (org.dg, org.fin, org.compta, org.rh):
        create(client, org.registrar, service_id=service["id"])
    create(client, org.registrar)
    assert list(codes(stats(client, org.fin_validateur)["data"]["services"])) == ["COMPTA", "FIN"]
    assert list(codes(stats(client, org.compta_validateur)["data"]["services"])) == ["COMPTA"]
    assert list(codes(stats(client, org.dg_validateur)["data"]["services"])) == ["COMPTA", "DG", "FIN"]
    below = stats(client, org.fin_validateur, service_id=org.compta["id"], sous_services="true")
    assert list(codes(below["data"]["services"])) == ["COMPTA"]


@pytest.mark.parametrize("who,service", [("compta_validateur", "fin"), ("fin_validateur", "rh"),
                                         ("fin_validateur", "dg"), ("rh_validateur", "bc")])
def test_a_service_outside_the_validateurs_sub_trees_is_404(client, org, who, service):
    answer = stats(client, getattr(org, who), 404, service_id=getattr(org, service)["id"])
    assert answer["code"] == "not_found"


def test_an_unknown_service_is_404_for_those_who_see_everything(client, org):
    assert stats(client, org.admin, 404, service_id="inconnu")["code"] == "not_found"


def test_the_mail_office_and_administrateurs_see_every_service(client, org):
    for service in (org.fin, org.rh):
        create(client, org.registrar, service_id=service["id"])
    create(client, org.registrar)
    for account in (org.admin, org.bc_agent):
        assert list(codes(stats(client, account)["data"]["services"])) == ["FIN", "RH", None]
    assert list(codes(stats(client, org.bc_agent, service_id=org.rh["id"])["data"]["services"])) == ["RH"]


@pytest.mark.parametrize("who", ["fin_agent", "registrar", "lone_validateur"])
def test_agents_and_validateurs_without_a_service_are_403(client, org, who):
    assert stats(client, getattr(org, who), 403)["code"] == "forbidden"


# numeriser (scans in bulk, courrier.capture): the mail office and administrateurs, who see every letter.
@pytest.mark.parametrize("who,actions", [("admin", ["piloter", "numeriser"]), ("bc_agent", ["piloter", "numeriser"]),
                                         ("fin_validateur", ["piloter"]), ("fin_agent", []),
                                         ("lone_validateur", []), ("registrar", [])])
def test_me_lists_piloter_for_those_who_may_open_the_dashboard(client, org, who, actions):
    me = client.get("/api/auth/me", headers=getattr(org, who).headers).json["data"]
    assert me["actions"] == actions


def test_the_dashboard_needs_a_session(client):
    assert client.get(URL).status_code == 401


@pytest.mark.parametrize("query,field", [
    ({"date_from": "2026-13-01"}, "date_from"),
    ({"date_from": "2026-06-02", "date_to": "2026-06-01"}, "date_to"),
    ({"date_from": "2010-01-01", "date_to": "2026-01-01"}, "date_from"),
    ({"type": "colis"}, "type"),
    ({"service_id": "x" * 37}, "service_id"),
    ({"sous_services": "peut-être"}, "sous_services"),
    ({"format": "xlsx"}, "format"),
    ({"format": "csv"}, "tableau"),
    ({"format": "csv", "tableau": "camembert"}, "tableau"),
])
def test_bad_filters_are_422_in_french(client, org, query, field):
    answer = stats(client, org.admin, 422, **query)
    assert answer["code"] == "validation_error" and field in answer["errors"]
    message = " ".join(answer["errors"][field])
    assert any(word in message for word in ("Date", "période", "valeurs", "Champ", "Doit", "Choisissez", "booléen"))


# ------------------------------------------------------------------ CSV

def test_each_table_exports_as_csv_with_cells_guarded(client, org):
    create(client, org.registrar, service_id=org.fin["id"])
    response = client.get(URL, query_string={"format": "csv", "tableau": "services"}, headers=org.admin.headers)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.headers["Content-Disposition"].startswith('attachment; filename="statistiques-services-')
    lines = response.get_data(as_text=True).removeprefix("\ufeff").splitlines()
    assert lines[0] == "Service;Entrants;Sortants;Internes;Total"
    assert "FIN — Service FIN;1;0;0;1" in lines
    for name in ("semaines", "retards", "delais_services", "delais_typologies", "silences"):
        exported = client.get(URL, query_string={"format": "csv", "tableau": name}, headers=org.admin.headers)
        assert exported.status_code == 200 and exported.get_data(as_text=True).startswith("\ufeff")


def test_a_csv_cell_starting_with_a_formula_is_written_as_text(client, org):
    letter = create(client, org.registrar, service_id=org.fin["id"], objet="=1+1",
                    typologie_id=typologie(client, org.admin, "SV", "sva", 3)["id"])
    response = client.get(URL, query_string={"format": "csv", "tableau": "silences"}, headers=org.admin.headers)
    row = response.get_data(as_text=True).splitlines()[1]
    assert row.startswith(f"{letter['reference']};'=1+1;SVA;")


# ------------------------------------------------------------------ the aggregates stay exact

def aggregates(app):
    with app.app_context():
        tables = {}
        for model in (DailyCount, MonthlyCount, DurationCount):
            table = model.__table__
            tables[model.__tablename__] = {tuple(row[:-1]): row[-1] for row in db.session.execute(
                select(table).where(table.c.nombre != 0))}
        tables["ledger"] = set(db.session.execute(select(LetterFacts.__table__)).all())
        db.session.remove()
        return tables


def rebuilt(app):
    with app.app_context():
        ledger.rebuild(db.session)
        db.session.commit()
        db.session.remove()
    return aggregates(app)


def test_aggregates_equal_a_recount_after_random_actions(app, client, auth, org):
    rng = random.Random(23)
    second_admin = auth.account("administrateur")  # validates the replies the first one registers
    kinds = [typologie(client, org.admin, code, mode)["id"] for code, mode in (("A", "normal"), ("B", "sva"))]
    services = [org.fin, org.compta, org.rh, org.dg]
    letters = []
    for _ in range(70):
        action = rng.choice(("register", "register", "register", "route", "correct", "decide", "decide", "treat",
                             "treat", "reopen", "reply"))
        pending = [d for d in letters if d["statut"] == "en_attente"]
        routed = [d for d in letters if d["statut"] == "valide" and d["service"]]
        if action == "register" or not letters:
            fields = {"date_reception": working_days_ago(rng.randrange(0, 30)).isoformat()}
            if rng.random() < 0.6:
                fields["service_id"] = rng.choice(services)["id"]
            if rng.random() < 0.5:
                fields["typologie_id"] = rng.choice(kinds)
            letters.append(create(client, org.registrar, type=rng.choice(("entrant", "entrant", "sortant")), **fields))
        elif action == "route":
            letter = rng.choice([d for d in letters if d["statut"] != "rejete"] or letters)
            response = client.post(f"/api/documents/{letter['id']}/assign", headers=org.admin.headers,
                                   json={"service_id": rng.choice(services)["id"]})
            if response.status_code == 200:
                letters[letters.index(letter)] = response.json["data"]
        elif action == "correct" and pending:
            letter = rng.choice(pending)
            body = {"typologie_id": rng.choice(kinds + [None]),
                    "date_reception": working_days_ago(rng.randrange(0, 30)).isoformat()}
            response = client.patch(f"/api/documents/{letter['id']}", json=body, headers=org.admin.headers)
            letters[letters.index(letter)] = response.json["data"]
        elif action == "decide" and pending:
            letter = rng.choice(pending)
            decision = rng.choice(("validate", "validate", "reject"))
            letters[letters.index(letter)] = post(client, org.admin, letter, decision, motif="Non")
        elif action == "treat" and routed:
            letter = rng.choice(routed)
            response = client.post(f"/api/documents/{letter['id']}/traiter", json={}, headers=org.admin.headers)
            if response.status_code == 200:
                letters[letters.index(letter)] = response.json["data"]
        elif action == "reopen" and routed:
            letter = rng.choice(routed)
            response = client.post(f"/api/documents/{letter['id']}/rouvrir", json={"motif": "Incomplet"},
                                   headers=org.admin.headers)
            if response.status_code == 200:
                letters[letters.index(letter)] = response.json["data"]
        elif action == "reply" and routed:
            letter = rng.choice([d for d in routed if d["type"] == "entrant"] or routed)
            response = client.post(f"/api/documents/{letter['id']}/reponses", json={}, headers=org.admin.headers)
            if response.status_code == 201:
                reply = response.json["data"]
                letters.append(post(client, second_admin, reply, "validate"))  # treats the letter
    with app.app_context():
        treated = db.session.scalar(select(db.func.count()).where(Document.traitement_etat == "traite"))
        db.session.remove()
    assert treated > 0
    kept = aggregates(app)
    every = {key: n for key, n in kept["statistiques_jours"].items() if key[:2] == (ALL, ALL)}
    assert sum(every.values()) == len(letters)
    assert kept == rebuilt(app)


def test_periods_cutting_months_read_the_days_at_their_edges(app, client, org):
    today = deadlines.paris_today()
    days = [today - timedelta(days=n) for n in (0, 3, 20, 45, 70, 100)]
    for day in days:
        letter = valid(client, org, service_id=org.fin["id"],
                       date_reception=(day - timedelta(days=10)).isoformat())
        post(client, org.fin_agent, letter, "traiter")
        with app.app_context():
            db.session.execute(update(Document).where(Document.id == letter["id"]).values(
                traite_at=datetime.combine(day, time(12), deadlines.PARIS)))
            db.session.commit()
            db.session.remove()
    rebuilt(app)
    periods = [(days[-1], today), (days[3], days[1]), (days[2], days[2]),
               (days[4] + timedelta(days=1), days[1] - timedelta(days=1))]
    for start, end in periods:
        answer = stats(client, org.admin, date_from=start.isoformat(), date_to=end.isoformat())
        expected = sum(start <= day <= end for day in days)
        assert sum(row["nombre"] for row in answer["data"]["delais_services"]) == expected, (start, end)


def test_month_spans_split_a_period_into_whole_months_and_edges():
    today = date(2026, 6, 17)
    assert month_spans(date(2025, 7, 1), today, today) == (
        [date(2025, m, 1) for m in range(7, 13)] + [date(2026, m, 1) for m in range(1, 7)], [])
    assert month_spans(date(2026, 2, 10), date(2026, 4, 5), today) == (
        [date(2026, 3, 1)], [(date(2026, 2, 10), date(2026, 2, 28)), (date(2026, 4, 1), date(2026, 4, 5))])
    assert month_spans(date(2026, 5, 1), date(2026, 5, 31), today) == ([date(2026, 5, 1)], [])


# ------------------------------------------------------------------ the migration, the vendored chart library

def test_the_migration_counts_the_letters_already_registered(tmp_path, scratch_database_url):
    from flask_migrate import upgrade

    app = create_app({**base_config(tmp_path), "SQLALCHEMY_DATABASE_URI": scratch_database_url})
    register_migrations(app)
    try:
        with app.app_context():
            if TEST_DATABASE_URL:
                db.session.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
                db.session.commit()
            upgrade(revision="7a1c0de0a004")
            db.session.execute(text(
                "INSERT INTO users (id, email, password_hash, nom, prenom, role, is_active, created_at, updated_at) "
                "VALUES ('u-old', 'ancien@example.fr', 'x', 'Ancien', 'Agent', 'agent', true, :now, :now)"),
                {"now": "2026-11-02 10:00:00"})
            db.session.execute(text(
                "INSERT INTO documents (id, reference, type, objet, expediteur, destinataire, priorite, statut, "
                "created_by_id, created_at, updated_at, date_reception, traitement_etat, traite_at) VALUES "
                "('d-old', 'ENT-2026-000001', 'entrant', 'Raccordement', 'Mairie', 'Préfecture', 'normale', 'valide',"
                " 'u-old', :now, :now, '2026-11-02', 'traite', '2026-11-06 10:00:00')"), {"now": "2026-11-02 10:00:00"})
            db.session.commit()
            upgrade()
            facts = db.session.execute(select(LetterFacts.__table__)).one()
            assert (facts.jour, facts.jour_traite, facts.duree) == (date(2026, 11, 2), date(2026, 11, 6), 4)
            # Counted under its own keys and under ALL services, ALL typologies, both: four rows of one letter.
            for model in (DailyCount, MonthlyCount, DurationCount):
                assert db.session.execute(select(model.__table__.c.nombre)).scalars().all() == [1, 1, 1, 1]
            assert set(db.session.execute(select(DurationCount.__table__.c.mois)).scalars()) == {date(2026, 11, 1)}
        client = app.test_client()
        admin = AuthActions(app, client).account("administrateur")
        answer = client.get(URL, query_string={"date_from": "2026-11-01", "date_to": "2026-11-30"},
                            headers=admin.headers).json["data"]
        assert [(row["nombre"], row["mediane"]) for row in answer["delais_services"]] == [(1, 4)]
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def test_the_vendored_chart_library_is_the_installed_one():
    installed = ROOT / "node_modules" / "chart.js" / "dist" / "chart.umd.js"
    vendored = ROOT / "courrier" / "web" / "static" / "vendor" / "chart.umd.js"
    assert vendored.is_file()
    if not installed.is_file():
        pytest.skip("node_modules/chart.js is not installed (npm ci)")
    assert filecmp.cmp(installed, vendored, shallow=False)
