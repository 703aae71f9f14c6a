"""The bundled demo: Ledgerly support-copilot transcripts with synthetic reviewers' labels."""

from core.demo.load import DemoSummary, is_empty, load_demo

__all__ = ["DemoSummary", "is_empty", "load_demo"]
