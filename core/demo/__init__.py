"""The bundled demo: Ledgerly support-copilot transcripts with synthetic reviewers' labels."""

from core.demo.load import DemoSummary, demo_present, is_empty, load_demo

__all__ = ["DemoSummary", "demo_present", "is_empty", "load_demo"]
