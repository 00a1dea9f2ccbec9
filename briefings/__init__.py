"""briefings: turn child-protection case reviews into a podcast every practitioner can subscribe to."""

__version__ = "0.1.0"
