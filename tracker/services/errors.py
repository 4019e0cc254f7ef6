"""Exceptions services raise; the web and API layers turn them into messages and statuses."""

from django.core.exceptions import ValidationError

__all__ = ["StaleVersion", "ValidationError"]


class StaleVersion(Exception):
    """The caller edited an older version of the object than the one stored."""

    def __init__(self, current_version: int) -> None:
        super().__init__(f"This was changed meanwhile; the current version is {current_version}.")
        self.current_version = current_version


def check_version(current: int, expected: int | None) -> None:
    if expected is not None and expected != current:
        raise StaleVersion(current)
