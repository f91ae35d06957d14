"""What a page served to a browser shares, the station's dashboard and the centre's alike: the static
folder (its app.css is the centre's style too) and the headers every page carries. Light on purpose: the
centre imports it without loading the station's daemon."""
from __future__ import annotations

from pathlib import Path

STATIC = Path(__file__).resolve().parent / "static"
PAGE_HEADERS = {
    # The page loads nothing but its own files: no CDN, no inline script, no framing by another site.
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; object-src 'none'; "
                               "frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}
