"""Security headers on every answer, and the one rule for redirect targets taken from a request.

``register_security(app)`` installs an ``after_request`` hook that gives every answer (pages,
API, static files, error pages) ``X-Content-Type-Options``, ``X-Frame-Options``,
``Referrer-Policy`` and a ``Content-Security-Policy``:

* pages: scripts, styles, fetches and forms only from this site, no inline script or style,
  no plugins, never framed. Pages run their scripts from ``mall/static/js`` and pass data in
  ``data-`` attributes.
* a page that shows the card form or the 3-D Secure box loads Stripe.js through the template
  global ``stripe_js_url()``; calling it opens the policy to Stripe (``js.stripe.com``, its
  frames and ``api.stripe.com``) for that answer only. With localstripe (dev and tests) the
  stand-in script and its API share the ``STRIPE_API_BASE`` origin.
* everything else (JSON, CSV, files): ``default-src 'none'``.

A view may set its own ``Content-Security-Policy`` (the stored contract documents do, see
``stored_document_policy``); the hook leaves it alone.
"""

from __future__ import annotations

import base64
import hashlib
import re
from urllib.parse import urlsplit

from flask import Flask, Response, current_app, g

REAL_STRIPE_JS = "https://js.stripe.com/v3/"
# https://docs.stripe.com/security/guide#content-security-policy (no Google Maps: no address
# autocomplete here).
REAL_STRIPE = {
    "script-src": ("https://js.stripe.com", "https://*.js.stripe.com"),
    "frame-src": ("https://js.stripe.com", "https://*.js.stripe.com", "https://hooks.stripe.com"),
    "connect-src": ("https://api.stripe.com",),
    "img-src": ("https://*.stripe.com",),
}
PAGE_POLICY = {
    "default-src": ("'self'",),
    "script-src": ("'self'",),
    "style-src": ("'self'",),
    "img-src": ("'self'",),
    "font-src": ("'self'",),
    "connect-src": ("'self'",),
    "frame-src": ("'none'",),
    "object-src": ("'none'",),
    "base-uri": ("'none'",),
    "form-action": ("'self'",),
    "frame-ancestors": ("'none'",),
}
# JSON, CSV, images, stylesheets, scripts: nothing in them may load or run anything.
OTHER_POLICY = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
# A PDF is shown by the browser's own viewer, which a restrictive policy on the PDF can block:
# it only must never be framed by another site.
PDF_POLICY = "frame-ancestors 'none'"
STYLE_BLOCK = re.compile(r"<style\b[^>]*>(.*?)</style\s*>", re.IGNORECASE | re.DOTALL)
CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def register_security(app: Flask) -> None:
    """Install the security headers hook and the ``stripe_js_url()`` template global."""
    app.after_request(add_security_headers)
    app.jinja_env.globals["stripe_js_url"] = stripe_js_url


def add_security_headers(response: Response) -> Response:
    """The headers every answer carries; a policy a view already set is kept."""
    headers = response.headers
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
    if "Content-Security-Policy" not in headers:
        if response.mimetype == "text/html":
            policy = page_policy(stripe=bool(g.get("csp_stripe")))
        elif response.mimetype == "application/pdf":
            policy = PDF_POLICY
        else:
            policy = OTHER_POLICY
        headers["Content-Security-Policy"] = policy
    return response


def page_policy(*, stripe: bool = False) -> str:
    """The policy of an HTML page, opened to Stripe when the page loads Stripe.js."""
    directives = {name: list(sources) for name, sources in PAGE_POLICY.items()}
    if stripe:
        for name, sources in _stripe_sources().items():
            directives[name] = [s for s in directives[name] if s != "'none'"] + list(sources)
    return "; ".join(f"{name} {' '.join(sources)}" for name, sources in directives.items())


def stripe_js_url() -> str:
    """The Stripe.js URL from the STRIPE settings; this answer's policy then allows Stripe."""
    g.csp_stripe = True
    base = _stripe_api_base()
    if not base or "api.stripe.com" in base:
        return REAL_STRIPE_JS
    return base + "/js.stripe.com/v3/"  # localstripe serves its Stripe.js stand-in there


def _stripe_api_base() -> str:
    return (current_app.config.get("STRIPE_API_BASE") or "").rstrip("/")


def _stripe_sources() -> dict[str, tuple[str, ...]]:
    base = _stripe_api_base()
    if not base or "api.stripe.com" in base:
        return REAL_STRIPE
    parts = urlsplit(base)
    origin = f"{parts.scheme}://{parts.netloc}"  # localstripe: script and API on one origin
    return {"script-src": (origin,), "connect-src": (origin,)}


def stored_document_policy(html: str) -> str:
    """The policy of a stored HTML document (a contract): nothing but its own style blocks.

    The document is fingerprinted and cannot change, so its ``<style>`` blocks are allowed
    by their hashes rather than moved to a file.
    """
    hashes = []
    for block in STYLE_BLOCK.findall(html):
        digest = hashlib.sha256(block.replace("\r\n", "\n").encode()).digest()
        hashes.append(f"'sha256-{base64.b64encode(digest).decode()}'")
    style = " ".join(dict.fromkeys(hashes)) or "'none'"
    return (f"default-src 'none'; style-src {style}; frame-ancestors 'none'; "
            "base-uri 'none'; form-action 'none'")


def safe_next(target: str | None, default: str) -> str:
    """``target`` when it is a path on this site, else ``default``.

    Every redirect to a place named by the request (``next=``, ``back=``) goes through here.
    Only a path starting with one ``/`` passes: ``//host``, ``/\\host`` (browsers read a
    backslash as a slash), a scheme (``https:``, ``javascript:``), a host or a control
    character (browsers drop tabs and newlines, turning ``/\\t/host`` into ``//host``) fall
    back to ``default``.
    """
    if not isinstance(target, str) or not target.startswith("/") or target.startswith("//"):
        return default
    if "\\" in target or CONTROL.search(target):
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return default
    return target
