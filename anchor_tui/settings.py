"""Typed settings, layered: defaults < config/*.yaml < environment < command-line flags.

The package ships ``config/anchor.yaml`` and ``config/disclosure.yaml``. A team
overrides them by placing files of the same name in its config directory, chosen by
``--config DIR``, ``ANCHOR_CONFIG_DIR`` or the user config directory (platformdirs).
A team's ``anchor.yaml`` replaces whole top-level keys of the default; a team's
``disclosure.yaml`` replaces the default policy entirely (policy is never merged).

Validation is strict: an unknown key, a wrong type or a duplicate id names the file,
the line and the key, and the app refuses to start.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from anchor_tui.errors import ConfigError
from anchor_tui.yamldoc import YamlDoc, build, load_yaml

APP_NAME = "anchor-tui"
DEMO_PASSPHRASE = "ankkuri-demo-2026"  # noqa: S105 - public by design, demo data only
"""The passphrase of every demo and seeded user unless ``seed --passphrase-stdin`` reads another.
Shown on the sign-in screen only in demo mode."""
DEMO_USERS = ("police", "social", "nurse", "youth", "lead", "auditor")
"""Usernames created by ``demo`` and ``seed`` (one per profession, plus a lead and an auditor)."""
PACKAGE_CONFIG_DIR = Path(__file__).parent / "config"


@dataclass(frozen=True)
class Stage:
    id: str
    """Stable identifier stored in the database (e.g. ``screening``)."""
    label: str
    """What the team calls the stage on screen."""
    closed: bool = False
    """True for the stage that ends a case (needs a closing reason)."""


@dataclass(frozen=True)
class Choice:
    id: str
    """Stable identifier stored in the database."""
    label: str
    """What the team calls it on screen."""


@dataclass(frozen=True)
class NoteTemplate:
    id: str
    """Stable identifier."""
    label: str
    """Shown in the template picker."""
    category: str
    """Note category the template defaults to (declared in disclosure.yaml)."""
    body: str = ""
    """Text the editor starts with."""
    professions: tuple[str, ...] = ()
    """Professions offered this template; empty means every profession."""
    follow_up_days: int | None = None
    """When set, saving schedules a follow-up task this many days ahead."""
    child_welfare_concern: bool = False
    """Saving prompts the statutory child-welfare notification (police, youth work, health)."""


@dataclass(frozen=True)
class ChildWelfareRules:
    """The statutory child-welfare notification (the Child Welfare Act obliges police,
    youth work and health to notify child welfare of a concern about a minor, whatever
    their secrecy). Saving a note that raises such a concern prompts its author to record
    the notification, and leaves a task until it is recorded."""

    professions: tuple[str, ...] = ("police", "health", "youth_work")
    """Professions under the duty to notify (ids from disclosure.yaml)."""
    categories: tuple[str, ...] = ("child_welfare",)
    """Note categories that raise a concern (as do templates with child_welfare_concern)."""
    adult_age: int = 18
    """Below this age the young person is a minor (an unknown birth date counts as minor)."""
    follow_up_days: int = 7
    """After the notification is made, a task checks child welfare's response this many
    days later (0: no follow-up task)."""


@dataclass(frozen=True)
class SignInRules:
    max_failed_attempts: int = 5
    """Wrong passphrases in a row before the account locks."""
    lockout_seconds: int = 300
    """How long a locked account stays locked."""
    retry_delay_seconds: int = 2
    """The wait after a wrong passphrase; it doubles with each further one (at most 60 s)."""

    def retry_delay(self, failures: int) -> int:
        """Seconds to wait after ``failures`` wrong passphrases in a row."""
        if failures < 1 or self.retry_delay_seconds < 1:
            return 0
        return int(min(60, self.retry_delay_seconds * 2 ** min(failures - 1, 6)))


PriorityName = Literal["high", "normal", "low"]


@dataclass(frozen=True)
class SavedFilter:
    """A board filter the team names once and picks from the keyboard.

    Criteria are a closed vocabulary (no expressions); all given criteria must hold.
    What they match is always limited to what the viewer may see.
    """

    id: str
    """Stable identifier (also the palette's ``board: saved filter <label>``)."""
    label: str
    """What the team calls it on screen ("My cases")."""
    mine: bool = False
    """Only cases the viewer works (an active case membership) or leads."""
    waiting_for_my_profession: bool = False
    """Only cases where the viewer's profession's input is asked and not yet answered."""
    review_due_within_days: int | None = None
    """Only cases whose next review is at most this many days away (overdue included)."""
    stages: tuple[str, ...] = ()
    """Only these stages (ids from ``stages``); empty means every stage."""
    categories: tuple[str, ...] = ()
    """Only these case categories (ids from ``case_categories``); empty means all."""
    priorities: tuple[PriorityName, ...] = ()
    """Only these priorities (high, normal, low); empty means all."""
    text: str = ""
    """Words matched as if typed after ``/`` (name, category, member, stage)."""

    @property
    def personal(self) -> bool:
        """About the one person signed in ("mine", "my profession"): not offered in a
        huddle, where it would match nothing (``services.board_filter``)."""
        return self.mine or self.waiting_for_my_profession


UNDELIVERABLE_KEYS = frozenset({"ctrl+enter", "shift+enter", "ctrl+shift+enter"})
"""Keys most terminals and tmux never send: a binding made only of these cannot be used."""


@dataclass(frozen=True)
class RetentionRules:
    """How long the content of a closed case is kept, in days after it was closed.

    When the period has passed, ``anchor-tui retention run --apply`` erases the content
    (note text, drafts, task titles, the young person's name) and keeps ids and the
    audit trail.
    """

    default_days: int = 1825
    """Closed cases whose closing reason is not listed in ``closed_reasons``."""
    closed_reasons: dict[str, int] = field(default_factory=dict)
    """Per closing reason (the case's outcome): days after closing."""
    note_categories: dict[str, int] = field(default_factory=dict)
    """Per note category (disclosure.yaml): days after closing for notes of that category,
    instead of the case's period."""
    def case_days(self, closed_reason: str | None) -> int:
        return self.closed_reasons.get(closed_reason or "", self.default_days)


MAX_HUDDLE_IDLE_SECONDS = 3600
"""The longest a huddle's terminal may wait for a key before it locks (an hour)."""
HUDDLE_LEFT_ON_MINUTES = (60, 1440)
"""The least and the most ``huddle_left_on_minutes`` may be: at least the longest idle
lock of a huddle (a room that merely talks is never taken for gone), at most a day."""


@dataclass(frozen=True)
class TeamConfig:
    """The contents of ``anchor.yaml``."""

    team_name: str
    """Shown in the header."""
    professions: tuple[str, ...]
    """Professions present in this team (some teams have no nurse)."""
    stages: tuple[Stage, ...]
    """The workflow, in board order."""
    closed_reasons: tuple[Choice, ...]
    """Why a case was closed."""
    case_categories: tuple[Choice, ...]
    """What a case is about."""
    note_templates: tuple[NoteTemplate, ...] = ()
    """Note templates offered in the editor."""
    default_note_category: dict[str, str] = field(default_factory=dict)
    """Profession -> the note category the editor starts with before a template is
    chosen (a profession not listed starts with its own category if the policy has one,
    else ``general``)."""
    child_welfare: ChildWelfareRules = field(default_factory=ChildWelfareRules)
    """When saving a note prompts the statutory child-welfare notification."""
    idle_lock_seconds: int = 120
    """Seconds without input before the shared terminal locks."""
    huddle_idle_lock_seconds: int = 900
    """The same during a huddle, whose screen the people in the room watch and talk
    over, typing little (at least 10, at most 3600: an empty room still locks)."""
    huddle_left_on_minutes: int = 240
    """Minutes without activity (a join, a leave, a decision or an action) after which a
    huddle nobody ended is taken as left on (its terminal quit while the database was
    away, killed, or the power went) and ``anchor-tui huddle end-left-on`` lists it
    (``--apply`` ends it, with its minutes, at its last activity:
    ``services.huddle_left_on``). Between 60 and 1440."""
    sign_in: SignInRules = field(default_factory=SignInRules)
    """Lockout after failed sign-ins."""
    retention: RetentionRules = field(default_factory=RetentionRules)
    """Retention periods of closed cases (per outcome) and of notes (per category)."""
    saved_filters: tuple[SavedFilter, ...] = ()
    """Named board filters ("My cases", "Review due this week"), picked from the keyboard."""
    keymap: dict[str, str] = field(default_factory=dict)
    """Binding id -> key(s), comma-separated (``board.move_next: "right_square_bracket"``).
    F1 shows the id of every binding; an unknown id stops the app with file:line:key."""
    source: tuple[str, dict[str, tuple[str, int]]] = field(
        default=("anchor.yaml", {}), init=False, compare=False, repr=False)
    """Where it was read: the team's file (else the default), and for each key (dotted,
    e.g. ``retention.note_categories.health``) the file and line it came from; for
    errors found later against the policy or the key bindings. Not a YAML key."""

    def error(self, key: str, problem: str, fix: str = "") -> ConfigError:
        """A :class:`ConfigError` at ``key`` (dotted), naming the file and line of the
        key (or of its nearest parent)."""
        path, where = self.source
        probe = key
        while probe and probe not in where:
            probe = probe.rpartition(".")[0]
        path, line = where.get(probe, (path, None))
        return ConfigError(path, line, key, problem, fix)

    def check_keymap(self, known: Collection[str]) -> None:
        """Refuse a keymap naming a binding id that does not exist (file:line:key)."""
        for binding_id in self.keymap:
            if binding_id not in known:
                near = difflib.get_close_matches(binding_id, sorted(known), n=3)
                hint = f"did you mean {', '.join(near)}? " if near else ""
                raise self.error(f"keymap.{binding_id}", "names no key binding",
                                 f"{hint}F1 in the app lists every binding with its id.")

    def stage_label(self, stage_id: str) -> str:
        return next((s.label for s in self.stages if s.id == stage_id), stage_id)

    def category_label(self, category_id: str) -> str:
        return next((c.label for c in self.case_categories if c.id == category_id), category_id)


def _check_unique(doc: YamlDoc, key: str, items: tuple[Any, ...]) -> None:
    seen: set[str] = set()
    for index, item in enumerate(items):
        if item.id in seen:
            raise doc.error((key, index, "id"), f"duplicate id '{item.id}'", "ids must be unique")
        seen.add(item.id)


def _validate_team(doc: YamlDoc, team: TeamConfig) -> None:
    if not team.stages:
        raise doc.error(("stages",), "must list at least one stage")
    if not team.professions:
        raise doc.error(("professions",), "must list at least one profession")
    for key in ("stages", "closed_reasons", "case_categories", "note_templates"):
        _check_unique(doc, key, getattr(team, key))
    if len(set(team.professions)) != len(team.professions):
        raise doc.error(("professions",), "lists a profession twice")
    if team.idle_lock_seconds < 10:
        raise doc.error(("idle_lock_seconds",), "must be at least 10 seconds")
    if not 10 <= team.huddle_idle_lock_seconds <= MAX_HUDDLE_IDLE_SECONDS:
        raise doc.error(("huddle_idle_lock_seconds",),
                        f"must be between 10 and {MAX_HUDDLE_IDLE_SECONDS} seconds",
                        "a huddle left alone must still lock")
    least, most = HUDDLE_LEFT_ON_MINUTES
    if not least <= team.huddle_left_on_minutes <= most:
        raise doc.error(("huddle_left_on_minutes",),
                        f"must be between {least} and {most} minutes",
                        "a huddle never runs for many hours, but a quiet hour is no end")
    if team.sign_in.max_failed_attempts < 1:
        raise doc.error(("sign_in", "max_failed_attempts"), "must be at least 1")
    if not 1 <= team.child_welfare.adult_age <= 30:
        raise doc.error(("child_welfare", "adult_age"), "must be between 1 and 30")
    if team.child_welfare.follow_up_days < 0:
        raise doc.error(("child_welfare", "follow_up_days"), "must be 0 or more")
    if team.sign_in.retry_delay_seconds < 0:
        raise doc.error(("sign_in", "retry_delay_seconds"), "must be 0 or more")
    _validate_saved_filters(doc, team)
    _validate_retention(doc, team)
    _validate_keymap(doc, team)
    for index, template in enumerate(team.note_templates):
        for pindex, profession in enumerate(template.professions):
            if profession not in team.professions:
                raise doc.error(
                    ("note_templates", index, "professions", pindex),
                    f"names profession '{profession}' which is not in this team's professions",
                )


def _validate_saved_filters(doc: YamlDoc, team: TeamConfig) -> None:
    _check_unique(doc, "saved_filters", team.saved_filters)
    stages = {s.id for s in team.stages}
    categories = {c.id for c in team.case_categories}
    for index, saved in enumerate(team.saved_filters):
        where: tuple[str | int, ...] = ("saved_filters", index)
        for key, values, known in (("stages", saved.stages, stages),
                                   ("categories", saved.categories, categories)):
            for vindex, value in enumerate(values):
                if value not in known:
                    raise doc.error((*where, key, vindex), f"names '{value}' which is not in "
                                    f"this team's {key.replace('_', ' ')}")
        if saved.review_due_within_days is not None and saved.review_due_within_days < 0:
            raise doc.error((*where, "review_due_within_days"), "must be 0 or more")


def _validate_keymap(doc: YamlDoc, team: TeamConfig) -> None:
    for binding_id, keys in team.keymap.items():
        names = [k.strip() for k in keys.split(",")]
        if not keys.strip() or any(not k or " " in k for k in names):
            raise doc.error(("keymap", binding_id), f"has no usable key: {keys!r}",
                            "write key names separated by commas, e.g. \"j,down\"")
        if all(k.lower() in UNDELIVERABLE_KEYS for k in names):
            raise doc.error(("keymap", binding_id), f"uses only {keys!r}, which terminals "
                            "and tmux do not send", "choose another key as well")


def _validate_retention(doc: YamlDoc, team: TeamConfig) -> None:
    rules = team.retention
    where = ("retention",)
    if rules.default_days < 1:
        raise doc.error((*where, "default_days"), "must be at least 1 day")
    reasons = {r.id for r in team.closed_reasons}
    for reason, days in rules.closed_reasons.items():
        if reason not in reasons:
            raise doc.error((*where, "closed_reasons", reason), f"names '{reason}' which is "
                            "not in closed_reasons", "use an id from closed_reasons")
        if days < 1:
            raise doc.error((*where, "closed_reasons", reason), "must be at least 1 day")
    for category, days in rules.note_categories.items():
        if days < 1:
            raise doc.error((*where, "note_categories", category), "must be at least 1 day")


def _templates_for(templates: Any, professions: list[Any]) -> Any:
    if not isinstance(templates, list):
        return templates
    kept = []
    for template in templates:
        offered = template.get("professions") if isinstance(template, dict) else None
        if isinstance(offered, list) and offered:
            narrowed = [p for p in offered if p in professions]
            if not narrowed:
                continue
            template = {**template, "professions": narrowed}
        kept.append(template)
    return kept


def load_team_config(config_dir: Path | None) -> TeamConfig:
    """Read the default ``anchor.yaml`` and a team's override, validated."""
    default = load_yaml(PACKAGE_CONFIG_DIR / "anchor.yaml")
    doc = default
    where = {_dotted(k): (default.path, line) for k, line in default.lines.items()}
    if config_dir is not None and (config_dir / "anchor.yaml").exists():
        team_doc = load_yaml(config_dir / "anchor.yaml")
        if not isinstance(team_doc.data, dict):
            raise team_doc.error((), "must be a mapping of settings")
        merged = dict(default.data)
        merged.update(team_doc.data)
        if "note_templates" not in team_doc.data and isinstance(team_doc.data.get(
                "professions"), list):
            # The shipped templates serve whichever professions the team has: a team
            # without a nurse simply is not offered the health-only ones.
            merged["note_templates"] = _templates_for(default.data.get("note_templates"),
                                                      team_doc.data["professions"])
        if "retention" not in team_doc.data and isinstance(
                team_doc.data.get("closed_reasons"), list) and isinstance(
                merged.get("retention"), dict):
            # The shipped periods serve whichever closing reasons the team has.
            ids = {r.get("id") for r in team_doc.data["closed_reasons"] if isinstance(r, dict)}
            shipped = merged["retention"]
            if isinstance(shipped.get("closed_reasons"), dict):
                merged["retention"] = {**shipped, "closed_reasons": {
                    k: v for k, v in shipped["closed_reasons"].items() if k in ids}}
        # Report locations from the team's file for its keys, the default's for the rest.
        lines = {k: v for k, v in default.lines.items() if k and k[0] not in team_doc.data}
        lines.update(team_doc.lines)
        doc = YamlDoc(path=team_doc.path, data=merged, lines=lines)
        where = {_dotted(k): (team_doc.path if k in team_doc.lines else default.path, line)
                 for k, line in lines.items()}
    team = build(doc, TeamConfig)
    _validate_team(doc, team)
    object.__setattr__(team, "source", (doc.path, where))
    return team


def _dotted(key: tuple[str | int, ...]) -> str:
    return ".".join(str(part) for part in key)


def user_config_dir() -> Path:
    import platformdirs

    return Path(platformdirs.user_config_dir(APP_NAME, appauthor=False))


def user_data_dir() -> Path:
    import platformdirs

    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def user_state_dir() -> Path:
    import platformdirs

    return Path(platformdirs.user_state_dir(APP_NAME, appauthor=False))


def default_sqlite_url() -> str:
    return f"sqlite:///{user_data_dir() / 'anchor.sqlite3'}"


def demo_sqlite_url() -> str:
    return f"sqlite:///{user_data_dir() / 'demo.sqlite3'}"


@dataclass(frozen=True)
class Settings:
    """Everything the app needs to start, resolved from all layers."""

    db_url: str
    """SQLAlchemy URL of the database (``--db``, ``ANCHOR_DB_URL``, or the embedded SQLite)."""
    config_dir: Path | None
    """The team's config directory, if any."""
    team: TeamConfig
    """anchor.yaml, validated."""
    policy_path: Path
    """The disclosure policy in force (the team's, or the shipped default)."""
    log_dir: Path
    """Where the error log (mode 0600, never note text) is written."""
    demo: bool = False
    """Demo mode: the demo passphrase may be shown on the sign-in screen."""
    minutes_dir: Path | None = None
    """Where huddle minutes are written (None: ``huddle-minutes`` in the user data dir)."""


def resolve_config_dir(flag: str | None) -> Path | None:
    """``--config`` beats ``ANCHOR_CONFIG_DIR`` beats the user config dir (if it exists)."""
    if flag:
        path = Path(flag).expanduser()
        if not path.is_dir():
            raise ConfigError(
                str(path), None, "", "is not a directory", "pass an existing --config DIR"
            )
        return path
    env = os.environ.get("ANCHOR_CONFIG_DIR")
    if env:
        path = Path(env).expanduser()
        if not path.is_dir():
            raise ConfigError(str(path), None, "", "(ANCHOR_CONFIG_DIR) is not a directory")
        return path
    candidate = user_config_dir()
    return candidate if candidate.is_dir() else None


def load_settings(
    db_flag: str | None = None, config_flag: str | None = None, demo: bool = False
) -> Settings:
    """Resolve settings from defaults, config files, environment and flags."""
    config_dir = resolve_config_dir(config_flag)
    team = load_team_config(config_dir)
    policy_path = PACKAGE_CONFIG_DIR / "disclosure.yaml"
    if config_dir is not None and (config_dir / "disclosure.yaml").exists():
        policy_path = config_dir / "disclosure.yaml"
    if demo:
        db_url = db_flag or demo_sqlite_url()
    else:
        db_url = db_flag or os.environ.get("ANCHOR_DB_URL") or default_sqlite_url()
    return Settings(
        db_url=db_url,
        config_dir=config_dir,
        team=team,
        policy_path=policy_path,
        log_dir=user_state_dir(),
        demo=demo,
    )
