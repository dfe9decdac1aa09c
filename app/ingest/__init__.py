"""Uploads of parcel and block files: ① read → ② validate → ③ store (see docs/upload.md)."""
