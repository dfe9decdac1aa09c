"""The deployment files stay correct even though Docker cannot run on the build machines."""

from __future__ import annotations

import re
import subprocess
import sys

import yaml

from app.settings import PROJECT_ROOT


def test_compose_runs_postgis_and_the_app_with_env_secrets():
    compose = yaml.safe_load((PROJECT_ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
    db, app = compose["services"]["db"], compose["services"]["app"]
    assert db["image"].startswith("postgis/postgis:")
    assert "pg_isready" in " ".join(db["healthcheck"]["test"])
    assert app["depends_on"]["db"]["condition"] == "service_healthy"
    assert "/healthz" in " ".join(app["healthcheck"]["test"])
    env = app["environment"]
    assert env["DATABASE_URL"].startswith("postgresql+psycopg://")
    # Secrets are required from the environment, never written in the file.
    assert re.fullmatch(r"\$\{POSTGRES_PASSWORD:\?[^}]+\}", db["environment"]["POSTGRES_PASSWORD"])
    assert re.fullmatch(r"\$\{CLOUDMAP_SECRET_KEY:\?[^}]+\}", env["CLOUDMAP_SECRET_KEY"])
    assert env["CLOUDMAP_ENVIRONMENT"] == "production"


def test_dockerfile_copies_paths_that_exist():
    dockerfile = (PROJECT_ROOT / "Dockerfile").read_text(encoding="utf-8")
    for line in dockerfile.splitlines():
        if line.startswith("COPY") and "--from" not in line:
            for src in line.split()[1:-1]:
                assert (PROJECT_ROOT / src).exists(), src


def test_image_has_no_development_cluster():
    """devdb (the private cluster: apt-get, system users, chown) is for development only."""
    dockerfile = (PROJECT_ROOT / "Dockerfile").read_text(encoding="utf-8")
    copied = [src for line in dockerfile.splitlines() if line.startswith("COPY") and "--from" not in line
              for src in line.split()[1:-1]]
    assert copied and not any(src.rstrip("/") in {".", "devdb"} for src in copied), copied
    assert "devdb" in (PROJECT_ROOT / ".dockerignore").read_text(encoding="utf-8").split()
    # The production package works without it: app imports, and DATABASE_URL is used as given.
    code = ("import sys; sys.modules['devdb'] = None\n"
            "import app.main, app.cli\n"
            "from app.core.db import database_url\n"
            "from app.settings import Settings\n"
            "print(database_url(Settings(database_url='postgresql://u@db/cloudmap')))\n"
            "try:\n    database_url(Settings())\nexcept RuntimeError as exc:\n    print('refused:', exc)\n")
    out = subprocess.run([sys.executable, "-c", code], cwd=PROJECT_ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.splitlines()[0] == "postgresql+psycopg://u@db/cloudmap"
    assert out.stdout.splitlines()[1].startswith("refused: DATABASE_URL is not set")
