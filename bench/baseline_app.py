"""The stateless baseline: GET /api/auth/me answered from the JWT claims alone (no database).

What the real app is measured against (issue 7): flask-jwt-extended verifies the HS256 token, the
user dict comes from its claims, and the answer has the same envelope and the same security headers
as courrier's. Served by `gunicorn bench.baseline_app:app` with the same settings as the real app;
the secret comes from `JWT_SECRET_KEY`, shared with the harness that mints the token.
"""
import os
from datetime import timedelta

from flask import Flask, jsonify
from flask_jwt_extended import JWTManager, create_access_token, get_jwt, jwt_required

USER_CLAIMS = ("email", "nom", "prenom", "contact", "role", "is_active", "created_at")


def _error(code, message, status):
    response = jsonify(success=False, code=code, message=message)
    response.status_code = status
    return response


def create_app(secret=None):
    app = Flask(__name__)
    app.config.update(
        JWT_SECRET_KEY=secret or os.environ["JWT_SECRET_KEY"],
        JWT_ALGORITHM="HS256",
        JWT_DECODE_ALGORITHMS=["HS256"],
        JWT_TOKEN_LOCATION=["headers"],
        JWT_IDENTITY_CLAIM="userId",
    )
    jwt = JWTManager(app)
    jwt.unauthorized_loader(lambda reason: _error("token_missing", "Authentification requise.", 401))
    jwt.invalid_token_loader(lambda reason: _error("token_invalid", "Jeton invalide.", 401))
    jwt.expired_token_loader(lambda header, payload: _error("token_expired", "Jeton expiré.", 401))

    @app.get("/api/auth/me")
    @jwt_required()
    def me():
        claims = get_jwt()
        user = {"id": claims["userId"], **{name: claims.get(name) for name in USER_CLAIMS}}
        return jsonify(success=True, data=user)

    @app.get("/api/health")
    def health():
        return jsonify(success=True, data={"status": "ok"})

    @app.after_request
    def headers(response):
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["Cache-Control"] = "no-store"
        return response

    return app


def mint_token(secret, user):
    """An access token for the baseline, carrying `user` (the real app's /me payload) as claims."""
    app = create_app(secret)
    with app.app_context():
        return create_access_token(identity=user["id"],
                                   additional_claims={name: user.get(name) for name in USER_CLAIMS},
                                   expires_delta=timedelta(hours=12))


app = create_app() if os.environ.get("JWT_SECRET_KEY") else None
