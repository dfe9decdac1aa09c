"""Re-upload with replace, set-based (issue 18 part 6): the replaced rows carry the measures the ORM hook
would give them (area from the new shape, FAR from it with the file's or the stored floor areas), their
previous versions in feature_history, and one audit row each naming what changed."""

from __future__ import annotations

from decimal import Decimal

import shapely

from app.core.uow import unit_of_work
from app.models import Parcel, recompute_measures
from tests.app import upload_corpus as corpus
from tests.app.test_upload import api, commit, post, rows, upload_dir  # noqa: F401 (fixtures)


def test_replace_recomputes_measures_keeps_history_and_audits(api, db_session, tmp_path):  # noqa: F811
    first = post(api, corpus.shapefile_zip(corpus.parcels(3, prefix="RS", row=5), tmp_path), "v1.zip").json()
    assert commit(api, first["id"]).status_code == 200
    g = corpus.rectangles(3, row=5)
    gdf = corpus.parcels(geoms=[shapely.box(*g[0].bounds[:2], g[0].bounds[2] - 10, g[0].bounds[3]), g[1], g[2]],
                         prefix="RS", row=5)
    gdf.loc[1, "建筑面积"] = 30_000.0  # RS0002: same shape, new floor area; RS0001 narrower; RS0003 unchanged
    second = post(api, corpus.shapefile_zip(gdf, tmp_path), "v2.zip").json()
    out = commit(api, second["id"], on_existing="replace").json()["outcome"]
    assert (out["replaced"], out["unchanged"], out["inserted"]) == (2, 1, 0)
    with unit_of_work(db_session):
        db_session.expire_all()
        for code in ("RS0001", "RS0002"):
            p = db_session.query(Parcel).filter_by(code=code).one()
            stored = (p.land_area_mu, p.far, p.planned_far)
            recompute_measures(p)  # what the before_flush hook gives this shape and these floor areas
            assert stored == (p.land_area_mu, p.far, p.planned_far), code
            db_session.expire(p)
        assert db_session.query(Parcel).filter_by(code="RS0002").one().floor_area_m2 == Decimal("30000.00")
    history = rows(db_session, "SELECT code FROM feature_history WHERE upload_id = :u ORDER BY code", u=second["id"])
    assert [h[0] for h in history] == ["RS0001", "RS0002"]
    audit = rows(db_session, "SELECT a.object_id, a.username, a.before, a.after FROM audit_log a"
                 " JOIN parcels p ON p.id::text = a.object_id WHERE p.code LIKE 'RS%' AND a.action = 'update'"
                 " ORDER BY p.code")
    assert len(audit) == 2 and "system" not in {a[1] for a in audit}, audit
    narrower, refloored = audit[0], audit[1]
    assert "geom" in narrower[2] and "land_area_mu" in narrower[3] and "floor_area_m2" not in narrower[3]
    assert "geom" not in refloored[3] and refloored[3]["floor_area_m2"] in (30000, 30000.0) and "far" in refloored[3]
