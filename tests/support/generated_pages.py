"""What the tests of the generated docs pages (configuration.md, schema.md) share: loading a
generator script from scripts/, and running it on a stale copy of its page."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[2]


def load_script(name: str) -> ModuleType:
    """``scripts/<name>.py`` as a module (the scripts are not a package)."""
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def check_then_rewrite_stale_page(generator: ModuleType, page: Path, old: str, new: str) -> tuple[int, int, int]:
    """Write to ``page`` the generator's page with ``old`` replaced once by ``new`` in its block,
    point the generator at it, and return the exit codes of ``--check``, a rewrite and ``--check``."""
    page.write_text(generator.splice(generator.OUTPUT.read_text(), generator.render().replace(old, new, 1)))
    generator.OUTPUT = page
    return generator.main(["--check"]), generator.main([]), generator.main(["--check"])
