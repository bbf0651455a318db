"""Findings, labels, metrics and the Summary -> the change list (xlplugin.changes), the seam
both targets apply."""
