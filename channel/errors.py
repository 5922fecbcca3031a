"""The channel's errors: frame sources, rendering, output files and scans that never finish.

Untrusted QR payloads never raise from here: a bad part is a ``shared.errors.URError``,
which :class:`~channel.receiver.Receiver` turns into a note. These are the other failures,
each naming ``where`` (a path, a device, a setting) and ``reason``:

    ColdsignError                       (shared.errors)
    └── ChannelError                    the QR channel cannot go on
        ├── SourceError                 a frame source cannot be opened or read
        │   ├── SourceNotFoundError     no such file, folder or camera index
        │   ├── CameraError             the camera cannot be opened or stopped giving frames
        │   ├── UnreadableVideoError    a video file that opencv cannot decode
        │   ├── NotAnImageError         an image file that does not decode as an image
        │   ├── EmptyFolderError        a folder with no image files in it
        │   └── UnsupportedSourceError  a spec or file extension that names no known source
        ├── RenderError                 a payload that cannot be drawn as a QR code
        ├── OutputError                 a PNG, GIF or MP4 that cannot be written
        ├── SettingError                an unknown density preset or sending order
        └── ScanNotConvergingError      too many parts arrived without completing a message
"""

from __future__ import annotations

from shared.errors import ColdsignError


class ChannelError(ColdsignError):
    """The QR channel cannot go on; ``where`` names the path, device or setting."""

    def __init__(self, where: str, reason: str) -> None:
        self.where = where
        self.reason = reason
        super().__init__(f"{where}: {reason}")


class SourceError(ChannelError):
    """A frame source that cannot be opened or read."""


class SourceNotFoundError(SourceError):
    """No file, folder or camera at the place named."""


class CameraError(SourceError):
    """A camera that cannot be opened or stopped delivering frames."""


class UnreadableVideoError(SourceError):
    """A video file that opencv cannot open or that yields no frame."""


class NotAnImageError(SourceError):
    """A file with an image extension whose bytes do not decode as an image."""


class EmptyFolderError(SourceError):
    """A folder source with no image file in it."""


class UnsupportedSourceError(SourceError):
    """A source spec or file extension that names no known kind of source."""


class RenderError(ChannelError):
    """A payload that cannot be drawn: not QR-alphanumeric, or too long for version 40."""


class OutputError(ChannelError):
    """An output file (PNG frames, GIF, MP4) that cannot be written."""


class SettingError(ChannelError):
    """An unknown density preset or sending order name."""


class ScanNotConvergingError(ChannelError):
    """More new parts arrived than any honest sender needs, and still no complete message."""
