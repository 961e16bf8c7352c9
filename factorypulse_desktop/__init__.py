"""Factory Pulse Desktop: a job shop's customer projects from intake to delivery."""

__version__ = "0.1.0"
