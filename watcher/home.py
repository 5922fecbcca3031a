"""The watcher home: one folder holding the configuration, the SQLite state and request files."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from watcher.errors import ConfigError

HOME_ENV = "COLDSIGN_WATCHER_HOME"
DEFAULT_HOME = Path("~/.coldsign/watcher")
CONFIG_NAME = "watcher.toml"
STATE_NAME = "watcher.db"
REQUESTS_DIR = "requests"


@dataclass(frozen=True, slots=True)
class WatcherHome:
    """Where one watcher keeps its files; nothing here holds a key that can move funds."""

    root: Path

    @property
    def config_path(self) -> Path:
        """The TOML configuration (chains, fees, tokens, operator key location)."""
        return self.root / CONFIG_NAME

    @property
    def state_path(self) -> Path:
        """The SQLite database (WAL) with accounts, withdrawals and transactions."""
        return self.root / STATE_NAME

    @property
    def requests_dir(self) -> Path:
        """Where built sign requests are written as UR text parts."""
        return self.root / REQUESTS_DIR

    def check(self) -> None:
        """Refuse a home that does not exist or has no configuration file."""
        if not self.root.is_dir():
            raise ConfigError(str(self.root), "the watcher home does not exist")
        if not self.config_path.is_file():
            raise ConfigError(str(self.config_path), f"no {CONFIG_NAME} in the watcher home")


def resolve_home(flag: str | None, environ: Mapping[str, str] = os.environ) -> WatcherHome:
    """The home from ``--home``, else ``$COLDSIGN_WATCHER_HOME``, else ``~/.coldsign/watcher``."""
    text = flag if flag is not None else environ.get(HOME_ENV)
    path = Path(text) if text else DEFAULT_HOME
    return WatcherHome(path.expanduser())
