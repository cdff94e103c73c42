from rest_framework.renderers import BaseRenderer

from .chart import forecast_chart_svg


class SVGRenderer(BaseRenderer):
    """A product's forecast at one warehouse as a chart."""

    media_type = "image/svg+xml"
    format = "svg"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None) -> bytes:
        return forecast_chart_svg(data)
