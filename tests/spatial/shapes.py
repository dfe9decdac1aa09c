"""Hand-computable shapes for the spatial tests, in EPSG:4549 metres unless named otherwise.

The origin sits in Tongxiang (≈120.553°E, 30.62°N), so the same shapes can be
reprojected and measured on the ellipsoid.
"""

from shapely import Point, Polygon, box

from spatial.measure import M2_PER_MU

X0, Y0 = 553_000.0, 3_389_000.0  # EPSG:4549, inside Tongxiang

# 200 m × 200 m = 40 000 m² = 60 亩 exactly (40000 / (10000/15))
SQUARE_60_MU = box(X0, Y0, X0 + 200, Y0 + 200)
# 100 m × 133.333… m = 13 333.33… m² = 20 亩
RECT_20_MU = box(X0, Y0, X0 + 100, Y0 + 400 / 3)
# 100 m × 133.333 m (three decimals, as a surveyor writes it) = 19.99995 亩, reported 20.00
RECT_20_MU_SURVEYED = box(X0, Y0, X0 + 100, Y0 + 133.333)


def rect_of_mu(area_mu: float, width_m: float = 100.0, x0: float = X0, y0: float = Y0) -> Polygon:
    """A width_m-wide rectangle of exactly ``area_mu`` 亩."""
    return box(x0, y0, x0 + width_m, y0 + area_mu * M2_PER_MU / width_m)


PARCEL_19_99_MU = rect_of_mu(19.99)
PARCEL_20_00_MU = rect_of_mu(20.00)
BLOCK_199_9_MU = rect_of_mu(199.9, width_m=400.0)
BLOCK_200_MU = rect_of_mu(200.0, width_m=400.0)

# A figure-of-eight ("bow-tie"): self-intersection at (X0 + 5, Y0 + 5); shoelace area 0, repaired 50 m²
BOWTIE = Polygon([(X0, Y0), (X0 + 10, Y0 + 10), (X0 + 10, Y0), (X0, Y0 + 10)])
# A square with a repeated vertex
SQUARE_WITH_DUPLICATE = Polygon([(X0, Y0), (X0 + 100, Y0), (X0 + 100, Y0), (X0 + 100, Y0 + 100), (X0, Y0 + 100)])
# A 100 m square with a 20 m × 20 m hole (400 m²)
SQUARE_WITH_HOLE = Polygon(
    [(X0, Y0), (X0 + 100, Y0), (X0 + 100, Y0 + 100), (X0, Y0 + 100)],
    [[(X0 + 40, Y0 + 40), (X0 + 60, Y0 + 40), (X0 + 60, Y0 + 60), (X0 + 40, Y0 + 60)]],
)
# 100 m × 0.5 m: mean width 2A/P = 100/200.5 ≈ 0.4988 m < 1 m
SLIVER = box(X0, Y0, X0 + 100, Y0 + 0.5)
A_POINT = Point(X0, Y0)

# Two 100 m squares overlapping by 10 m × 100 m = 1000 m² = 1.5 亩
OVERLAP_A = box(X0, Y0, X0 + 100, Y0 + 100)
OVERLAP_B = box(X0 + 90, Y0, X0 + 190, Y0 + 100)

# Contiguity: two 60-亩 squares across a 24 m road (contiguous at 30 m), a third 40 m further
ROAD_WEST = box(X0, Y0, X0 + 200, Y0 + 200)
ROAD_EAST = box(X0 + 224, Y0, X0 + 424, Y0 + 200)
FAR_EAST = box(X0 + 464, Y0, X0 + 664, Y0 + 200)

# 四至: a 200 m × 100 m block with named neighbours
BLOCK = box(X0, Y0, X0 + 200, Y0 + 100)
EAST_ROAD = box(X0 + 200, Y0 - 50, X0 + 224, Y0 + 150)  # shares the whole east edge
WEST_FIRM = box(X0 - 80, Y0, X0, Y0 + 100)
SOUTH_LEFT = box(X0, Y0 - 60, X0 + 120, Y0)  # faces 120 m of the south edge
SOUTH_RIGHT = box(X0 + 120, Y0 - 60, X0 + 200, Y0 - 2)  # faces 80 m, 2 m away
# A river bending round the north-east: 10 m off the east edge and the north edge
NE_RIVER = Polygon([(X0 + 210, Y0 - 20), (X0 + 230, Y0 - 20), (X0 + 230, Y0 + 130),
                    (X0 - 20, Y0 + 130), (X0 - 20, Y0 + 110), (X0 + 210, Y0 + 110)])
