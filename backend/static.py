"""The built frontend (frontend/dist), served on the same origin."""

from __future__ import annotations

from pathlib import Path

from starlette.responses import FileResponse, HTMLResponse, Response

DIST = Path(__file__).resolve().parent.parent / "frontend" / "dist"

PLACEHOLDER = """<!doctype html><html lang="fr"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>DMP</title></head><body><main><h1>Dossier Médical Partagé</h1>
<p>L'interface web n'est pas construite. Lancez <code>npm run build</code>.</p></main></body></html>"""


def index_response() -> Response:
    index = DIST / "index.html"
    if index.exists():
        return FileResponse(index, media_type="text/html")
    return HTMLResponse(PLACEHOLDER)


def explorer_response() -> Response:
    page = DIST / "explorer.html"
    if page.exists():
        return FileResponse(page, media_type="text/html")
    return HTMLResponse(PLACEHOLDER, status_code=404)
