"""spatial/ stays pure: importing it pulls in no database, web or settings library."""

import json
import subprocess
import sys
from pathlib import Path

FORBIDDEN = ["sqlalchemy", "geoalchemy2", "psycopg", "fastapi", "pydantic", "pydantic_settings", "app",
             "geopandas", "pandas", "pyogrio"]
ROOT = Path(__file__).resolve().parents[2]


def test_importing_spatial_imports_no_db_web_or_app_modules():
    code = (
        "import json, sys; import spatial; "
        f"print(json.dumps(sorted(m for m in {FORBIDDEN!r} if m in sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == []


def test_spatial_sources_import_only_stdlib_shapely_pyproj_numpy():
    allowed = {"shapely", "pyproj", "numpy"} | set(sys.stdlib_module_names)
    for path in (ROOT / "spatial").glob("*.py"):
        for line in path.read_text(encoding="utf-8").splitlines():
            words = line.split()
            if line.startswith(("import ", "from ")) and not words[1].startswith("."):
                assert words[1].split(".")[0] in allowed, f"{path.name}: {line}"
