"""A QR code as a small SVG, drawn here with the ``qrcode`` package the prints already use (no outside host)."""

from __future__ import annotations

from xml.sax.saxutils import quoteattr


def qr_svg(text: str, quiet: int = 4) -> str:
    """The QR code of ``text`` (error correction M) as an SVG of one path of dark row runs, with a ``quiet``
    module margin (the scanners' quiet zone); scales to any size (viewBox in modules)."""
    import qrcode

    qr = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=0)
    qr.add_data(text)
    qr.make(fit=True)
    matrix = qr.get_matrix()
    n = len(matrix)
    runs = []
    for y, row in enumerate(matrix):
        x = 0
        while x < n:
            if not row[x]:
                x += 1
                continue
            start = x
            while x < n and row[x]:
                x += 1
            runs.append(f"M{start + quiet} {y + quiet}h{x - start}v1h-{x - start}z")
    side = n + 2 * quiet
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {side} {side}" shape-rendering="crispEdges" '
            f'data-text={quoteattr(text)}><rect width="{side}" height="{side}" fill="#fff"/>'
            f'<path fill="#000" d="{"".join(runs)}"/></svg>')
