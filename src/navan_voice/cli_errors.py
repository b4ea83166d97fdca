"""How every CLI command fails: one red line and exit code 1, never a traceback."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

import typer
from rich.console import Console
from sqlalchemy.exc import SQLAlchemyError

from navan_voice.domain.errors import NavanError

console = Console(stderr=True)
F = TypeVar("F", bound=Callable[..., Any])


def friendly_errors(func: F) -> F:
    """Turn our errors (and a database that cannot be reached) into one red line and exit
    code 1, instead of a traceback."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except NavanError as e:
            console.print(f"[bold red]error:[/] {e}")
            raise typer.Exit(1) from e
        except SQLAlchemyError as e:  # a bad database URL, or a server that is down
            console.print(
                f"[bold red]error:[/] the database could not be used ({type(e).__name__}: "
                f"{str(e).splitlines()[0]}); check NAVAN_DATABASE_URL and that the server runs"
            )
            raise typer.Exit(1) from e
        except KeyboardInterrupt:
            console.print("[yellow]interrupted[/]")
            raise typer.Exit(130) from None

    return wrapper  # type: ignore[return-value]
