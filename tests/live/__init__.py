"""Live tests (marker `live`): the real Hayhooks server and real nginx, driven by the prod render.

A package, so that its conftest and helpers never shadow `tests/conftest.py` as the module `conftest`.
"""
