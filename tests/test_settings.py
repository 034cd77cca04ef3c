"""Settings: one class, every environment variable it reads documented in the README, and no
other module reading the environment."""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError

from config import Settings

ROOT = Path(__file__).resolve().parent.parent
APP_PACKAGES = ["api", "dashboard", "web", "exports", "layers", "demo", "data", "db", "domain", "geo"]


def _readme_table() -> dict[str, str]:
    """{environment name: default cell} from the README's Configuration table."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| `([A-Z_]+)` \| ([^|]+) \|", section, flags=re.M)
    assert rows, "the README has no Configuration table"
    return {name: default.strip() for name, default in rows}


def _shown(default: object) -> str | None:
    if default is None or default == "":
        return None
    return f"{default:g}" if isinstance(default, float) else str(default)


def test_readme_documents_every_field_and_nothing_else():
    table = _readme_table()
    fields = {Settings.env_name(name): info.default for name, info in Settings.model_fields.items()}
    assert set(table) == set(fields), (f"undocumented: {sorted(set(fields) - set(table))}; "
                                       f"documented but not a setting: {sorted(set(table) - set(fields))}")
    for env, default in fields.items():
        shown = _shown(default)
        if shown is None:  # no value: the README says in words what happens instead
            assert table[env], env
        else:
            assert table[env].strip("`").split(",")[0] == shown, f"{env}: README says {table[env]}, class {shown}"


def test_environment_names_and_types(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgresql://h/db")
    monkeypatch.setenv("ONEMAP_REGION", "150622")
    monkeypatch.setenv("ONEMAP_DB_POOL", "7")
    monkeypatch.setenv("ONEMAP_COOKIE_SECURE", "off")
    monkeypatch.setenv("ONEMAP_SSE_HEARTBEAT_S", "")  # empty is unset, not an error
    s = Settings.from_env()
    assert (s.dsn, s.region_code, s.db_pool, s.cookie_secure) == ("postgresql://h/db", "150622", 7, False)
    assert s.sse_heartbeat_s == Settings.model_fields["sse_heartbeat_s"].default
    assert Settings(dsn="x").dsn == "x"  # constructed by field name too (tests, benches)


@pytest.mark.parametrize("env,value", [("ONEMAP_DB_POOL", "lots"), ("ONEMAP_API_RATE", "0"),
                                       ("ONEMAP_COOKIE_SECURE", "maybe"), ("ONEMAP_ESCALATE_EVERY_S", "-1")])
def test_bad_value_names_the_setting(monkeypatch, env, value):
    monkeypatch.setenv(env, value)
    with pytest.raises(ValidationError) as err:
        Settings.from_env()
    assert env.removeprefix("ONEMAP_").lower() in str(err.value)


def test_cli_reports_a_bad_setting_without_a_traceback(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "ONEMAP_WORKERS": "many", "DATABASE_URL": "postgresql://127.0.0.1:1/none"}
    run = subprocess.run([sys.executable, str(ROOT / "app.py"), "serve"], env=env, capture_output=True,
                         text=True, cwd=tmp_path, timeout=120)
    assert run.returncode == 1 and "workers" in run.stderr and "Traceback" not in run.stderr, run.stderr


def test_only_config_reads_the_environment():
    hits = []
    for package in APP_PACKAGES + ["app.py"]:
        for path in sorted((ROOT / package).rglob("*.py")) if package != "app.py" else [ROOT / package]:
            for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                if re.search(r"os\.environ|os\.getenv|getenv\(", line):
                    hits.append(f"{path.relative_to(ROOT)}:{n}: {line.strip()}")
    assert not hits, "read settings through config.Settings:\n" + "\n".join(hits)
