"""The ``backoffice demo`` command: a simulated chain on emulated hardware and loopback."""

from backoffice.demo.runner import DemoOptions, run_demo

__all__ = ["DemoOptions", "run_demo"]
