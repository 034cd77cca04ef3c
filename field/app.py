"""Serves the field app's static shell at /field/ (HTML, JS, CSS, icons, manifest, service worker).

The shell is public (it holds no data): the app signs in with ``POST /api/v1/field/login`` and
sends its field token with every API call. The service worker is served from /field/sw.js, so its
scope is /field/ and it never sees the command map's requests.
"""
from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

from flask import Blueprint, Response, redirect, send_from_directory

from i18n import catalogue

STATIC = Path(__file__).resolve().parent / "static"
PREFIX = "field."  # the catalogues' entries for the field app
TYPES = {".webmanifest": "application/manifest+json", ".js": "text/javascript; charset=utf-8"}


def create_blueprint() -> Blueprint:
    """The /field/ blueprint."""
    bp = Blueprint("field", __name__)

    @bp.get("/field")
    def bare():
        return redirect("/field/", code=308)

    @bp.get("/field/")
    def index():
        return _file("index.html", no_cache=True)

    @bp.get("/field/i18n.js")
    def words():
        return Response(words_script(), mimetype="text/javascript", headers={"Cache-Control": "no-cache"})

    @bp.get("/field/<path:name>")
    def asset(name: str):
        return _file(name, no_cache=name in ("sw.js", "manifest.webmanifest"))

    return bp


@lru_cache(maxsize=1)
def words_script() -> str:
    """The field app's words (the ``field.*`` entries of the gettext catalogues) as the script the
    app reads them from: one catalogue for every surface, a plain file for the phone's cache."""
    table = {lang: {key.removeprefix(PREFIX): text for key, text in catalogue(lang).items() if key.startswith(PREFIX)}
             for lang in ("zh", "en")}
    return ("/* The field app's words, from the field.* entries of i18n/<locale>/LC_MESSAGES/*.po. */\n"
            f'"use strict";\nwindow.FieldI18n = {json.dumps(table, ensure_ascii=False, sort_keys=True)};\n')


def _file(name: str, no_cache: bool = False):
    """A file of the shell; the service worker caches the shell itself, so the HTTP cache may not
    keep an old ``index.html``/``sw.js`` alive past an update."""
    response = send_from_directory(STATIC, name, max_age=0 if no_cache else 3600)
    suffix = Path(name).suffix
    if suffix in TYPES:
        response.headers["Content-Type"] = TYPES[suffix]
    if no_cache:
        response.headers["Cache-Control"] = "no-cache"
    if name == "sw.js":
        response.headers["Service-Worker-Allowed"] = "/field/"
    return response
