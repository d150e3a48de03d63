"""EncryptedSpool: a write-then-read temporary buffer that never holds plaintext on disk.

Werkzeug's multipart parser writes each uploaded file part into a stream it
gets from Request._get_file_stream, then seeks to 0 and hands it to the view.
Its default spools parts over 500 KB into a plaintext temporary file. This
spool keeps up to one segment in memory; beyond that it seals segments with
AES-256-GCM under a key generated for this spool alone and held only in this
object (never wrapped, never written), into an anonymous temporary file
(unlinked at creation where the OS allows). When the request ends the key is
gone, so even a leftover file is noise.

Nonces are the segment counter (the key is used for one spool only); the AD
holds the index and a last-segment flag, so the file cannot be truncated or
reordered underneath us without the read failing.
"""

from __future__ import annotations

import contextlib
import io
import os
import tempfile
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from .errors import DecryptionError

SPOOL_SEGMENT = 256 * 1024
_TAG = 16


def _nonce(index: int) -> bytes:
    return index.to_bytes(12, "big")


def _ad(index: int, last: bool) -> bytes:
    return b"TWSPOOL" + index.to_bytes(8, "big") + (b"\x01" if last else b"\x00")


class EncryptedSpool:
    """File-like: write() everything, seek(0), then read(). Constant memory."""

    def __init__(self, directory: str | os.PathLike[str] | None, segment: int = SPOOL_SEGMENT) -> None:
        # directory None: the sealed segments stay in memory (the anonymous desk, whose requests must
        # leave nothing on disk that dates them; its uploads are bounded and read into memory anyway).
        self._dir = Path(directory) if directory is not None else None
        self._segment = segment
        self._aead = AESGCM(AESGCM.generate_key(bit_length=256))
        self._wbuf = bytearray()
        self._file = None  # created only once more than one segment was written
        self._sealed = 0  # segments written to the file
        self._writing = True
        self._final_memory: bytes | None = None  # whole content when it never left memory
        self._rbuf = b""
        self._rpos = 0  # position inside _rbuf
        self._rindex = 0
        self._eof = False
        self._size = 0
        self._offset = 0  # plaintext bytes returned so far
        self.closed = False

    # -- writing -------------------------------------------------------------
    def writable(self) -> bool:
        return self._writing

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def write(self, data: bytes) -> int:
        if not self._writing:
            raise OSError("EncryptedSpool: write after reading started")
        self._wbuf += data
        self._size += len(data)
        while len(self._wbuf) > self._segment:  # keep one byte back: the last segment is sealed at seek(0)
            self._seal(bytes(self._wbuf[: self._segment]), last=False)
            del self._wbuf[: self._segment]
        return len(data)

    def _seal(self, chunk: bytes, *, last: bool) -> None:
        if self._file is None:
            if self._dir is None:
                self._file = io.BytesIO()
            else:
                self._dir.mkdir(parents=True, exist_ok=True, mode=0o700)
                self._file = tempfile.TemporaryFile(dir=self._dir, prefix=".spool-")
        ct = self._aead.encrypt(_nonce(self._sealed), chunk, _ad(self._sealed, last))
        self._file.write(len(ct).to_bytes(4, "big") + ct)
        self._sealed += 1

    def flush(self) -> None:
        pass

    def _finish_writing(self) -> None:
        if not self._writing:
            return
        self._writing = False
        if self._file is None:
            self._final_memory = bytes(self._wbuf)  # small part: never touched the disk
        else:
            self._seal(bytes(self._wbuf), last=True)
            self._file.flush()
        self._wbuf = bytearray()

    # -- reading -------------------------------------------------------------
    def seek(self, offset: int, whence: int = 0) -> int:
        if whence == os.SEEK_END and offset == 0:
            # FileStorage and others ask for the size this way; reading restarts at 0 afterwards.
            self._finish_writing()
            self._rewind()
            self._skip = self._size
            return self._size
        if whence != 0 or offset != 0:
            raise OSError("EncryptedSpool supports seek(0) and seek(0, 2) only")
        self._finish_writing()
        self._rewind()
        return 0

    _skip = 0

    def _rewind(self) -> None:
        self._skip = 0
        self._rbuf, self._rpos, self._rindex, self._eof, self._offset = b"", 0, 0, False, 0
        if self._file is not None:
            self._file.seek(0)
        if self._final_memory is not None:
            self._rbuf = self._final_memory
            self._eof = True

    def tell(self) -> int:
        return self._size if self._writing else self._offset + self._skip

    def _next_segment(self) -> bool:
        if self._eof or self._file is None:
            return False
        head = self._file.read(4)
        if len(head) < 4:
            raise DecryptionError("upload spool is truncated")
        n = int.from_bytes(head, "big")
        ct = self._file.read(n)
        last = self._rindex == self._sealed - 1
        if len(ct) != n or n < _TAG or self._rindex >= self._sealed:
            raise DecryptionError("upload spool is truncated")
        try:
            self._rbuf = self._aead.decrypt(_nonce(self._rindex), ct, _ad(self._rindex, last))
        except InvalidTag:
            raise DecryptionError("upload spool was modified on disk") from None
        self._rpos = 0
        self._rindex += 1
        self._eof = last
        return True

    def read(self, n: int = -1) -> bytes:
        if self._writing:
            self._finish_writing()
            self._rewind()
        if self._skip:
            return b""
        parts: list[bytes] = []
        got = 0
        while n < 0 or got < n:
            avail = len(self._rbuf) - self._rpos
            if avail <= 0:
                if not self._next_segment():
                    break
                continue
            take = avail if n < 0 else min(n - got, avail)
            # A whole segment is handed over as is: no copy on the common path.
            parts.append(self._rbuf if take == len(self._rbuf) else self._rbuf[self._rpos : self._rpos + take])
            self._rpos += take
            got += take
        self._offset += got
        return parts[0] if len(parts) == 1 else b"".join(parts)

    def readinto(self, buf: bytearray | memoryview) -> int:
        data = self.read(len(buf))
        buf[: len(data)] = data
        return len(data)

    def readline(self, limit: int = -1) -> bytes:
        out = bytearray()
        while limit < 0 or len(out) < limit:
            c = self.read(1)
            if not c:
                break
            out += c
            if c == b"\n":
                break
        return bytes(out)

    def __iter__(self):
        while True:
            line = self.readline()
            if not line:
                return
            yield line

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
        self._file = None
        self._final_memory = None
        self._rbuf = b""
        self._wbuf = bytearray()
        self.closed = True

    def __enter__(self) -> EncryptedSpool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        with contextlib.suppress(Exception):  # at interpreter shutdown anything may be gone
            self.close()
