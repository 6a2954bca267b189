"""The package's version, in a module of its own so any layer can read it without importing the package root.

The knowledge base has its own version (``load_kb().version``, kb/manifest.yaml).
"""

__all__ = ["__version__"]

#: hipkb's version (pyproject.toml says the same; a test checks they agree).
__version__ = "0.2.0"
