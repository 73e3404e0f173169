"""Where an endpoint is: on this machine only, or reachable from elsewhere.

Both sides ask: the hook (a loopback endpoint is the local service, polled more often) and the
local service (a loopback bind needs no signature or token).
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit


def is_loopback_endpoint(endpoint_url: str | None) -> bool:
    if not endpoint_url:
        return False
    return is_loopback(urlsplit(endpoint_url).hostname or "")


def is_loopback(host: str) -> bool:
    """Whether ``host`` is reachable from this machine only (a host name other than localhost
    may resolve to any interface, so it is not)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def is_aws_endpoint(endpoint_url: str | None) -> bool:
    """Whether Braket at ``endpoint_url`` is AWS's (no endpoint: AWS's default one; a VPC or
    FIPS endpoint is under ``amazonaws.com``), not another service such as the local one."""
    if not endpoint_url:
        return True
    host = (urlsplit(endpoint_url).hostname or "").lower()
    return host.endswith((".amazonaws.com", ".amazonaws.com.cn"))
