"""Reports: what the storylines and duplicates of an input look like, as one self-contained HTML page."""

from .html import render_report, write_report

__all__ = ["render_report", "write_report"]
