"""TLS contexts from settings: serving HTTPS directly, and trusting a private head-office CA."""

from __future__ import annotations

import ssl
from pathlib import Path

from config import ConfigValueError
from config.settings import HttpSettings


def server_ssl_context(http: HttpSettings, source: str) -> ssl.SSLContext | None:
    """The context to serve HTTPS with, or None for plain HTTP; a bad pair is a config error."""
    if http.tls_cert_file is None and http.tls_key_file is None:
        return None
    if http.tls_cert_file is None or http.tls_key_file is None:
        missing = "http.tls_key_file" if http.tls_key_file is None else "http.tls_cert_file"
        raise ConfigValueError(source, missing, "tls_cert_file and tls_key_file go together")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        context.load_cert_chain(http.tls_cert_file, http.tls_key_file)
    except (OSError, ssl.SSLError) as exc:
        raise ConfigValueError(source, "http.tls_cert_file",
                               f"cannot load {http.tls_cert_file} / {http.tls_key_file}: {exc}"
                               ) from None
    return context


def client_ssl_context(ca_file: Path | None) -> ssl.SSLContext | None:
    """Verify head office against ``ca_file`` if given; None means the system's trust store."""
    if ca_file is None:
        return None
    try:
        return ssl.create_default_context(cafile=str(ca_file))
    except (OSError, ssl.SSLError) as exc:
        raise ConfigValueError(str(ca_file), "head_office.ca_file",
                               f"cannot load the CA file: {exc}") from None
