"""nstopo: an editor for Linux virtual networks that makes them real."""

__version__ = "0.1.0"
