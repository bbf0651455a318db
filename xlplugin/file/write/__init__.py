"""The file target: a lossless OOXML package writer (see writer.apply_to_file)."""

from xlplugin.file.write.writer import ApplyResult, apply_to_file

__all__ = ["ApplyResult", "apply_to_file"]
