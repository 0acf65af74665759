"""The app's own stylesheet and script (no CDN: districts' networks may have none)."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, HTTPException
from fastapi.responses import FileResponse

STATIC = Path(__file__).resolve().parents[1] / "static"
ASSETS = {"edfi-sync.css": "text/css", "edfi-sync.js": "text/javascript"}

router = APIRouter()


@router.get("/static/{name}")
def asset(name: str) -> FileResponse:
    if name not in ASSETS:
        raise HTTPException(404, "no such file")
    return FileResponse(STATIC / name, media_type=ASSETS[name], headers={"Cache-Control": "private, max-age=3600"})
