"""Read IDX files (LeCun's MNIST format), gzipped or not, with full validation.

An IDX file is a 4-byte magic number ``00 00 <type> <ndim>``, ``ndim`` big-endian uint32
dimensions, then the row-major data, big-endian. A corrupt file (bad magic, wrong length,
a damaged gzip stream or CRC) raises :class:`DatasetCorruptError` naming the file, never a
bare zlib/struct traceback.
"""
from __future__ import annotations

import gzip
import os
import struct
import sys
import zlib

import numpy as np

from ._errors import DatasetCorruptError

# IDX type byte -> big-endian NumPy dtype.
IDX_DTYPES = {0x08: np.dtype(">u1"), 0x09: np.dtype(">i1"), 0x0B: np.dtype(">i2"),
              0x0C: np.dtype(">i4"), 0x0D: np.dtype(">f4"), 0x0E: np.dtype(">f8")}

_GZIP_MAGIC = b"\x1f\x8b"
_MAX_ELEMENTS = 1 << 34  # a header claiming more is corrupt, not a request for 16 GiB


def _open(path: str):
    with open(path, "rb") as f:
        head = f.read(2)
    return gzip.open(path, "rb") if head == _GZIP_MAGIC else open(path, "rb")


def _read_exact(f, buf: memoryview) -> int:
    got = 0
    while got < len(buf):
        n = f.readinto(buf[got:])
        if not n:
            break
        got += n
    return got


def read_idx(path: str | os.PathLike, *, dtype: int | None = None,
             ndim: int | None = None) -> np.ndarray:
    """Return the array stored in the IDX file ``path`` (gzip detected by content).

    ``dtype`` (an IDX type byte, 0x08 for uint8) and ``ndim``, when given, are checked
    against the header. The result is a writable native-byte-order array.
    """
    path = os.fspath(path)
    name = os.path.basename(path)

    def bad(why: str) -> DatasetCorruptError:
        return DatasetCorruptError(
            f"{path} is not a valid IDX file: {why}. Delete it (or replace it with a good "
            f"copy of {name}) and try again.")

    try:
        with _open(path) as f:
            magic = f.read(4)
            if len(magic) < 4:
                raise bad(f"it is only {len(magic)} bytes long (an IDX header needs 4)")
            if magic[:2] != b"\x00\x00" or magic[2] not in IDX_DTYPES:
                raise bad(f"magic number {magic.hex()} is not 0000<type><ndim> with a "
                          f"known IDX type byte")
            code, nd = magic[2], magic[3]
            if dtype is not None and code != dtype:
                raise bad(f"its element type byte is 0x{code:02x}, expected 0x{dtype:02x}")
            if ndim is not None and nd != ndim:
                raise bad(f"it has {nd} dimensions, expected {ndim}")
            raw_dims = f.read(4 * nd)
            if len(raw_dims) < 4 * nd:
                raise bad("the header ends before its dimensions do")
            shape = struct.unpack(f">{nd}I", raw_dims)
            count = int(np.prod(shape, dtype=np.int64)) if nd else 1
            if count > _MAX_ELEMENTS:
                raise bad(f"its header claims an implausible shape {shape}")
            dt = IDX_DTYPES[code]
            out = np.empty(shape, dtype=dt.newbyteorder("="))
            want = out.nbytes
            got = _read_exact(f, memoryview(out.reshape(-1).view(np.uint8)))
            if got < want:
                raise bad(f"it is truncated: the header says {shape} ({want} data bytes) "
                          f"but only {got} follow")
            if f.read(1):  # also makes gzip check its CRC and length trailer
                raise bad(f"it has data after the {want} bytes its header {shape} announces")
    except DatasetCorruptError:
        raise
    except (gzip.BadGzipFile, EOFError, zlib.error) as e:
        raise bad(f"it cannot be decompressed ({type(e).__name__}: {e})") from None
    if dt.itemsize > 1 and sys.byteorder == "little":
        out.byteswap(inplace=True)  # the file's bytes are big-endian
    return out


def write_idx(path: str | os.PathLike, array, *, compress: bool | None = None) -> None:
    """Write ``array`` as an IDX file (gzipped when ``compress`` or when ``path`` ends in
    ``.gz``). The inverse of :func:`read_idx`, for making datasets in the MNIST format."""
    arr = np.asarray(array)
    codes = {dt.newbyteorder("=").str: code for code, dt in IDX_DTYPES.items()}
    code = codes.get(arr.dtype.newbyteorder("=").str)
    if code is None:
        raise TypeError(f"IDX files hold uint8, int8, int16, int32, float32 or float64; "
                        f"got {arr.dtype}")
    if arr.ndim > 255:
        raise ValueError(f"IDX files hold at most 255 dimensions, got {arr.ndim}")
    header = bytes([0, 0, code, arr.ndim]) + struct.pack(f">{arr.ndim}I", *arr.shape)
    body = np.ascontiguousarray(arr, dtype=IDX_DTYPES[code]).tobytes()
    path = os.fspath(path)
    if compress is None:
        compress = path.endswith(".gz")
    with (gzip.open(path, "wb") if compress else open(path, "wb")) as f:
        f.write(header + body)
