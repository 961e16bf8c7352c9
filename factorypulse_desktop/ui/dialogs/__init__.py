"""dialogs of the desktop shell."""
