"""The contract's ``types`` interface, whatever the world calls it.

componentize-py names an imported interface by its own name unless two
packages share it: a world that also imports ``wasi:http`` (whose
interface is also ``types``) gets ``wasmconnect_connector_types``.
"""

try:
    from wit_world.imports import types
except ImportError:  # the *-with-http worlds
    from wit_world.imports import wasmconnect_connector_types as types

__all__ = ["types"]
