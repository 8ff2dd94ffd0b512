"""check_callout: predict what a callout-verifying receiver does with an envelope sender."""

__version__ = "0.1.0"
