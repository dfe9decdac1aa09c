"""The map's own endpoints (一图): search, compact parcel and unit layers for drawing, block export."""
