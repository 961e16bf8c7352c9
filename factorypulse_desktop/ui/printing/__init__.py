"""Printable documents (PDF) written with Qt, fed with plain data from the services."""
