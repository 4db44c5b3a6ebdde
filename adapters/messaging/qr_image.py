"""QR codes drawn by Tokowa (segno): a PNG for the chat transports, text blocks for a terminal.

The picture is big enough to be scanned from another phone's screen after WhatsApp has
recompressed it: at least ~800 px a side, 8 px or more per module, the standard 4-module quiet
zone, error correction level M (it survives some blur and a screenshot of a screenshot)."""

from __future__ import annotations

import io
import math

import segno

MIN_SIDE_PX = 800
MIN_SCALE = 8
BORDER = 4


def _make(data: str) -> segno.QRCode:
    return segno.make(data, error="m", micro=False, boost_error=False)


def qr_png(data: str) -> bytes:
    """The QR code of `data` as a black-on-white PNG."""
    qr = _make(data)
    modules = qr.symbol_size(scale=1, border=BORDER)[0]
    scale = max(MIN_SCALE, math.ceil(MIN_SIDE_PX / modules))
    out = io.BytesIO()
    qr.save(out, kind="png", scale=scale, border=BORDER, dark="#000", light="#fff")
    return out.getvalue()


def qr_text(data: str) -> str:
    """The QR code of `data` in Unicode half blocks, two modules a line, for a terminal."""
    out = io.StringIO()
    _make(data).terminal(out=out, compact=True, border=2)
    return out.getvalue()
