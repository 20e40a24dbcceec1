"""IP masking: every address is cut to its network (IPv4 /24, IPv6 /48) before it is
stored, whether it is a whole value or sits inside text.
"""

from __future__ import annotations

import functools
import ipaddress
import re
from typing import Any


@functools.lru_cache(maxsize=65536)  # imports repeat the same addresses; a pure function
def mask_ip(raw: str | None) -> str | None:
    """IPv4 keeps its first three octets, IPv6 its first /48. Never store the raw address."""
    if not raw:
        return None
    try:
        address = ipaddress.ip_address(raw.strip())
    except ValueError:
        return None
    if address.version == 6 and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if address.version == 4:
        return str(ipaddress.IPv4Address(int(address) & 0xFFFFFF00))
    return str(ipaddress.IPv6Address(int(address) & ~((1 << 80) - 1)))


# Candidates only; ipaddress decides. IPv6 (with an optional zone) first, since an
# IPv4-mapped address ends in a dotted quad; then dotted quads not inside longer numbers.
_IPV6_CANDIDATE = re.compile(r"(?<![0-9A-Za-z:.])[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*(?:%[0-9A-Za-z_.-]+)?")
_IPV4_CANDIDATE = re.compile(r"(?<![0-9.])(?:\d{1,3}\.){3}\d{1,3}(?!\.?\d)")


def _mask_match(match: re.Match) -> str:
    text = match.group(0)
    core, trail = (text[:-1], ".") if text.endswith(".") else (text, "")  # "from 2001:db8::1."
    masked = mask_ip(core)
    return text if masked is None else masked + trail


def mask_ips_in_text(text: str | None) -> str | None:
    """Every IPv4 or IPv6 address inside free text (a user agent, a JSON string in a
    payload) masked like `ip_address`: /24 and /48."""
    if not text or ("." not in text and ":" not in text):
        return text
    text = _IPV6_CANDIDATE.sub(_mask_match, text) if text.count(":") >= 2 else text
    return _IPV4_CANDIDATE.sub(_mask_match, text)


def _scrub(value: Any) -> Any:
    """Mask every IP address in a payload: whole values, addresses inside text (nested
    JSON strings included, whose addresses appear literally) and keys."""
    if isinstance(value, dict):
        return {_scrub(k): _scrub(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_scrub(v) for v in value]
    if isinstance(value, str):
        return mask_ips_in_text(value)
    return value
