"""backup layer."""
