"""The project's filters (tracker.web.filters) for Django templates."""

from django import template

from tracker.web import filters

register = template.Library()
for _name in ("key_number", "isodate", "segment_label", "channel_label", "signed"):
    register.filter(_name, getattr(filters, _name))
