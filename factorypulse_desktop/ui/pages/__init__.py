"""pages of the desktop shell."""
