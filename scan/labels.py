"""Code 128 labels as inline SVG, drawn server-side by python-barcode (pure Python, no images)."""
from io import BytesIO

import barcode
from barcode.writer import SVGWriter

_OPTIONS = {"module_width": 0.3, "module_height": 12.0, "quiet_zone": 4.0, "font_size": 0, "text_distance": 1.0}


def code128_svg(code: str) -> str:
    """The ``<svg>`` element of a Code 128 symbol for ``code`` (the text is printed beside it by the page)."""
    out = BytesIO()
    barcode.get("code128", code, writer=SVGWriter()).write(out, options=_OPTIONS)
    svg = out.getvalue().decode()
    return svg[svg.index("<svg"):]
