"""TLS for ``openpit serve``: the server context, and a self-signed certificate.

Where the certificate comes from (first match wins):
1. ``--tls self-signed`` or ``--tls-cert FILE --tls-key FILE`` on the command line;
2. ``[server] tls = "self-signed"`` or ``[server] tls_cert`` / ``tls_key`` in the
   config (relative paths are relative to the config file's directory);
3. none: plain ``http://`` and ``ws://``.

Invariants:
- The context is ``ssl.create_default_context(Purpose.CLIENT_AUTH)`` with
  ``minimum_version = TLSv1_2``: the standard library's secure defaults, no TLS 1.0/1.1.
- A certificate or key that is missing, unreadable, not PEM or not a pair stops
  start-up with one ``TlsError`` line naming the file (the CLI prints it, exit 2).
- ``self-signed``: ``<data dir>/tls/cert.pem`` + ``key.pem`` for ``localhost``,
  ``127.0.0.1`` and ``::1`` (ECDSA P-256, ``cryptography``), made on first use and
  reused afterwards; the key is written 0600 from its first byte (``O_EXCL`` with
  mode 0600, whatever the umask); each file is written to a temporary name and
  renamed, the key first, so a certificate without its key is never left behind.
- ``fingerprint`` is the SHA-256 of the certificate's DER bytes, ``AA:BB:...``.
"""

from __future__ import annotations

import datetime
import hashlib
import ipaddress
import os
import ssl
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from openpit.config import ConfigError, VenueConfig

SELF_SIGNED = "self-signed"
TLS_DIR = "tls"
CERT_FILE = "cert.pem"
KEY_FILE = "key.pem"
VALID_DAYS = 825  # the longest validity browsers accept for a leaf certificate


class TlsError(ConfigError):
    """A certificate or key that cannot be used; the message names the file."""


@dataclass(frozen=True, slots=True)
class TlsSetup:
    context: ssl.SSLContext
    cert: Path
    key: Path
    fingerprint: str
    self_signed: bool


def server_context(cert: Path, key: Path) -> ssl.SSLContext:
    """A TLS 1.2+ server context for the pair, or one ``TlsError`` naming the file."""
    for what, path in (("certificate", cert), ("key", key)):
        try:
            with path.open("rb") as fh:
                head = fh.read(4096)
        except FileNotFoundError:
            raise TlsError(f"TLS {what} {path}: no such file") from None
        except OSError as exc:
            raise TlsError(f"TLS {what} {path}: cannot read it ({exc.strerror})") from None
        if b"-----BEGIN" not in head:
            raise TlsError(f"TLS {what} {path}: not a PEM file") from None
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        context.load_cert_chain(cert, key)
    except ssl.SSLError as exc:
        reason = (exc.reason or str(exc)).lower().replace("_", " ")
        if "mismatch" in reason or "values mismatch" in reason:
            raise TlsError(f"TLS key {key}: does not match the certificate {cert}") from None
        if "pem lib" in reason or "no start line" in reason:  # which one: try each alone
            raise TlsError(_which_unreadable(cert, key, reason)) from None
        raise TlsError(f"TLS certificate {cert} / key {key}: {reason}") from None
    return context


def _which_unreadable(cert: Path, key: Path, reason: str) -> str:
    try:
        x509.load_pem_x509_certificate(cert.read_bytes())
    except ValueError:
        return f"TLS certificate {cert}: not a PEM certificate"
    try:
        serialization.load_pem_private_key(key.read_bytes(), password=None)
    except (ValueError, TypeError):
        return f"TLS key {key}: not an unencrypted PEM private key"
    return f"TLS key {key}: does not match the certificate {cert} ({reason})"


def fingerprint(cert: Path) -> str:
    """SHA-256 of the certificate's DER encoding, as ``AA:BB:...``."""
    der = x509.load_pem_x509_certificate(cert.read_bytes()).public_bytes(serialization.Encoding.DER)
    return ":".join(f"{b:02X}" for b in hashlib.sha256(der).digest())


def ensure_self_signed(data_dir: Path, now: datetime.datetime | None = None) -> tuple[Path, Path]:
    """``(cert, key)`` under ``data_dir/tls``, made on first use (module docstring)."""
    folder = data_dir / TLS_DIR
    cert, key = folder / CERT_FILE, folder / KEY_FILE
    if cert.exists() and key.exists():
        return cert, key
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(folder, 0o700)
    private = ec.generate_private_key(ec.SECP256R1())
    now = now or datetime.datetime.now(datetime.UTC)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "openpit localhost")])
    sans = [
        x509.DNSName("localhost"),
        x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
        x509.IPAddress(ipaddress.ip_address("::1")),
    ]
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(private.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=VALID_DAYS))
        .add_extension(x509.SubjectAlternativeName(sans), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False
        )
        .sign(private, hashes.SHA256())
    )
    key_pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    _write(key, key_pem, 0o600)  # the key first: a certificate alone is never left behind
    _write(cert, certificate.public_bytes(serialization.Encoding.PEM), 0o644)
    return cert, key


def _write(path: Path, data: bytes, mode: int) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        os.fchmod(fd, mode)  # whatever the umask
        with os.fdopen(fd, "wb", closefd=False) as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
    finally:
        os.close(fd)
    os.replace(tmp, path)


def _config_path(config: VenueConfig, value: Any, key: str) -> Path:
    if not isinstance(value, str) or not value:
        raise ConfigError(f"{config.source}: server.{key}: expected a file path, got {value!r}")
    path = Path(value).expanduser()
    base = Path(config.source).parent
    if not path.is_absolute() and Path(config.source).is_file():
        path = base / path
    return path


def resolve_tls(
    config: VenueConfig,
    data_dir: Path,
    tls: str | None = None,
    cert: str | None = None,
    key: str | None = None,
) -> TlsSetup | None:
    """The TLS setup the command line and ``[server]`` ask for, or None (plain)."""
    if tls is not None and tls != SELF_SIGNED:
        raise TlsError(f"--tls: only {SELF_SIGNED!r} is known, got {tls!r}")
    if tls is not None and (cert or key):
        raise TlsError("--tls self-signed and --tls-cert/--tls-key: choose one")
    if (cert is None) != (key is None):
        raise TlsError("--tls-cert and --tls-key go together: pass both")
    table = config.extra.get("server", {})
    if tls is None and cert is None:
        mode = table.get("tls")
        if mode is not None and mode != SELF_SIGNED:
            raise ConfigError(
                f"{config.source}: server.tls: only {SELF_SIGNED!r} is known, got {mode!r}"
            )
        has_cert, has_key = "tls_cert" in table, "tls_key" in table
        if has_cert != has_key:
            raise ConfigError(f"{config.source}: server.tls_cert and server.tls_key go together")
        if mode is not None and has_cert:
            raise ConfigError(
                f"{config.source}: server.tls = 'self-signed' and server.tls_cert: choose one"
            )
        if mode is not None:
            tls = SELF_SIGNED
        elif has_cert:
            cert_path = _config_path(config, table["tls_cert"], "tls_cert")
            key_path = _config_path(config, table["tls_key"], "tls_key")
            return _setup(cert_path, key_path, self_signed=False)
        else:
            return None
    if tls == SELF_SIGNED:
        cert_path, key_path = ensure_self_signed(data_dir)
        return _setup(cert_path, key_path, self_signed=True)
    assert cert is not None and key is not None
    return _setup(Path(cert).expanduser(), Path(key).expanduser(), self_signed=False)


def _setup(cert: Path, key: Path, *, self_signed: bool) -> TlsSetup:
    context = server_context(cert, key)
    return TlsSetup(context, cert, key, fingerprint(cert), self_signed)
