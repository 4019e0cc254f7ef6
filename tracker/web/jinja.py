"""The Jinja2 environment of the project's templates (templates/tracker/).

Pages render with Jinja2 because it is several times faster than Django's engine on the hot
pages; the admin, DRF and form widgets keep Django's. The templates were written for Django,
so this environment keeps Django's rendering rules where they differ from Jinja's:

- a missing variable or attribute renders as "", and so does anything looked up on it or
  called on it (Django calls methods implicitly, so `{{ item.estimate.normalize }}` of an
  item without an estimate was empty, not an error); Django's filters receive "" for it,
  as they do under Django's engine;
- numbers and dates print the way Django prints them (localize, current time zone): a
  Decimal such as Decimal("1E+1") prints as "10", not "1E+1";
- `date`, `floatformat`, `filesizeformat`, `truncatechars`, … are Django's own filters.
"""

import datetime
import uuid
from collections.abc import Callable
from decimal import Decimal
from functools import lru_cache, wraps
from typing import Any

import jinja2
from django.template import defaultfilters
from django.templatetags.static import static
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils.formats import localize
from django.utils.timezone import template_localtime
from django_htmx.jinja import htmx_script

from tracker.web import filters


class Missing(jinja2.ChainableUndefined):
    """A missing value: empty when printed, and chaining through attributes, items and calls."""

    __slots__ = ()

    def __call__(self, *args: Any, **kwargs: Any) -> "Missing":
        return self


def url(name: str, *args: Any, **kwargs: Any) -> str:
    """Django's {% url %}: `url("web:item", ws, key, number)`.

    Remembered per URLconf and script prefix (a reversal is a pure function of them and the
    arguments): a page's navigation alone reverses twenty URLs, at ~30 µs each."""
    return _reverse(get_script_prefix(), get_urlconf(), name, args, tuple(sorted(kwargs.items())))


@lru_cache(maxsize=4096)
def _reverse(prefix: str, urlconf: Any, name: str, args: tuple, kwargs: tuple) -> str:
    return reverse(name, urlconf=urlconf, args=args or None, kwargs=dict(kwargs) or None)


_MARKS = {"number": "987654321", "uuid": "00000000-0000-4000-8000-0000000b0a7d"}


def number_url(name: str, *args: Any) -> Callable[[Any], str]:
    """`url(name, *args, number)` for many numbers at the cost of one reversal: a list of
    50 rows with two or three links each spent a third of its rendering in reverse()."""
    return _tail_url(name, args, "number")


def uuid_url(name: str, *args: Any) -> Callable[[Any], str]:
    """`url(name, *args, id)` for many UUIDs at the cost of one reversal."""
    return _tail_url(name, args, "uuid")


def _tail_url(name: str, args: tuple, kind: str) -> Callable[[Any], str]:
    mark = _MARKS[kind]
    path = reverse(name, args=(*args, mark))
    head, found, tail = path.partition(mark)
    if not found or mark in tail:
        raise ValueError(f"{name} does not end its path with the {kind}")
    clean = int if kind == "number" else (lambda value: str(uuid.UUID(str(value))))
    return lambda value: f"{head}{clean(value)}{tail}"


def display(obj: Any, field: str) -> Any:
    """`obj.get_<field>_display()`, from a label table built once per model field (Django
    rebuilds a hashable dict of the choices on every call: 4 ms for a page of 50 rows)."""
    if isinstance(obj, jinja2.Undefined) or obj is None:
        return ""
    value = getattr(obj, field)
    return str(_choice_labels(type(obj), field).get(value, value))


@lru_cache(maxsize=256)
def _choice_labels(model: type, field: str) -> dict[Any, Any]:
    return dict(model._meta.get_field(field).flatchoices)


def _print(value: Any) -> Any:
    # What Django's engine does to every {{ value }} (render_value_in_context). Strings,
    # ints and markup pass through untouched, which is almost everything a page prints.
    if isinstance(value, Decimal | float | datetime.date | datetime.time):
        return localize(template_localtime(value))
    return value


def _as_django(function: Callable[..., Any]) -> Callable[..., Any]:
    """A Django filter that gets "" for a missing value, as under Django's engine
    (string_if_invalid), instead of an Undefined it cannot handle."""

    @wraps(function)
    def wrapper(value: Any, *args: Any) -> Any:
        if isinstance(value, jinja2.Undefined):
            value = ""
        return function(value, *args)

    return wrapper


def _date(value: Any, arg: str | None = None) -> str:
    # Django converts aware datetimes to the current time zone before its `date` filter.
    return defaultfilters.date(template_localtime(value), arg)


FILTERS: dict[str, Callable[..., Any]] = {
    # Django's filters where Jinja has none or one that behaves differently. linebreaks and
    # linebreaksbr escape their input (autoescape=True) and return safe markup.
    "date": _date,
    "timesince": defaultfilters.timesince_filter,
    "floatformat": defaultfilters.floatformat,
    "pluralize": defaultfilters.pluralize,
    "linebreaks": defaultfilters.linebreaks_filter,
    "linebreaksbr": defaultfilters.linebreaksbr,
    "filesizeformat": defaultfilters.filesizeformat,
    "truncatechars": filters.truncatechars,
    "isoformat": filters.isoformat,
    "short_date": filters.short_date,
    "whole_number": filters.whole_number,
    "capfirst": defaultfilters.capfirst,
    "yesno": defaultfilters.yesno,
    "default_if_none": defaultfilters.default_if_none,
    # The project's own.
    "key_number": filters.key_number,
    "isodate": filters.isodate,
    "segment_label": filters.segment_label,
    "channel_label": filters.channel_label,
    "signed": filters.signed,
}


def environment(**options: Any) -> jinja2.Environment:
    """Called by Django's Jinja2 backend with its options (the loader, auto_reload, …)."""
    # Django's backend picks DebugUndefined under DEBUG, which prints "{{ name }}" into pages.
    options["undefined"] = Missing
    # Output stays as Django's engine wrote it: templates end with their last newline (the
    # Markdown export depends on its whitespace), and no block whitespace is trimmed.
    options.setdefault("keep_trailing_newline", True)
    options["finalize"] = _print
    # Always on, whatever OPTIONS say: the Markdown export turns it off for itself.
    options.pop("autoescape", None)
    env = jinja2.Environment(autoescape=True, **options)
    env.globals.update(url=url, number_url=number_url, uuid_url=uuid_url, static=static, htmx_script=htmx_script)
    env.filters.update({name: _as_django(function) for name, function in FILTERS.items()})
    env.filters["display"] = display
    return env
