"""A gallery of marketing workbooks as people keep them, built from code (see gallery.py).

Each workbook states which sheet and table must be found, its kind, what its columns mean
and which findings it must produce; tests/test_locate_realworld.py asserts them through the CLI.
"""
