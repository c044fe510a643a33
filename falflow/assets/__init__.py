"""Assets: stored files with their lineage, and the `/api/assets` routes.

Layout:
- `storage.py` declares the `AssetStorage` protocol and the key rules; `storage_local.py` and
  `storage_s3.py` implement it, and `config.py` picks one from the settings.
- `media.py` sniffs the type from bytes and reads dimensions and durations; `thumbnails.py`
  renders WebP previews.
- `models.py` declares the tables, `repository.py` their SQL, `service.py` the use cases the run
  engine and the API call, `lineage.py` and `purge.py` the two larger ones.
- `schemas.py`, `filenames.py`, `ranges.py`, `responses.py`, `upload.py` and `endpoints.py` make up
  the HTTP side.
"""
