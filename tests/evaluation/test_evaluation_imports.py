"""evaluation/ stays pure: the standard library only, no database, web, app or data-frame library."""

import json
import subprocess
import sys
from pathlib import Path

FORBIDDEN = ["sqlalchemy", "geoalchemy2", "psycopg", "fastapi", "pydantic", "pydantic_settings", "app",
             "spatial", "pandas", "numpy", "shapely", "geopandas"]
ROOT = Path(__file__).resolve().parents[2]


def test_importing_evaluation_imports_no_db_web_app_or_numeric_modules():
    code = (
        "import json, sys; import evaluation; "
        f"print(json.dumps(sorted(m for m in {FORBIDDEN!r} if m in sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == []


def test_evaluation_sources_import_only_the_standard_library():
    allowed = set(sys.stdlib_module_names)
    for path in (ROOT / "evaluation").glob("*.py"):
        for line in path.read_text(encoding="utf-8").splitlines():
            words = line.split()
            if line.startswith(("import ", "from ")) and not words[1].startswith("."):
                assert words[1].split(".")[0] in allowed, f"{path.name}: {line}"


def test_user_facing_chinese_lives_in_messages_only():
    for path in (ROOT / "evaluation").glob("*.py"):
        if path.name == "messages.py":
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            code = line.split("#")[0]
            stripped = code.strip()
            if stripped.startswith(('"', "'", ">>>", "...")) or not stripped:
                continue  # docstrings and doctests may speak Chinese
            quoted = [part for k, part in enumerate(code.split('"')) if k % 2]
            assert not any(any("\u4e00" <= ch <= "\u9fff" for ch in q) for q in quoted), f"{path.name}:{number}"
