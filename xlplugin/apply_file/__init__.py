"""The file target: a lossless OOXML package writer (see writer.apply_to_file)."""

from xlplugin.apply_file.writer import ApplyResult, apply_to_file

__all__ = ["ApplyResult", "apply_to_file"]
