"""Is an outgoing URL safe to call? Webhooks must not reach into our own network."""

import ipaddress
import socket
from urllib.parse import urlsplit

from tracker.services.errors import ValidationError


def _forbidden(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return (
        address.is_loopback
        or address.is_link_local
        or address.is_private
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
        or not address.is_global
    )


def resolve_addresses(host: str, port: int) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    try:
        infos = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError) as exc:
        raise ValidationError({"url": f"The host {host} cannot be resolved."}) from exc
    return [ipaddress.ip_address(info[4][0].split("%")[0]) for info in infos]


def check_outgoing_url(url: str, *, allow_private: bool = False) -> None:
    """Raise ValidationError({'url': ...}) unless `url` is http(s) to public addresses only.

    Every address the name resolves to is checked (a name with one public and one private
    address is refused). Call it when a URL is saved and again right before each request,
    including each redirect, because DNS answers change.
    """
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValidationError({"url": "Use an http:// or https:// URL with a host name."})
    if parts.username or parts.password:
        raise ValidationError({"url": "Credentials in the URL are not allowed; use the signing secret."})
    try:
        explicit_port = parts.port  # urlsplit raises ValueError for a port out of range
    except ValueError as exc:
        raise ValidationError({"url": "The port must be a number from 1 to 65535."}) from exc
    if explicit_port == 0:
        raise ValidationError({"url": "The port must be a number from 1 to 65535."})
    if allow_private:
        return
    port = explicit_port or (443 if parts.scheme == "https" else 80)
    for address in resolve_addresses(parts.hostname, port):
        if _forbidden(address):
            raise ValidationError(
                {"url": f"{parts.hostname} resolves to {address}, a loopback, private or reserved address."}
            )
