"""The "9+X" base registries (GB/T 31000-2015): their vocabularies, and the local "X" record types
declared as data, validated here (pure: no I/O).

An "X" record type is a row of ``reg_extension_kind`` whose ``fields`` is a list of field specs::

    [{"key": "herd_size", "label": "牲畜数", "type": "int", "required": true, "min": 0},
     {"key": "pasture", "label": "草场类型", "type": "choice", "choices": ["天然", "人工"]}]

``check_spec`` refuses a malformed declaration; ``check_record`` refuses a record that does not
follow its declaration, naming every bad key.
"""
from __future__ import annotations

import re
from datetime import date
from typing import Any

HOUSE_USES = ("residential", "commercial", "mixed", "public", "industrial", "agricultural", "other")
HOUSE_USE_ZH = {"residential": "住宅", "commercial": "商业", "mixed": "商住", "public": "公共",
                "industrial": "工业", "agricultural": "农牧业", "other": "其他"}
HOUSEHOLD_KINDS = ("family", "collective")
HOUSEHOLD_KIND_ZH = {"family": "家庭户", "collective": "集体户"}
# 实有人口: registered here (户籍), migrant (流动), overseas (境外), without registration (未落户)
RESIDENCE = ("registered", "migrant", "overseas", "unregistered")
RESIDENCE_ZH = {"registered": "户籍人口", "migrant": "流动人口", "overseas": "境外人员", "unregistered": "未落户人员"}
SEXES = ("M", "F")
SEX_ZH = {"M": "男", "F": "女"}
ETHNICITIES = ("汉族", "蒙古族", "回族", "满族", "藏族", "维吾尔族", "达斡尔族", "鄂温克族", "其他")
# 特殊人群 of GB/T 31000 (and at-risk youth, 重点青少年)
SPECIAL_GROUPS = ("released_prisoner", "community_correction", "mental_disorder", "drug_user", "hiv",
                  "at_risk_youth")
SPECIAL_GROUP_ZH = {"released_prisoner": "刑满释放人员", "community_correction": "社区矫正人员",
                    "mental_disorder": "严重精神障碍患者", "drug_user": "吸毒人员",
                    "hiv": "艾滋病危险人员", "at_risk_youth": "重点青少年"}
# flags of a household visit (日走访): nobody home, needs help, a dispute or a hazard found, details changed
VISIT_FLAGS = ("nobody_home", "needs_help", "dispute", "hazard", "changed")
FOLLOWUP_KINDS = ("help", "control")  # 帮扶 / 管控
FOLLOWUP_DAYS = 30  # a member is "followed up on time" with a follow-up in the last 30 days
ORG_KINDS = ("governance", "business", "social")  # 综治组织, 非公有制经济组织, 社会组织
ORG_KIND_ZH = {"governance": "综治组织", "business": "非公有制经济组织", "social": "社会组织"}
CREDIT_CODE = re.compile(r"^[0-9A-HJ-NPQRTUWXY]{18}$")  # 统一社会信用代码 (GB 32100), as 0027 checks
PLACE_KINDS = ("hotel", "internet_cafe", "entertainment", "bathhouse", "pawnshop", "scrap", "other")
PLACE_KIND_ZH = {"hotel": "旅馆", "internet_cafe": "网吧", "entertainment": "娱乐场所", "bathhouse": "洗浴场所",
                 "pawnshop": "典当行", "scrap": "废旧金属收购", "other": "其他"}
SCHOOL_STAGES = ("kindergarten", "primary", "middle", "high", "vocational", "other")
SCHOOL_STAGE_ZH = {"kindergarten": "幼儿园", "primary": "小学", "middle": "初中", "high": "高中",
                   "vocational": "职业学校", "other": "其他"}
LINE_KINDS = ("road", "railway", "pipeline", "power", "other")
LINE_KIND_ZH = {"road": "道路", "railway": "铁路", "pipeline": "油气管道", "power": "电力线路", "other": "其他"}
DISPUTE_STATES = ("open", "mediating", "settled", "referred")
FIELD_TYPES = ("text", "int", "float", "bool", "date", "choice")
KEY = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
MAX_FIELDS, MAX_TEXT = 40, 2000


def _spec_errors(i: int, spec: Any, seen: set[str]) -> list[str]:
    if not isinstance(spec, dict):
        return [f"field {i}: must be an object"]
    errors = []
    key = spec.get("key")
    if not isinstance(key, str) or not KEY.match(key):
        errors.append(f"field {i}: key must be lower-case letters, digits and _ (start with a letter)")
    elif key in seen:
        errors.append(f"field {i}: key {key!r} repeated")
    else:
        seen.add(key)
    if not isinstance(spec.get("label"), str) or not spec["label"].strip():
        errors.append(f"field {i}: label (the Chinese column name) is required")
    kind = spec.get("type")
    if kind not in FIELD_TYPES:
        errors.append(f"field {i}: type must be one of {', '.join(FIELD_TYPES)}")
    if kind == "choice":
        choices = spec.get("choices")
        if not isinstance(choices, list) or not choices or not all(isinstance(c, str) and c for c in choices):
            errors.append(f"field {i}: a choice field lists its choices (non-empty text)")
    unknown = set(spec) - {"key", "label", "label_en", "type", "required", "choices", "min", "max"}
    if unknown:
        errors.append(f"field {i}: unknown keys {', '.join(sorted(unknown))}")
    return errors


def check_spec(fields: Any) -> list[dict[str, Any]]:
    """A record type's field list as declared, or ``ValueError`` naming every mistake."""
    if not isinstance(fields, list) or not fields:
        raise ValueError("fields must be a non-empty list of field specs")
    if len(fields) > MAX_FIELDS:
        raise ValueError(f"at most {MAX_FIELDS} fields")
    seen: set[str] = set()
    errors = [e for i, spec in enumerate(fields) for e in _spec_errors(i, spec, seen)]
    if errors:
        raise ValueError("; ".join(errors))
    return [dict(spec) for spec in fields]


def _value(spec: dict[str, Any], value: Any) -> Any:
    kind = spec["type"]
    if kind == "text":
        if not isinstance(value, str) or len(value) > MAX_TEXT:
            raise ValueError(f"text of at most {MAX_TEXT} characters")
        return value
    if kind in ("int", "float"):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or (kind == "int" and value != int(value)):
            raise ValueError(f"a number ({kind})")
        num = int(value) if kind == "int" else float(value)
        if "min" in spec and num < spec["min"] or "max" in spec and num > spec["max"]:
            raise ValueError(f"between {spec.get('min', '-∞')} and {spec.get('max', '∞')}")
        return num
    if kind == "bool":
        if not isinstance(value, bool):
            raise ValueError("true or false")
        return value
    if kind == "date":
        try:
            return date.fromisoformat(str(value)).isoformat()
        except ValueError:
            raise ValueError("a date YYYY-MM-DD") from None
    if value not in spec["choices"]:
        raise ValueError(f"one of {', '.join(spec['choices'])}")
    return value


def check_record(fields: list[dict[str, Any]], data: Any) -> dict[str, Any]:
    """A record's data checked against its type's fields, or ``ValueError`` with ``args[1]`` the
    bad keys and why (unknown keys refused; missing required ones named)."""
    if not isinstance(data, dict):
        raise ValueError("data must be an object", {"data": "an object of field values"})
    errors: dict[str, str] = {}
    out: dict[str, Any] = {}
    known = {f["key"]: f for f in fields}
    for key in data:
        if key not in known:
            errors[str(key)[:40]] = "not a field of this record type"
    for key, spec in known.items():
        value = data.get(key)
        if value is None or value == "":
            if spec.get("required"):
                errors[key] = "required"
            continue
        try:
            out[key] = _value(spec, value)
        except ValueError as exc:
            errors[key] = str(exc)
    if errors:
        raise ValueError("the record does not follow its type", errors)
    return out
