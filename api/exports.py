"""Exports over HTTP at /api/exports: count before download, start a background job, poll it,
fetch the file. Only the user who started a job can see it or download it."""
from __future__ import annotations

from flask import Blueprint, current_app, jsonify, request, send_file
from werkzeug.exceptions import Unauthorized

from api import models as m
from api.openapi import documented
from exports import service as ex
from layers.base import LayerError, Query, parse_bbox, parse_time, split
from web.auth import current_actor, require_actor
from web.errors import error_body
from web.params import region_tz

ROLES = ("admin", "dispatcher", "leader", "analyst", "department")


def request_from(body: object, tz: str) -> ex.ExportRequest:
    """An ``ExportRequest`` from JSON: layers, format, crs, and filters since/until/categories/states/unit/bbox;
    plain dates are days in ``tz`` (the region's zone)."""
    if not isinstance(body, dict):
        raise LayerError("send a JSON object")
    layers = body.get("layers")
    if isinstance(layers, str):
        layers = split(layers)
    if not isinstance(layers, (list, tuple)) or not layers or not all(isinstance(n, str) for n in layers):
        raise LayerError("layers: a list of layer names")
    for key in ("format", "crs", "unit"):
        if body.get(key) is not None and not isinstance(body.get(key), str):
            raise LayerError(f"{key}: a string")
    bbox = body.get("bbox")
    if bbox is not None and not isinstance(bbox, (str, list)):
        raise LayerError("bbox: west,south,east,north (a string or four numbers)")
    query = Query(since=parse_time(body.get("since"), "since", tz), until=parse_time(body.get("until"), "until", tz),
                  categories=split(body.get("categories")), states=split(body.get("states")),
                  unit=body.get("unit") or None, bbox=parse_bbox(bbox))
    return ex.ExportRequest(tuple(layers), body.get("format") or "gpkg", body.get("crs") or "EPSG:4490", query)


def _request() -> ex.ExportRequest:
    actor = current_actor()
    if actor is None:  # the views ask require_actor first; this is for any other caller
        raise Unauthorized("sign in first")
    return request_from(request.get_json(silent=True), region_tz(current_app.config["ONEMAP_DSN"], actor.region_code))


def create_blueprint() -> Blueprint:
    """The /api/exports blueprint."""
    bp = Blueprint("exports", __name__, url_prefix="/api/exports")
    # the server's export workers start with it: queued jobs left by a restart run without waiting
    # for a new request (exports.queue; again after a fork, on first use)
    bp.record_once(lambda state: _start_queue(state.app.config.get("ONEMAP_DSN")))

    @bp.errorhandler(LayerError)
    def layer_error(exc: LayerError):
        return error_body(exc.status, type(exc).__name__, str(exc))

    def dsn() -> str:
        return current_app.config["ONEMAP_DSN"]

    @bp.post("/plan")
    @documented(json=m.ExportIn, ok=(200, m.ExportPlan), errors=(400, 401, 403, 404))
    @require_actor(ROLES)
    def plan():
        """Count what an export would write, per layer, before running it."""
        req = _request()
        counts = ex.plan(dsn(), current_actor(), req)
        return jsonify({"counts": counts, "total": sum(counts.values()), "file": req.validated().filename()})

    @bp.post("")
    @documented(json=m.ExportIn, ok=(202, m.ExportJob), errors=(400, 401, 403, 404, 429))
    @require_actor(ROLES)
    def start():
        """Start an export in the background; poll ``status_url``."""
        job_id = ex.start(dsn(), current_actor(), _request())
        response = jsonify({"id": job_id, "status_url": f"/api/exports/{job_id}"})
        response.status_code = 202
        return response

    @bp.get("/<job_id>")
    @documented(ok=(200, m.ExportJob), errors=(401, 403, 404))
    @require_actor(ROLES)
    def status(job_id: str):
        """An export job of yours: its state and progress, and ``file_url`` when done."""
        from exports import jobs

        job = jobs.get(dsn(), current_actor(), job_id)
        if job is None:
            return error_body(404, "not_found", "no such export of yours")
        return jsonify(_described(job))

    @bp.get("/<job_id>/file")
    @documented(errors=(401, 403, 404))
    @require_actor(ROLES)
    def download(job_id: str):
        """The finished file of an export of yours."""
        path = ex.job_file(dsn(), current_actor(), job_id)
        if path is None:
            from exports import jobs

            job = jobs.get(dsn(), current_actor(), job_id)
            if job is not None and job["state"] == "expired":
                return error_body(410, "expired", "this export's file was deleted after its time to keep it; "
                                  "start the export again")
            return error_body(404, "not_found", "no finished export of yours with that id")
        return send_file(path, as_attachment=True, download_name=path.name)

    return bp


def _described(job: dict) -> dict:
    """A job row for the API: the file's URL when done, its place when queued, why when expired."""
    if job["state"] == "done":
        job["file_url"] = f"/api/exports/{job['id']}/file"
    elif job["state"] == "queued":
        job["message"] = f"waiting: number {job['position']} in the queue"
    elif job["state"] == "expired":
        job["message"] = "the file was deleted when its time to keep it ran out; start the export again"
    return job


def _start_queue(dsn: str | None) -> None:
    """Start this process's export dispatcher for ``dsn`` (nothing without a database)."""
    if dsn:
        from exports import queue

        queue.ensure(dsn)
