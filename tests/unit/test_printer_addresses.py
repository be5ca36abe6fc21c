"""Printer URLs are checked when the config is read, and a USB printer that is not there is a
clear, named 'offline' — never an exception into the print queue."""

from __future__ import annotations

import pytest

from drivers.printer import PrinterAddress, PrinterNotReady, check_url, print_job, usb_target
from drivers.status import PrinterState


@pytest.mark.parametrize("url", ["tcp://127.0.0.1:9100", "serial:///dev/ttyUSB0?baudrate=19200",
                                 "file:///dev/usb/lp0", "usb://04b8:0202",
                                 "usb://04B8:0E15?in_ep=0x81&out_ep=0x02"])
def test_good_printer_urls(url: str) -> None:
    assert check_url(url) is None


@pytest.mark.parametrize(("url", "problem"), [
    ("usb://epson", "4-digit hex ids"),
    ("usb://04b8:0202?in_ep=eight", "in_ep must be a number"),
    ("lpt://1", "must be tcp://"),
    ("tcp://printer", "must be tcp://"),
])
def test_bad_printer_urls_say_what_to_write(url: str, problem: str) -> None:
    assert problem in (check_url(url) or "")


def test_usb_endpoints_default_to_the_common_ones() -> None:
    target = usb_target("usb://04b8:0202")
    assert (target.vendor, target.product, target.in_ep, target.out_ep) == (0x04B8, 0x0202,
                                                                           0x82, 0x01)
    assert str(target) == "04b8:0202"


def test_a_usb_printer_that_is_not_there_is_offline_and_named() -> None:
    # No such device on this machine (and maybe no libusb): either way a clear offline state.
    with pytest.raises(PrinterNotReady) as caught:
        print_job(PrinterAddress("usb://04b8:0202", timeout=0.5), b"hello\n")
    assert caught.value.state == PrinterState.OFFLINE
    message = str(caught.value)
    assert "USB 04b8:0202" in message
    assert "not found" in message or "libusb" in message
