"""Factory Pulse Desktop: a job shop's customer projects from intake to delivery."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("factorypulse-desktop")
except PackageNotFoundError:  # running from a source tree without installation
    __version__ = "0.0.0+unknown"
