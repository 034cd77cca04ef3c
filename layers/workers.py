"""Grid workers' latest GPS positions (the map's workers, exports, OGC): live positions are a class
of their own in ``domain.policy`` (no rows for a read-only wall); names and phones are masked for
the roles that do not see staff names or phones."""
from __future__ import annotations

from domain.policy import POSITION, STAFF_NAME, STAFF_PHONE
from layers.base import Field, Layer

WORKER_POSITIONS = Layer("worker_positions", "网格员位置", "Grid worker positions",
                         "layer_worker_positions", "Point", (
    Field("worker", "网格员编号", "worker"),
    # the map gets codes only: names and phones are for exports and the OGC API (masked per role)
    Field("worker_name", "姓名", "name", personal="name", cls=STAFF_NAME, map=False),
    Field("phone", "电话", "phone", personal="phone", cls=STAFF_PHONE, map=False),
    Field("unit_code", "所属网格", "unit_code"),
    Field("at", "定位时间", "at", "datetime"),
    Field("accuracy_m", "精度_米", "accuracy_m", "float"),
), filters=frozenset({"since", "until", "unit"}), time_key="at", personal=True,
   row_class=POSITION)

LAYERS = (WORKER_POSITIONS,)
