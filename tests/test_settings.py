"""Settings come from the environment and production settings pass the deploy check."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run_manage(*args, env):
    base = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DEBUG", "SECRET_KEY", "DJANGO_SETTINGS_MODULE", "DJANGO_ALLOW_ASYNC_UNSAFE")
    }
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env={**base, **env}, capture_output=True, text=True, timeout=120
    )


def test_production_settings_refuse_to_start_without_a_secret_key():
    result = run_manage("check", env={"DEBUG": "0", "ALLOWED_HOSTS": "loopwise.example"})
    assert result.returncode != 0
    assert "SECRET_KEY is required when DEBUG is off" in result.stderr


def test_the_deploy_check_is_clean_with_production_settings():
    env = {
        "DEBUG": "0",
        "SECRET_KEY": "x" * 30 + "-a-long-random-production-secret-9f8e7d",
        "ALLOWED_HOSTS": "loopwise.example",
    }
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_a_bad_boolean_in_the_environment_fails_loudly():
    result = run_manage("check", env={"DEBUG": "perhaps"})
    assert result.returncode != 0 and "DEBUG must be a boolean" in result.stderr
