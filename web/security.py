"""Security headers on every response: a strict Content-Security-Policy and the standard four.

Scripts: only this origin's files plus the exact inline scripts Dash writes into its index page
(the renderer bootstrap and any inline clientside callbacks), allowed by their SHA-256 hashes from
``dash.Dash.csp_hashes()``. No ``'unsafe-inline'`` and no ``'unsafe-eval'`` for scripts, so markup
smuggled into the page by data (a unit named ``<img onerror=…>``) cannot run even if some
renderer forgot to escape it. Styles allow ``'unsafe-inline'``: Leaflet, Plotly and React set
style attributes and ``<style>`` elements at run time; a style cannot run script.

Images may also come from ``ONEMAP_TILE_URL``'s origin (an intranet tile server), and ``data:``/
``blob:`` (Leaflet and Plotly draw icons that way). ``frame-ancestors 'none'`` plus
``X-Frame-Options: DENY`` keep every page out of frames (no click-jacking of the wall or the
dispatch buttons).

``install_security(server)`` once in ``create_app``; the Dash app is found in
``server.extensions["onemap_dash"]`` when the dashboard put it there, else its hashes are read
from the ``_dash-renderer`` script Dash would write (``DashRenderer`` bootstrap) on first use.
"""
from __future__ import annotations

import base64
import hashlib
from urllib.parse import urlsplit

from flask import Flask, Response, current_app, request

from config import Settings

EXTENSION = "onemap_security"
STANDARD_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=(), usb=()",
}
# The field app (/field/) is the one page that reads the phone's position: geolocation for this
# origin only. Photos come from a file input (the system camera), which needs no camera permission.
FIELD_PREFIX = "/field/"
FIELD_PERMISSIONS = "camera=(), microphone=(), geolocation=(self), payment=(), usb=()"


def _tile_origin() -> str | None:
    """The origin of ``ONEMAP_TILE_URL`` (a tile template), when it names one."""
    url = Settings().tile_url or ""
    parts = urlsplit(url.replace("{", "").replace("}", ""))
    if parts.scheme in ("http", "https") and parts.hostname:
        return f"{parts.scheme}://{parts.netloc}"
    return None


def script_hashes(server: Flask) -> list[str]:
    """The CSP hash sources of the inline scripts Dash writes (computed once, after callbacks exist)."""
    state = server.extensions[EXTENSION]
    if state["hashes"] is None:
        dash_app = server.extensions.get("onemap_dash")
        if dash_app is not None:
            state["hashes"] = list(dash_app.csp_hashes())
        else:
            renderer = "var renderer = new DashRenderer();"
            digest = base64.b64encode(hashlib.sha256(renderer.encode()).digest()).decode()
            state["hashes"] = [f"'sha256-{digest}'"]
    return state["hashes"]


def content_security_policy(server: Flask) -> str:
    """The policy string sent with every response of ``server``."""
    images = ["'self'", "data:", "blob:"]
    tiles = _tile_origin()
    if tiles:
        images.append(tiles)
    directives = {
        "default-src": ["'self'"],
        "script-src": ["'self'", *script_hashes(server)],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": images,
        "font-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "worker-src": ["'self'", "blob:"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
    return "; ".join(f"{k} {' '.join(v)}" for k, v in directives.items())


def _headers(response: Response) -> Response:
    """after_request: the CSP and the standard headers, unless a view set its own stricter ones."""
    server = current_app._get_current_object()  # type: ignore[attr-defined]
    state = server.extensions[EXTENSION]
    if state["policy"] is None:
        state["policy"] = content_security_policy(server)
    response.headers.setdefault("Content-Security-Policy", state["policy"])
    if request.path.startswith(FIELD_PREFIX):
        response.headers.setdefault("Permissions-Policy", FIELD_PERMISSIONS)
    for name, value in STANDARD_HEADERS.items():
        response.headers.setdefault(name, value)
    return response


def install_security(server: Flask) -> None:
    """Send the security headers on every response of ``server`` (pages, API, files, errors)."""
    server.extensions[EXTENSION] = {"hashes": None, "policy": None}
    server.after_request(_headers)
