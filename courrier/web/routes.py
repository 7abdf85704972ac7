"""Serve the SPA shell and its static assets under a strict Content-Security-Policy."""

import mimetypes

from flask import Blueprint, Response

# pdf.js ships ES modules as .mjs: a module script must come with a JavaScript type (nosniff), which Python
# before 3.12 does not know for .mjs unless the system's mime.types says it.
mimetypes.add_type("text/javascript", ".mjs")

blp = Blueprint("web", __name__, static_folder="static", static_url_path="/static")

# No inline script or style, nothing from another origin, no plugins, no framing, and Trusted Types
# enforced so that an accidental ``innerHTML = …`` throws instead of injecting markup.
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        # blob: for the MFA QR code, an SVG the API returns and the client shows as an image (never parsed).
        "img-src 'self' blob:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "require-trusted-types-for 'script'",
        "trusted-types 'none'",
    )
)


@blp.get("/")
def index() -> Response:
    """Return the application shell; the browser revalidates it on every visit."""
    response = blp.send_static_file("index.html")
    response.headers["Cache-Control"] = "no-cache"
    return response


@blp.after_request
def set_security_headers(response: Response) -> Response:
    """Put the CSP (and the usual hardening headers, unless already set) on every web response."""
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "no-referrer")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    return response
