"""Hardware drivers after the UnifiedPOS device categories (Scanner, POSPrinter, CashDrawer,
LineDisplay, Scale): each a small port, a real driver (pyserial, python-escpos) and an
emulator speaking the device's own bytes. The drivers arrive with the hardware issue; until
then the agent runs without devices and nothing in the sale path waits on one.
"""

__all__: list[str] = []
