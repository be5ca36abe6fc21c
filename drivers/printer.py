"""The receipt printer's transports: a network printer on its raw port (``tcp://HOST:9100``),
a serial printer through pyserial (``serial:///dev/ttyUSB0?baudrate=19200``, any
``serial_for_url`` URL after the ``serial:`` prefix), a USB printer through python-escpos's
``Usb`` class and pyusb (``usb://04b8:0202``: vendor and product id in hex, optionally
``?in_ep=0x82&out_ep=0x01``), or a file / character device (``file:///dev/usb/lp0``).

Before a job the driver asks the printer's real-time status (DLE EOT 1, 2, 4) where the
transport can answer, and sends nothing to a printer that is out of paper, has its cover open
or does not answer — the job stays queued and the state is reported. Blocking I/O: the agent
calls it from a worker thread.
"""

from __future__ import annotations

import re
import socket
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import serial
import usb.core
from escpos.exceptions import DeviceNotFoundError
from escpos.printer import Usb

from drivers.status import PrinterState, drawer_open_from, state_from


@dataclass(frozen=True, slots=True)
class PrinterStatus:
    state: PrinterState
    drawer_open: bool | None = None  # None where the transport cannot tell


class PrinterNotReady(Exception):
    def __init__(self, state: PrinterState, detail: str) -> None:
        self.state = state
        super().__init__(detail)


@dataclass(frozen=True, slots=True)
class PrinterAddress:
    url: str
    timeout: float = 3.0

    @property
    def scheme(self) -> str:
        return urlsplit(self.url).scheme


def check_url(url: str) -> str | None:
    """A problem with a printer URL, or None."""
    parts = urlsplit(url)
    if parts.scheme == "tcp" and parts.hostname and parts.port:
        return None
    if parts.scheme == "file" and parts.path:
        return None
    if parts.scheme == "serial" and url[len("serial:"):].strip("/"):
        return None
    if parts.scheme == "usb":
        try:
            usb_target(url)
        except ValueError as exc:
            return str(exc)
        return None
    return ("must be tcp://HOST:PORT (a network printer, usually port 9100), "
            "serial:///dev/ttyUSB0?baudrate=19200, usb://VENDOR:PRODUCT (hex ids, e.g. "
            "usb://04b8:0202) or file:///dev/usb/lp0")


_USB_IDS = re.compile(r"^([0-9a-fA-F]{4}):([0-9a-fA-F]{4})$")


@dataclass(frozen=True, slots=True)
class UsbTarget:
    vendor: int
    product: int
    in_ep: int = 0x82
    out_ep: int = 0x01

    def __str__(self) -> str:
        return f"{self.vendor:04x}:{self.product:04x}"


def usb_target(url: str) -> UsbTarget:
    """``usb://04b8:0202?in_ep=0x82&out_ep=0x01`` as ids and endpoints; ValueError if not."""
    parts = urlsplit(url)
    ids = _USB_IDS.fullmatch(parts.netloc)
    if ids is None:
        raise ValueError("a USB printer is usb://VENDOR:PRODUCT with 4-digit hex ids, e.g. "
                         "usb://04b8:0202 (lsusb shows them)")
    query = parse_qs(parts.query)
    endpoints = {}
    for name, default in (("in_ep", 0x82), ("out_ep", 0x01)):
        text = query.get(name, [str(default)])[0]
        try:
            endpoints[name] = int(text, 0)
        except ValueError:
            raise ValueError(f"{name} must be a number such as 0x82, got {text!r}") from None
    return UsbTarget(int(ids.group(1), 16), int(ids.group(2), 16), **endpoints)


def print_job(address: PrinterAddress, job: bytes) -> PrinterStatus:
    """Send ``job`` if the printer is ready; return its status (with the drawer's, where the
    printer reports it), or raise PrinterNotReady."""
    scheme = address.scheme
    if scheme == "tcp":
        return _over_tcp(address, job)
    if scheme == "serial":
        return _over_serial(address, job)
    if scheme == "usb":
        return _over_usb(address, job)
    if scheme == "file":
        try:
            with Path(urlsplit(address.url).path).open("ab") as device:
                device.write(job)
        except OSError as exc:
            raise PrinterNotReady(PrinterState.OFFLINE, f"{address.url}: {exc}") from exc
        return PrinterStatus(PrinterState.UNKNOWN)
    raise PrinterNotReady(PrinterState.OFFLINE, f"{address.url}: unsupported printer URL")


def _ask(read: Callable[[], bytes], write: Callable[[bytes], object]) -> PrinterStatus:
    answers = []
    for request in (1, 2, 4):
        write(bytes((0x10, 0x04, request)))
        answer = read()
        if not answer:
            return PrinterStatus(PrinterState.OFFLINE)
        answers.append(answer[0])
    return PrinterStatus(state_from(*answers), drawer_open_from(answers[0]))


def _exchange(read: Callable[[], bytes], write: Callable[[bytes], object], job: bytes,
              where: str) -> PrinterStatus:
    """Ask the printer's status, send ``job`` only if it can print, then ask again: a cover
    opened or paper run out *during* the receipt means it did not come out whole, and the
    job stays queued."""
    status = _ask(read, write)
    if not status.state.can_print:
        raise PrinterNotReady(status.state, f"printer {where} is "
                                            f"{status.state.value.replace('_', ' ')}")
    if not job:
        return status
    write(job)
    after = _ask(read, write)
    if not after.state.can_print:
        raise PrinterNotReady(after.state, f"printer {where} became "
                                           f"{after.state.value.replace('_', ' ')} during the "
                                           "receipt; it will be printed again")
    return after


def _over_tcp(address: PrinterAddress, job: bytes) -> PrinterStatus:
    parts = urlsplit(address.url)
    where = f"at {parts.hostname}:{parts.port}"
    try:
        with socket.create_connection((parts.hostname, parts.port),
                                      timeout=address.timeout) as sock:
            return _exchange(lambda: sock.recv(1), sock.sendall, job, where)
    except TimeoutError as exc:
        raise PrinterNotReady(PrinterState.OFFLINE, f"printer {where} did not answer") from exc
    except OSError as exc:
        raise PrinterNotReady(PrinterState.OFFLINE, f"printer {where}: {exc.strerror or exc}"
                              ) from exc


def _over_serial(address: PrinterAddress, job: bytes) -> PrinterStatus:
    target = address.url[len("serial:"):]
    target = target[2:] if target.startswith("//") else target
    try:
        port = serial.serial_for_url(target, timeout=address.timeout,
                                     write_timeout=address.timeout)
    except (serial.SerialException, ValueError) as exc:
        raise PrinterNotReady(PrinterState.OFFLINE, f"{address.url}: {exc}") from exc
    try:
        def write(data: bytes) -> None:
            port.write(data)
            port.flush()

        return _exchange(lambda: port.read(1), write, job, f"on {target}")
    except serial.SerialException as exc:
        raise PrinterNotReady(PrinterState.OFFLINE, f"{address.url}: {exc}") from exc
    finally:
        port.close()


def _over_usb(address: PrinterAddress, job: bytes) -> PrinterStatus:
    target = usb_target(address.url)
    where = f"USB {target}"
    printer = Usb(target.vendor, target.product, timeout=int(address.timeout * 1000),
                  in_ep=target.in_ep, out_ep=target.out_ep)
    try:
        printer.open()
    except DeviceNotFoundError as exc:
        raise PrinterNotReady(PrinterState.OFFLINE, f"printer {where} not found: is it plugged "
                                                    "in and on, and may this user open it "
                                                    f"(udev rule)? {exc}") from exc
    except ValueError as exc:  # pyusb's NoBackendError: libusb is not installed
        raise PrinterNotReady(PrinterState.OFFLINE, f"printer {where}: {exc} — install libusb "
                                                    "(apt-get install libusb-1.0-0)") from exc
    try:
        return _exchange(lambda: bytes(printer._read()), printer._raw, job, where)
    except usb.core.USBError as exc:  # unplugged, or not answering (USBTimeoutError)
        raise PrinterNotReady(PrinterState.OFFLINE, f"printer {where}: {exc}") from exc
    finally:
        printer.close()
