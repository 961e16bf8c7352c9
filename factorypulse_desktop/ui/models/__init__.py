"""models of the desktop shell."""
