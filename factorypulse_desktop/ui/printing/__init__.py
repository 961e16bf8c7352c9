"""Printable documents drawn with Qt (QPdfWriter/QPainter) from plain data of the services."""
