"""Download one file from a list of mirrors: verified, atomic, resumable, with progress.

- Each mirror is tried in order; transient failures (timeouts, resets, truncated bodies,
  HTTP 5xx/429/408) are retried on the same mirror with exponential backoff, resuming
  with an HTTP ``Range`` request when the server honours it (206) and restarting otherwise.
  Permanent failures (404, 403, unknown host) and checksum mismatches move on to the next
  mirror at once.
- Every socket operation has a timeout, so a stalled connection fails instead of hanging.
- Bytes go to a temporary ``.<name>.*.part`` file next to the destination; only a file
  whose sha256 (and optional ``validate`` callback) checks out is fsynced and renamed into
  place. Any failure deletes the temporary file: nothing half-written is ever left behind.
- Progress goes to stderr: one redrawn line on a terminal, one line per file otherwise.

Settings (read at call time, so tests can set them): ``LEPTON_DATASETS_TIMEOUT`` (seconds
per socket operation, default 30), ``LEPTON_DATASETS_RETRIES`` (attempts per mirror,
default 3), ``LEPTON_DATASETS_BACKOFF`` (first retry delay in seconds, default 1).
"""
from __future__ import annotations

import errno
import hashlib
import http.client
import os
import socket
import ssl
import sys
import tempfile
import time
import urllib.error
import urllib.request

from ._errors import DownloadError

DEFAULT_TIMEOUT = 30.0
DEFAULT_RETRIES = 3
DEFAULT_BACKOFF = 1.0
_CHUNK = 1 << 16
_USER_AGENT = "lepton-datasets/0.1 (+https://github.com/; python-urllib)"


def _env_number(name: str, default: float, kind=float) -> float:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = kind(raw)
    except ValueError:
        raise ValueError(f"{name}={raw!r} is not a valid {kind.__name__}") from None
    if value < 0:
        raise ValueError(f"{name}={raw!r} must not be negative")
    return value


class _Transient(Exception):
    """A failure worth retrying on the same mirror (after a backoff)."""


class _Permanent(Exception):
    """A failure that retrying this mirror will not fix."""


class _Unreachable(_Permanent):
    """The host could not be resolved or connected to (no network?)."""


def _human(n: float) -> str:
    for unit in ("B", "kB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n:.1f} GB"  # pragma: no cover


class Progress:
    """A one-line download progress display on ``stream`` (stderr by default).

    On a terminal the line is redrawn in place at most 10 times a second. Elsewhere (a log
    file, a pipe) the line is written once when the download starts and finished with the
    outcome, so a log gets one line per file however large it is.
    """

    def __init__(self, label: str, total: int | None, stream=None, enabled: bool = True,
                 short: str | None = None):
        self.label, self.total = label, total
        self.short = short or label
        self.stream = sys.stderr if stream is None else stream
        self.enabled = enabled
        try:
            self.tty = bool(self.stream.isatty())
        except (AttributeError, ValueError):
            self.tty = False
        self.start = time.monotonic()
        self.last = 0.0
        self.done = 0
        if enabled and not self.tty:
            size = f" ({_human(total)})" if total else ""
            self._write(f"lepton.datasets: downloading {label}{size} ...")

    def _write(self, text: str) -> None:
        try:
            self.stream.write(text)
            self.stream.flush()
        except (OSError, ValueError):  # a closed stderr must not break a download
            self.enabled = False

    def update(self, done: int, total: int | None = None) -> None:
        self.done = done
        if total:
            self.total = total
        now = time.monotonic()
        if not (self.enabled and self.tty) or now - self.last < 0.1:
            return
        self.last = now
        rate = done / max(now - self.start, 1e-6)
        if self.total:
            frac = min(done / self.total, 1.0)
            bar = "#" * int(24 * frac) + "." * (24 - int(24 * frac))
            text = (f"{self.short} {frac * 100:3.0f}% [{bar}] {_human(done)}/"
                    f"{_human(self.total)} {_human(rate)}/s")
        else:
            text = f"{self.short} {_human(done)} {_human(rate)}/s"
        self._write("\r" + text[:120].ljust(79))

    def close(self, outcome: str) -> None:
        if not self.enabled:
            return
        secs = time.monotonic() - self.start
        if self.tty:
            self._write(f"\r{self.short}: {outcome} ({_human(self.done)} in {secs:.1f} s)"
                        .ljust(79) + "\n")
        else:
            self._write(f" {outcome} ({_human(self.done)} in {secs:.1f} s)\n")


_UNREACHABLE_ERRNOS = {errno.ECONNREFUSED, errno.ENETUNREACH, errno.EHOSTUNREACH,
                       errno.EADDRNOTAVAIL}


def _classify(exc: BaseException) -> Exception:
    """Map a urllib/socket error to _Transient, _Permanent or _Unreachable.

    urllib wraps errors raised while connecting in URLError; a raw TimeoutError means the
    server accepted the connection and then stalled, which is worth a retry.
    """
    if isinstance(exc, urllib.error.HTTPError):
        why = f"HTTP {exc.code} {exc.reason}"
        if exc.code >= 500 or exc.code in (408, 429):
            return _Transient(why)
        return _Permanent(why)
    if isinstance(exc, urllib.error.URLError):
        reason = exc.reason
        if isinstance(reason, (TimeoutError, socket.timeout)):
            return _Unreachable("timed out while connecting")
        if isinstance(reason, socket.gaierror):
            return _Unreachable(f"cannot resolve the host ({reason})")
        if isinstance(reason, ssl.SSLError):
            return _Permanent(f"TLS error ({reason})")
        if isinstance(reason, OSError) and reason.errno in _UNREACHABLE_ERRNOS:
            return _Unreachable(f"cannot connect ({reason})")
        return _Transient(str(reason))
    if isinstance(exc, (TimeoutError, socket.timeout)):
        return _Transient("timed out (the server sent nothing within the timeout)")
    if isinstance(exc, (http.client.HTTPException, OSError)):
        return _Transient(f"{type(exc).__name__}: {exc}")
    raise exc


def _open(url: str, offset: int, timeout: float):
    """Open ``url`` (from byte ``offset`` if > 0). Tests wrap this to police hosts."""
    headers = {"User-Agent": _USER_AGENT, "Accept-Encoding": "identity"}
    if offset:
        headers["Range"] = f"bytes={offset}-"
    return urllib.request.urlopen(urllib.request.Request(url, headers=headers),
                                  timeout=timeout)


def _transfer(url: str, fh, have: int, timeout: float, progress: Progress,
              size_hint: int | None) -> int:
    """Append ``url``'s bytes from ``have`` on to ``fh``; return the new byte count.

    Raises _Transient (with ``fh`` holding everything received so far) or _Permanent.
    """
    try:
        resp = _open(url, have, timeout)
    except Exception as e:  # noqa: BLE001 - classified below, unknown ones re-raised
        if isinstance(e, urllib.error.HTTPError):
            e.close()  # it holds the response's socket
        if isinstance(e, urllib.error.HTTPError) and e.code == 416 and have:
            fh.seek(0)
            fh.truncate()
            raise _Transient("the server refused to resume (HTTP 416); restarting") from None
        raise _classify(e) from None
    with resp:
        status = getattr(resp, "status", 200)
        length = resp.headers.get("Content-Length")
        length = int(length) if length and length.isdigit() else None
        if have and status == 206:
            crange = resp.headers.get("Content-Range", "")
            if not crange.startswith(f"bytes {have}-"):
                fh.seek(0)
                fh.truncate()
                raise _Transient(f"the server resumed at the wrong offset ({crange!r})")
        elif have:  # 200: the server ignored Range and sends the whole file
            fh.seek(0)
            fh.truncate()
            have = 0
        expected = have + length if length is not None else size_hint
        progress.update(have, expected)
        got = 0
        while True:
            try:
                chunk = resp.read1(_CHUNK)  # what has arrived: a stall loses nothing
            except Exception as e:  # noqa: BLE001 - network errors; a local write error
                fh.flush()          # (disk full) below propagates as it is
                raise _classify(e) from None
            if not chunk:
                break
            fh.write(chunk)
            got += len(chunk)
            progress.update(have + got)
        fh.flush()
        if length is not None and got < length:
            raise _Transient(f"connection closed after {have + got} of {have + length} bytes")
        return have + got


def _sha256(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def download(urls, dest: str, *, sha256: str | None, size: int | None = None,
             validate=None, timeout: float | None = None, retries: int | None = None,
             backoff: float | None = None, verbose: bool = True, stream=None) -> str:
    """Fetch ``dest`` from the first of ``urls`` that yields a verified copy; return ``dest``.

    ``sha256`` is the expected digest (None skips the check: only for callers that
    ``validate`` the content instead). ``validate(path)`` may raise to reject a download.
    Raises :class:`DownloadError` listing every URL and why it failed; its
    ``unreachable`` attribute is True when no mirror could even be contacted.
    """
    timeout = _env_number("LEPTON_DATASETS_TIMEOUT", DEFAULT_TIMEOUT) if timeout is None \
        else timeout
    retries = int(_env_number("LEPTON_DATASETS_RETRIES", DEFAULT_RETRIES, int)) \
        if retries is None else retries
    backoff = _env_number("LEPTON_DATASETS_BACKOFF", DEFAULT_BACKOFF) if backoff is None \
        else backoff
    retries = max(1, retries)
    dest = os.fspath(dest)
    directory, name = os.path.split(dest)
    os.makedirs(directory or ".", exist_ok=True)
    failures: list[tuple[str, str]] = []
    unreachable = True
    for url in urls:
        fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=".part", dir=directory or ".")
        progress = Progress(url, size, stream=stream, enabled=verbose, short=name)
        outcome = "failed"
        try:
            with os.fdopen(fd, "wb") as fh:
                have = 0
                for attempt in range(retries):
                    if attempt:
                        time.sleep(min(backoff * 2 ** (attempt - 1), 30.0))
                    try:
                        have = _transfer(url, fh, fh.tell(), timeout, progress, size)
                        break
                    except _Transient as e:
                        unreachable = False
                        failures.append((url, f"attempt {attempt + 1}/{retries}: {e}"))
                    except _Unreachable as e:
                        failures.append((url, str(e)))
                        raise
                    except _Permanent as e:
                        unreachable = False
                        failures.append((url, str(e)))
                        raise
                else:
                    raise _Permanent("gave up after retries")
                fh.flush()
                os.fsync(fh.fileno())
            unreachable = False
            if sha256 is not None:
                digest = _sha256(tmp)
                if digest != sha256:
                    failures.append((url, f"checksum mismatch: got sha256 {digest}, "
                                          f"expected {sha256} ({have} bytes)"))
                    outcome = "failed: checksum mismatch"
                    continue
            if validate is not None:
                try:
                    validate(tmp)
                except Exception as e:  # noqa: BLE001 - any rejection moves to the next mirror
                    failures.append((url, f"invalid content: {e}"))
                    outcome = "failed: invalid content"
                    continue
            os.chmod(tmp, 0o644)  # mkstemp made it 0600
            os.replace(tmp, dest)
            tmp = None
            outcome = "done"
            return dest
        except _Permanent:
            outcome = f"failed: {failures[-1][1]}" if failures else "failed"
            continue
        finally:
            progress.close(outcome)
            if tmp is not None:
                try:
                    os.unlink(tmp)
                except FileNotFoundError:
                    pass
    err = DownloadError(f"could not download {name}:\n" + "\n".join(
        f"  {u}: {why}" for u, why in failures) if failures else
        f"could not download {name}: no URLs to try")
    err.failures = failures
    err.unreachable = unreachable and bool(failures)
    raise err
