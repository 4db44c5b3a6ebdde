"""Reading a QR picture back (zxing-cpp through Pillow), as a customer's banking app would."""

from __future__ import annotations

import io

import zxingcpp
from PIL import Image


def decode_qr(png: bytes) -> list[str]:
    """The texts of every QR code found in the picture."""
    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG"
    return [found.text for found in zxingcpp.read_barcodes(image) if found.format == zxingcpp.BarcodeFormat.QRCode]
