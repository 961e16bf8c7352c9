"""widgets of the desktop shell."""
