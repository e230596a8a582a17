"""The backend a running app or command uses: engine, policy, team config, sessions."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine

from anchor_tui.db import rls, schema
from anchor_tui.db.engine import make_engine
from anchor_tui.db.session import SessionFactory
from anchor_tui.policy import Policy, load_policy
from anchor_tui.settings import Settings, TeamConfig


@dataclass
class Backend:
    """Opened once per process; screens reach it only through service functions."""

    engine: Engine
    policy: Policy
    team: TeamConfig
    sessions: SessionFactory

    @classmethod
    def open(cls, settings: Settings, *, check_schema: bool = True) -> Backend:
        """Connect, check (and for SQLite, upgrade) the schema, load the policy.

        Raises ``ConfigError`` for a bad policy and ``DatabaseError`` for a database that
        is unreachable, locked or at the wrong schema version.
        """
        policy = load_policy(settings.policy_path, team=settings.team)
        engine = make_engine(settings.db_url)
        if check_schema:
            try:
                # Upgraded with the team's policy and settings: a migration files
                # existing rows as the app files new ones (0015: reasons).
                schema.ensure_schema(engine, auto_upgrade=engine.dialect.name == "sqlite",
                                     policy=policy, team=settings.team)
                if engine.dialect.name == "postgresql":
                    rls.check(engine, policy)  # the second wall is made from this policy
            except BaseException:
                engine.dispose()
                raise
        return cls.from_engine(engine, policy, settings.team)

    @classmethod
    def from_engine(cls, engine: Engine, policy: Policy, team: TeamConfig) -> Backend:
        return cls(
            engine=engine,
            policy=policy,
            team=team,
            sessions=SessionFactory(engine, policy),
        )

    def opened(self) -> Backend:
        """This backend (already open; ``OpeningBackend.opened`` waits for one)."""
        return self

    def close(self) -> None:
        self.engine.dispose()
