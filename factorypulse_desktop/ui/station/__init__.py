"""The full-screen shop-floor station."""
