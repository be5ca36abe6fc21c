"""API and store tokens: random, shown once, stored only as a SHA-256 digest.

Tokens carry 256 bits of randomness, so a fast hash is enough: there is nothing to brute-force
that a slow hash would protect. The prefix tells a reader what kind of token leaked.
"""

from __future__ import annotations

import hashlib
import secrets

STORE_TOKEN_PREFIX = "bos_"
API_TOKEN_PREFIX = "boa_"


def new_token(prefix: str) -> str:
    return prefix + secrets.token_urlsafe(32)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
