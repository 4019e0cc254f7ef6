"""Exceptions services raise; the web and API layers turn them into messages and statuses."""

from django.core.exceptions import ValidationError

__all__ = ["BatchInvalid", "StaleVersion", "ValidationError", "messages_of"]


class StaleVersion(Exception):
    """The caller edited an older version of the object than the one stored."""

    def __init__(self, current_version: int) -> None:
        super().__init__(f"This was changed meanwhile; the current version is {current_version}.")
        self.current_version = current_version


def check_version(current: int, expected: int | None) -> None:
    if expected is not None and expected != current:
        raise StaleVersion(current)


class BatchInvalid(Exception):
    """Some entries of a batch are invalid; `errors` maps each bad entry's index to its fields."""

    def __init__(self, errors: dict[int, dict[str, list[str]]]) -> None:
        super().__init__(f"{len(errors)} invalid entries")
        self.errors = errors

    def first(self) -> ValidationError:
        """The error of a batch of one, as a single write raises it."""
        return ValidationError(next(iter(self.errors.values())))


def messages_of(exc: ValidationError) -> dict[str, list[str]]:
    return {name: list(messages) for name, messages in exc.message_dict.items()}
