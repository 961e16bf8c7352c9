"""gdrive layer."""
