"""The image's HEALTHCHECK: GET /healthz on this container's gunicorn; exit 0 on 200, 1 otherwise.

It asks the way the proxy in front does, so that production mode answers rather than refuses:
a Host that DJANGO_ALLOWED_HOSTS allows and ``X-Forwarded-Proto: https`` (else a 301 to HTTPS).
A redirect is a failure, not followed. Standard library only: the image has no curl. TCP binds
only (a unix: socket bind needs a HEALTHCHECK of its own).
"""
import os
import sys
import urllib.error
import urllib.request


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # the 3xx is raised as an HTTPError


def _host() -> str:
    for host in os.environ.get("DJANGO_ALLOWED_HOSTS", "").split(","):
        host = host.strip().lstrip(".")  # ".example.com" allows example.com too
        if host and "*" not in host:
            return host
    return "localhost"


def _address() -> str:
    """Where gunicorn listens: WMS_BIND (deploy/gunicorn.conf.py's bind), else PORT (gunicorn's
    default bind without a configuration file), else 8000. A wildcard host is asked on loopback."""
    bind = os.environ.get("WMS_BIND", "").strip()
    if not bind:
        return f"127.0.0.1:{os.environ.get('PORT', '8000')}"
    host, _, port = bind.rpartition(":")
    if host in {"", "0.0.0.0", "[::]", "::"}:
        host = "127.0.0.1"
    return f"{host}:{port}"


def main() -> int:
    url = f"http://{_address()}/healthz"
    request = urllib.request.Request(url, headers={"Host": _host(), "X-Forwarded-Proto": "https"})
    try:
        with urllib.request.build_opener(_NoRedirect).open(request, timeout=4) as response:
            status = response.status
    except urllib.error.HTTPError as error:
        status = error.code
    except OSError as error:  # refused, timed out
        print(f"{url}: {error}")
        return 1
    print(f"{url}: {status}")
    return 0 if status == 200 else 1


if __name__ == "__main__":
    sys.exit(main())
