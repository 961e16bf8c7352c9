"""Printable documents (PDF) made with Qt from plain data the services return."""
