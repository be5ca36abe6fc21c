"""Transfers ordered at head office: stored, audited, and published to both stores' change
feeds in one transaction. Stores ship and receive them as events; :mod:`server.projection`
pairs those with the order (and files a reconciliation item when they disagree)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from server import audit
from server.catalog import publish
from server.errors import ServerError, UnknownStore
from server.principal import OPERATOR, Principal
from server.storage import Storage
from server.storage.tables import catalog_products, stores, transfers


class TransferExists(ServerError):
    def __init__(self, transfer_id: str) -> None:
        super().__init__(f"transfer {transfer_id} already exists; a transfer id names one "
                         "transfer")


class UnknownSku(ServerError, LookupError):
    def __init__(self, skus: list[str]) -> None:
        self.skus = skus
        super().__init__(f"not in the catalog: {', '.join(skus)}")


async def create_transfer(storage: Storage, transfer_id: str, from_store_id: str,
                          to_store_id: str, lines: list[dict[str, str]], note: str | None, *,
                          actor: Principal = OPERATOR) -> int:
    """Order a transfer; returns the change cursor that carries it to the stores."""
    async with storage.write() as conn:
        known = set((await conn.execute(sa.select(stores.c.store_id).where(
            stores.c.store_id.in_([from_store_id, to_store_id])))).scalars())
        for store_id in (from_store_id, to_store_id):
            if store_id not in known:
                raise UnknownStore(store_id)
        skus = [line["sku"] for line in lines]
        in_catalog = set((await conn.execute(sa.select(catalog_products.c.sku).where(
            catalog_products.c.sku.in_(skus)))).scalars())
        if missing := sorted(set(skus) - in_catalog):
            raise UnknownSku(missing)
        if (await conn.execute(sa.select(transfers.c.transfer_id).where(
                transfers.c.transfer_id == transfer_id))).first() is not None:
            raise TransferExists(transfer_id)
        await conn.execute(transfers.insert().values(
            transfer_id=transfer_id, from_store_id=from_store_id, to_store_id=to_store_id,
            lines=lines, note=note, status="ordered", created_by=actor.name,
            created_at=datetime.now(UTC)))
        order: dict[str, Any] = {"transfer_id": transfer_id, "from_store_id": from_store_id,
                                 "to_store_id": to_store_id, "lines": lines, "note": note}
        await audit.record(conn, actor, "transfer.create", f"transfer:{transfer_id}", None,
                           order)
        await publish(conn, from_store_id, "transfer", transfer_id, order)
        return await publish(conn, to_store_id, "transfer", transfer_id, order)
