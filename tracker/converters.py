"""Path converters shared by the web and API URL confs, registered once."""

from django.urls import register_converter


class _Identity:
    regex = ""

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


class ProjectKeyConverter(_Identity):
    regex = "[A-Z]{2,10}"


class ItemKeyConverter(_Identity):
    regex = "[A-Z]{2,10}-[0-9]{1,10}"


class SegmentConverter(_Identity):
    """One path segment (a source or external id may hold dots, @ and the like, not /)."""

    regex = "[^/]{1,200}"


register_converter(ProjectKeyConverter, "pkey")
register_converter(ItemKeyConverter, "itemkey")
register_converter(SegmentConverter, "seg")
