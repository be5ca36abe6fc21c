"""How an employee's POS PIN is stored: a salted PBKDF2-SHA256 digest. Head office hashes
PINs when it sets them and sends only digests down to the stores; the agent checks them."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from functools import lru_cache

PIN_ITERATIONS = 20_000


def hash_pin(pin: str, salt: bytes | None = None) -> str:
    salt = salt or secrets.token_bytes(16)
    digest = hashlib.pbkdf2_hmac("sha256", pin.encode(), salt, PIN_ITERATIONS)
    return f"pbkdf2_sha256${PIN_ITERATIONS}${salt.hex()}${digest.hex()}"


@lru_cache(maxsize=4096)
def pin_matches(pin: str, stored: str) -> bool:
    """Check a PIN against its stored digest (cached: a till checks the same PINs all day)."""
    try:
        scheme, iterations, salt, digest = stored.split("$")
        candidate = hashlib.pbkdf2_hmac("sha256", pin.encode(), bytes.fromhex(salt),
                                        int(iterations))
    except ValueError:
        return False
    return scheme == "pbkdf2_sha256" and hmac.compare_digest(candidate.hex(), digest)
