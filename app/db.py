"""Engine and session handling."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import Engine, create_engine
from sqlalchemy.orm import Session, sessionmaker

from .settings import Settings


def make_engine(settings: Settings, url: str | None = None) -> Engine:
    return create_engine(
        url or settings.resolved_database_url(),
        pool_size=5,
        max_overflow=5,
        pool_pre_ping=True,
        connect_args={"application_name": "cloudmap"},
    )


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False)


def get_session(request: Request) -> Iterator[Session]:
    """One session per request; services own the transactions."""
    with request.app.state.sessionmaker() as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]
