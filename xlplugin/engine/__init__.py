"""The pure core: locate the table, parse it, check it, label its rows, compute metrics.
No file or Excel I/O here (see DESIGN.md)."""
