"""``backoffice devices test``: exercise each configured device once, as store IT would —
a test page and a drawer kick on the printer (or on the drawer's own serial port), a message
on the display, a weight from the scale, the scanner's port opened — and say how each one
is."""

from __future__ import annotations

from dataclasses import dataclass

import serial
from escpos.printer import Dummy

from config import AgentSettings
from drivers.display import DisplayGone, LineDisplay
from drivers.drawer import DrawerGone
from drivers.escpos_receipt import check_page_bytes
from drivers.printer import PrinterAddress, PrinterNotReady, print_job
from drivers.scale import Scale, ScaleFault, ScaleState
from store_agent.devices import serial_drawer
from store_agent.printing import layout_of


@dataclass(frozen=True, slots=True)
class DeviceCheck:
    device: str
    address: str
    test: str
    state: str
    detail: str = ""
    ok: bool = True


def check_devices(settings: AgentSettings) -> list[DeviceCheck]:
    checks = [_printer(settings), _scanner(settings), _display(settings), _scale(settings)]
    if settings.drawer.url:
        checks.insert(1, _serial_drawer(settings))
    return checks


def _not_configured(device: str, section: str) -> DeviceCheck:
    return DeviceCheck(device, "", "skipped", "not configured",
                       f"set [{section}] url in the store's config")


def _printer(settings: AgentSettings) -> DeviceCheck:
    printer = settings.printer
    if not printer.url:
        return _not_configured("receipt printer", "printer")
    layout = layout_of(settings)
    job = check_page_bytes(layout, settings.store.name or settings.store.id)
    test = "test page printed"
    if layout.drawer_pin:
        kick = Dummy()
        kick.cashdraw(layout.drawer_pin)
        job += bytes(kick.output)
        test += f", drawer kicked (pin {layout.drawer_pin})"
    try:
        status = print_job(PrinterAddress(printer.url, printer.timeout_seconds), job)
    except PrinterNotReady as exc:
        return DeviceCheck("receipt printer", printer.url, "failed", exc.state.value, str(exc),
                           ok=False)
    drawer = "" if status.drawer_open is None else \
        f"drawer {'open' if status.drawer_open else 'closed'} before the test"
    return DeviceCheck("receipt printer", printer.url, test, status.state.value, drawer)


def _scanner(settings: AgentSettings) -> DeviceCheck:
    scanner = settings.scanner
    if not scanner.url:
        return _not_configured("scanner", "scanner")
    try:
        port = serial.serial_for_url(scanner.url, baudrate=scanner.baudrate,
                                     parity=scanner.parity, timeout=0.1)
    except (serial.SerialException, ValueError, OSError) as exc:
        return DeviceCheck("scanner", scanner.url, "failed", "disconnected", str(exc), ok=False)
    port.close()
    return DeviceCheck("scanner", scanner.url, "port opened; scan a code at a terminal",
                       "ready", f"{scanner.baudrate} baud, parity {scanner.parity}, "
                                f"suffix {scanner.suffix}")


def _display(settings: AgentSettings) -> DeviceCheck:
    display = settings.display
    if not display.url:
        return _not_configured("customer display", "display")
    try:
        LineDisplay(display.url, display.protocol).show("backoffice test", "display OK")
    except DisplayGone as exc:
        return DeviceCheck("customer display", display.url, "failed", "disconnected", str(exc),
                           ok=False)
    return DeviceCheck("customer display", display.url, "message shown", "ready",
                       display.protocol)


def _scale(settings: AgentSettings) -> DeviceCheck:
    config = settings.scale
    if not config.url:
        return _not_configured("scale", "scale")
    scale = Scale(config.url, config.protocol, config.baudrate, config.parity,
                  config.bytesize, config.timeout_seconds)
    try:
        weighing = scale.weigh()
    except ScaleFault as exc:
        return DeviceCheck("scale", config.url, "failed", exc.state.value, str(exc), ok=False)
    finally:
        scale.close()
    if weighing.state == ScaleState.STABLE:
        return DeviceCheck("scale", config.url, f"weighed {weighing.kilograms} kg", "stable",
                           config.protocol)
    # The scale answered, so it works; an unstable reading is reported, not a failure.
    return DeviceCheck("scale", config.url, "answered", weighing.state.value, config.protocol)


def _serial_drawer(settings: AgentSettings) -> DeviceCheck:
    drawer = serial_drawer(settings)
    try:
        before = drawer.is_open()
        drawer.kick()
        after = drawer.is_open()
    except DrawerGone as exc:
        return DeviceCheck("cash drawer", drawer.url, "failed", "disconnected", str(exc),
                           ok=False)
    finally:
        drawer.close()
    if after is None:
        return DeviceCheck("cash drawer", drawer.url, "kicked", "ready",
                           "this drawer does not report open/closed (status = none)")
    if not after:
        return DeviceCheck("cash drawer", drawer.url, "kicked", "closed",
                           "it says closed after the kick: check the open command and the "
                           "status setting", ok=False)
    return DeviceCheck("cash drawer", drawer.url, "kicked", "open",
                       f"{'open' if before else 'closed'} before the test")
