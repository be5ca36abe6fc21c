"""The demo's checkout lane: one store's till T1 with every device emulated on a real pty pair
— a serial scanner, a customer display, a scale and a cash drawer on its own serial port — run
by the agent's real drivers in its own process. A shopper's goods are scanned (one misread
on the way), loose bananas weighed, and the terminal builds the sale from what arrives on the
agent's event stream, as a real POS terminal does."""

from __future__ import annotations

import asyncio
import json
import random
import uuid
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, Decimal
from typing import Any

import aiohttp

from backoffice.demo.shopping import CASHIERS, CATALOG, WEIGHED
from drivers.emulators import DrawerEmulator, LineDisplayEmulator, ScaleEmulator, ScannerEmulator
from drivers.scale import ScaleState, Weighing

LANE_TERMINAL = "T1"


@dataclass
class Lane:
    scanner: ScannerEmulator = field(default_factory=ScannerEmulator)
    display: LineDisplayEmulator = field(default_factory=LineDisplayEmulator)
    scale: ScaleEmulator = field(default_factory=ScaleEmulator)
    drawer: DrawerEmulator = field(default_factory=DrawerEmulator)
    scans: int = 0
    misreads: int = 0
    weighings: list[str] = field(default_factory=list)
    sales: int = 0

    def config(self) -> str:
        """The store.toml sections that put the lane's devices on terminal T1."""
        return (f'[scanner]\nurl = "{self.scanner.path}"\nterminal = "{LANE_TERMINAL}"\n\n'
                f'[display]\nurl = "{self.display.path}"\nterminal = "{LANE_TERMINAL}"\n'
                'idle_message = "Welcome!"\nidle_seconds = 2\n\n'
                f'[scale]\nurl = "{self.scale.path}"\n\n'
                f'[drawer]\nurl = "{self.drawer.path}"\nterminal = "{LANE_TERMINAL}"\n'
                'status = "query"\nhealth_seconds = 1\n\n')

    def close(self) -> None:
        for device in (self.scanner, self.display, self.scale, self.drawer):
            device.close()

    def summary(self) -> str:
        return (f"{self.sales} checkouts at lane {LANE_TERMINAL}: {self.scans} codes scanned "
                f"({self.misreads} misread and rescanned), weighed {', '.join(self.weighings)}"
                f" kg; cash drawer (serial) opened {self.drawer.openings} times; the customer "
                f"display shows {' | '.join(line.strip() for line in self.display.lines)!r}")


async def wait_until_ready(store_url: str, token: str, seconds: float = 10) -> None:
    """The agent opens the lane's ports at start: wait for its scanner and drawer."""
    headers = {"Authorization": f"Bearer {token}"}
    devices: dict[str, Any] = {}
    async with aiohttp.ClientSession(base_url=store_url) as session:
        for _ in range(int(seconds / 0.1)):
            async with session.get("/api/v1/status", headers=headers) as resp:
                devices = (await resp.json())["devices"]
            if devices.get("scanner", {}).get("state") == "ready" and \
                    devices.get("cash_drawer", {}).get("state") in ("open", "closed"):
                return
            await asyncio.sleep(0.1)
    raise RuntimeError(f"the lane's devices did not come up: {devices}")


async def checkout(lane: Lane, store_url: str, token: str, rng: random.Random) -> None:
    """One shopper at the lane, paying cash."""
    headers = {"Authorization": f"Bearer {token}"}
    goods = rng.sample([row for row in CATALOG if row[0] not in WEIGHED], 3)
    async with aiohttp.ClientSession(base_url=store_url) as session, \
            session.get("/api/v1/events", headers=headers,
                        timeout=aiohttp.ClientTimeout(total=60)) as stream:
        lines: list[dict[str, Any]] = []
        for index, (_sku, _name, _price, _rate, barcode) in enumerate(goods):
            if index == 1:  # a smudged label: the check digit does not match; scan it again
                lane.scanner.scan(barcode[:-1] + str((int(barcode[-1]) + 1) % 10), pieces=2)
                scan = await _next_scan(stream)
                lane.misreads += int(scan["valid"] is False)
            lane.scanner.scan(barcode, pieces=2)
            scan = await _next_scan(stream)
            lane.scans += 1
            if scan["valid"] and scan["product"]:
                lines.append({"barcode": scan["code"], "quantity": "1"})
        kilograms = Decimal(rng.randint(300, 1500)) / 1000
        lane.scale.weighing = Weighing(ScaleState.STABLE, kilograms)
        async with session.get("/api/v1/scale", headers=headers) as resp:
            weight = (await resp.json())["weight_kg"]
        lane.weighings.append(weight)
        lines.append({"sku": next(iter(WEIGHED)), "quantity": weight})
        async with session.post("/api/v1/quotes", json={"lines": lines}, headers=headers) as resp:
            total = Decimal((await resp.json())["total"])
        cash = (total / 10).to_integral_value(rounding=ROUND_CEILING) * 10
        sale = {"sale_id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                "cashier": CASHIERS[0], "lines": lines,
                "tenders": [{"type": "cash", "amount": f"{cash:.2f}"}]}
        async with session.post("/api/v1/sales", json=sale, headers=headers) as resp:
            if resp.status != 201:
                raise RuntimeError(f"lane sale refused: {resp.status} {await resp.text()}")
        lane.sales += 1
    for _ in range(50):  # the drawer opens from the sale's notice; the cashier shuts it
        if lane.drawer.is_open:
            break
        await asyncio.sleep(0.05)
    lane.drawer.close_drawer()


async def _next_scan(stream: aiohttp.ClientResponse) -> dict[str, Any]:
    kind = ""
    while True:
        line = (await asyncio.wait_for(stream.content.readline(), 10)).decode().rstrip("\n")
        if line.startswith("event: "):
            kind = line[len("event: "):]
        elif line.startswith("data: ") and kind == "scan":
            return dict(json.loads(line[len("data: "):]))
