"""callcheck: offline speech analysis of recorded phone calls."""

__version__ = "0.1.0"
