"""Production settings plus the ceiling endpoint; served by gunicorn during `make bench`."""

from config.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
# Loopback HTTP: no TLS redirect; the benchmark client may come in as 127.0.0.1 or localhost.
SECURE_SSL_REDIRECT = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "testserver"]
# The load comes from one address; login lockout and API throttles would measure themselves.
AXES_ENABLED = False
LOGGING["root"]["level"] = "WARNING"  # noqa: F405
