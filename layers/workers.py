"""Grid workers' latest GPS positions: names and phones are personal and masked for most roles."""
from __future__ import annotations

from layers.base import Field, Layer

WORKER_POSITIONS = Layer("worker_positions", "网格员位置", "Grid worker positions",
                         "layer_worker_positions", "Point", (
    Field("worker", "网格员编号", "worker"),
    Field("worker_name", "姓名", "name", personal="name"),
    Field("phone", "电话", "phone", personal="phone"),
    Field("unit_code", "所属网格", "unit_code"),
    Field("at", "定位时间", "at", "datetime"),
    Field("accuracy_m", "精度_米", "accuracy_m", "float"),
), filters=frozenset({"since", "until", "unit"}), time_key="at", personal=True)

LAYERS = (WORKER_POSITIONS,)
