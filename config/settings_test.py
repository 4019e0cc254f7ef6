"""Test settings: only what tests need swapped in; everything else is config.settings."""

import os

os.environ.setdefault("DEBUG", "1")

from config.settings import *  # noqa: E402,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
STORAGES["staticfiles"]["BACKEND"] = "django.contrib.staticfiles.storage.StaticFilesStorage"  # noqa: F405
# Lockout is tested explicitly with override_settings(AXES_ENABLED=True).
AXES_ENABLED = False
IMPORT_THREAD_WHEN_EAGER = False
