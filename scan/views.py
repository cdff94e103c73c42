"""The scanning page and what it needs: thin views over scan.selectors; postings go to the API."""
import json

from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import LoginView
from django.http import HttpResponse, JsonResponse
from django.shortcuts import render
from django.templatetags.static import static
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import ensure_csrf_cookie

from .labels import code128_svg
from .selectors import POST_PERMISSION, label_rows, scan_codes

LOGIN_URL = "scan:login"


class ScanLoginView(LoginView):
    """Django's session login, in the page's own look."""

    template_name = "scan/login.html"
    redirect_authenticated_user = True


@never_cache
@ensure_csrf_cookie  # the page's postings carry the session's CSRF token (DRF's SessionAuthentication)
@login_required(login_url=LOGIN_URL)
def scan_page(request):
    """The page a clerk scans with all day; others see why they cannot post."""
    return render(request, "scan/scan.html", {"can_post": request.user.has_perm(POST_PERMISSION)})


@never_cache
@login_required(login_url=LOGIN_URL)
def codes(request):
    """Every code a scan may resolve to (locations and products), for the page's offline copy."""
    return JsonResponse(scan_codes())


@login_required(login_url=LOGIN_URL)
def labels(request):
    """A printable page of Code 128 labels for every active location and product."""
    sections = [
        (kind.title(), [{"title": title, "name": name, "code": code, "svg": code128_svg(code)} for title, name, code in items])
        for kind, items in label_rows().items()
    ]
    return render(request, "scan/labels.html", {"sections": sections})


# The service worker and the manifest are served under /scan/ so that the worker's scope is the page's.
SHELL = ["/scan/", *(static(f"scan/{name}") for name in (
    "scan.css", "scan.js", "icon.svg", "vendor/zxing-wasm/reader.iife.js", "vendor/zxing-wasm/zxing_reader.wasm",
))]


def service_worker(request):
    """Caches the page's own files (the shell); the API is never cached."""
    body = render(request, "scan/sw.js", {"shell": json.dumps(SHELL), "version": "scan-v1"}).content
    return HttpResponse(body, content_type="text/javascript; charset=utf-8", headers={"Cache-Control": "no-cache"})


def manifest(request):
    """The web app manifest that makes the page installable."""
    return JsonResponse({
        "name": "WMS scanning", "short_name": "Scan", "start_url": "/scan/", "scope": "/scan/",
        "display": "standalone", "background_color": "#ffffff", "theme_color": "#1d4ed8",
        "icons": [{"src": static("scan/icon.svg"), "sizes": "any", "type": "image/svg+xml", "purpose": "any"}],
    }, content_type="application/manifest+json")
