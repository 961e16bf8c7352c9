"""Document previews rendered in a separate, limited process (T-IN-07).

Deliberately empty: services import `preview.runner`, which must stay free of Qt even
indirectly, so this package's import may not pull in `preview.worker` (which uses Qt).
"""
