"""retail-backoffice: the ``backoffice`` command, the demo, and the HTTP plumbing that the
central server and the store agent share (one error shape, one way to read bodies)."""

__all__: list[str] = []
