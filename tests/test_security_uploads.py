"""Photo uploads are decoded and re-encoded, bounded, and served as exactly an image."""
from __future__ import annotations

import io
import struct
import uuid
import zlib
from datetime import datetime, timedelta, timezone

import pytest
from PIL import Image

from data.incidents import PHOTO_MAX_COUNT
from data.users import issue_token
from db.core import connect
from tests.conftest import scalar
from tests.security_http import Client, bearer

SEAT = (107.4751, 38.1798)  # the banner seat, in 敖勒召其镇


@pytest.fixture(scope="module")
def token(demo_dsn):
    conn = connect(demo_dsn)
    out = issue_token(conn, "demo-admin", "uploads-test")
    conn.commit()
    conn.close()
    return out


@pytest.fixture
def incident(demo_server, token):
    """A fresh incident to attach photos to."""
    observed = (datetime.now(timezone.utc) - timedelta(minutes=3)).isoformat()
    body = {"id": str(uuid.uuid4()), "category": "public_order", "lon": SEAT[0], "lat": SEAT[1],
            "description": "photo test", "observed_at": observed}
    reply = Client(demo_server).request("POST", "/api/v1/incidents", body=body, headers=bearer(token))
    assert reply.status in (200, 201), reply.text
    return reply.json()["id"]


def _png(size=(40, 30), color=(10, 120, 200)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, color).save(buf, "PNG")
    return buf.getvalue()


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _png_header_only(width: int, height: int) -> bytes:
    """A PNG that claims width × height (a decompression bomb's header) with a tiny body."""
    return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + _chunk(b"IDAT", zlib.compress(b"\0" * 1024)) + _chunk(b"IEND", b""))


def _post(server, token, incident, data: bytes, content_type="image/png"):
    return Client(server).request("POST", f"/api/v1/incidents/{incident}/photos", body=data,
                                  headers={**bearer(token), "Content-Type": content_type})


@pytest.mark.parametrize("name,data,status,code", [
    ("html after a PNG signature", b"\x89PNG\r\n\x1a\n<html><script>alert(1)</script></html>", 422, "not_an_image"),
    ("html", b"<html><img src=x onerror=alert(1)></html>", 422, "not_an_image"),
    ("50,000 x 50,000 pixels", _png_header_only(50_000, 50_000), 422, "image_too_large"),
    ("15,000 px wide", _png_header_only(15_000, 10), 422, "image_too_large"),
    ("truncated", _png()[:60], 422, "not_an_image"),
    ("empty", b"", 422, None),
])
def test_bad_uploads_are_refused_by_name(demo_server, token, incident, name, data, status, code):
    reply = _post(demo_server, token, incident, data)
    assert reply.status == status, (name, reply.text)
    if code:
        assert reply.json()["error"]["code"] == code, name


def test_a_large_body_is_refused_unread(demo_server, token, incident):
    reply = _post(demo_server, token, incident, b"\xff\xd8\xff" + b"0" * (11 * 1024 * 1024), "image/jpeg")
    assert reply.status == 413


def test_what_is_stored_is_re_encoded_and_served_as_an_image(demo_server, demo_dsn, token, incident):
    # a real PNG followed by HTML (a polyglot), and a JPEG carrying EXIF with a GPS position
    polyglot = _png() + b"<html><script>alert(1)</script></html>"
    stored = _post(demo_server, token, incident, polyglot)
    assert stored.status == 201, stored.text
    photo = stored.json()
    served = Client(demo_server).get(f"/api/v1/incidents/{incident}/photos/{photo['id']}", headers=bearer(token))
    assert served.status == 200 and served.headers["Content-Type"] == "image/png"
    assert served.headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in served.headers["Content-Security-Policy"]
    assert b"<script" not in served.body and b"<html" not in served.body
    assert Image.open(io.BytesIO(served.body)).size == (40, 30)

    exif = Image.Exif()
    exif[0x010F] = "CameraMaker"  # Make
    exif[0x8825] = {1: "N", 2: (38.0, 10.0, 0.0), 3: "E", 4: (107.0, 28.0, 0.0)}  # GPS
    buf = io.BytesIO()
    Image.new("RGB", (6000, 4000), (90, 90, 90)).save(buf, "JPEG", exif=exif)
    reply = _post(demo_server, token, incident, buf.getvalue(), "image/jpeg")
    assert reply.status == 201, reply.text
    assert (reply.json()["width"], reply.json()["height"]) == (4096, 2731)  # scaled to 4096 a side
    data = bytes(scalar(demo_dsn, "SELECT data FROM incident_photo WHERE id = %s", (reply.json()["id"],)))
    assert not Image.open(io.BytesIO(data)).getexif()  # no position, no camera
    assert b"CameraMaker" not in data


def test_a_per_incident_quota(demo_server, token, incident):
    for i in range(PHOTO_MAX_COUNT):
        assert _post(demo_server, token, incident, _png(color=(i, 0, 0))).status == 201
    over = _post(demo_server, token, incident, _png(color=(255, 255, 0)))
    assert over.status == 409 and over.json()["error"]["code"] == "photo_quota"
