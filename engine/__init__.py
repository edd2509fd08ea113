"""Likeness render engine: plain data in, pixels and samples out. Never imports Django."""

__version__ = "0.1.0"
