"""smartcity: an open smart-city platform for Ho Chi Minh City."""

__version__ = "0.1.0"
