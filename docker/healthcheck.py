"""Docker HEALTHCHECK for the web container: GET /health/ on the local gunicorn; healthy only on 200.

The Host header is the first concrete ALLOWED_HOSTS entry, so Django accepts the request, and the request
claims HTTPS, so it is not redirected when a TLS proxy in front is trusted (USE_X_FORWARDED_PROTO).
"""

import http.client
import os
import sys


def _host() -> str:
    for host in os.environ.get("ALLOWED_HOSTS", "").split(","):
        host = host.strip().lstrip(".")
        if host and "*" not in host:
            return host
    return "localhost"


def main() -> int:
    connection = http.client.HTTPConnection("127.0.0.1", int(os.environ.get("PORT", "8000")), timeout=5)
    try:
        connection.request("GET", "/health/", headers={"Host": _host(), "X-Forwarded-Proto": "https"})
        status = connection.getresponse().status
    except OSError as error:
        sys.stderr.write(f"healthcheck: {error}\n")
        return 1
    finally:
        connection.close()
    if status != 200:
        sys.stderr.write(f"healthcheck: /health/ answered {status}\n")
    return 0 if status == 200 else 1


if __name__ == "__main__":
    sys.exit(main())
