"""Dataset error types: each names the file (or files) involved and what to do."""
from __future__ import annotations


class DatasetError(Exception):
    """Base class for lepton.datasets errors."""


class DatasetCorruptError(DatasetError, ValueError):
    """A dataset file exists but is not a valid file of the expected kind."""


class DatasetNotFoundError(DatasetError, FileNotFoundError):
    """No copy of a dataset file was found and it could not be downloaded.

    The message lists every path searched, where to put the files, and the URLs tried.
    """


class DownloadError(DatasetError, OSError):
    """A single download failed (HTTP error, timeout, truncation or checksum mismatch)."""
