"""The rows of a synthetic seeding: people, cases, members, notes, consents and tasks.

``RowMaker`` builds one seeding's rows as plain tuples, a chunk of cases at a time, from
strings built once (dates, times, note bodies in every policy category), drawing from
one ``random.Random``: the same seed and day give the same rows. Ids are assigned here,
continuing from the largest id in each table. ``services.seed`` writes the rows.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable
from typing import Any

from sqlalchemy import Connection, text

from anchor_tui.errors import AnchorError
from anchor_tui.services import seed_names as words
from anchor_tui.services.backend import Backend

Row = tuple[Any, ...]


def _names(spaced: str) -> list[str]:
    return spaced.split()


COLUMNS: dict[str, list[str]] = {
    "person": _names("id first_name last_name birth_date municipality created_at"),
    "case": _names("id person_id category stage priority opened_at closed_at closed_reason "
                   "next_review lead_user_id summary version updated_at"),
    "case_member": _names("id case_id user_id valid_from valid_to"),
    "note": _names("id case_id author_id author_profession category template body created_at "
                   "revision supersedes_id entered_in_error error_reason"),
    "consent": _names("id person_id grantor decision category receiving_profession valid_from "
                      "valid_to withdrawn_at recorded_by_id recorded_at evidence"),
    "task": _names("id case_id title assignee_id due done_at created_by_id created_at version"),
}
"""Tables in the order they are written (foreign keys point backwards)."""

_PRIORITIES = (1, 1, 2, 2, 2, 2, 2, 3, 3, 3)
_MEMBER_COUNTS = (1, 2, 2, 2, 3, 3, 3, 3, 4, 4)
_TASK_COUNTS = (0, 0, 0, 1, 1, 1, 1, 2, 2, 3)
_BODY_VARIANTS = 300


class RowMaker:
    """Pre-built strings and the running state of one seeding."""

    def __init__(self, backend: Backend, rng: random.Random, today: dt.date,
                 users: dict[str, tuple[int, str]]) -> None:
        self.rng = rng
        team = backend.team
        self.tz = "+00" if backend.engine.dialect.name == "postgresql" else ""
        self.past = [(today - dt.timedelta(days=k)).isoformat() for k in range(800)]
        self.future = [(today + dt.timedelta(days=k)).isoformat() for k in range(400)]
        self.times = [f" {h:02d}:{m:02d}:{s:02d}.000000{self.tz}"
                      for h in range(6, 16) for m in range(60) for s in (0, 21, 42)]
        youngest = _years_before(today, 12)
        self.oldest = _years_before(today, 18) + dt.timedelta(days=1)
        self.birth_span = (youngest - self.oldest).days + 1

        self.stages = team.stages
        open_stages = [s for s in team.stages if not s.closed]
        self.open_range = {s.id: (1 + 25 * n, 12 + 60 * n) for n, s in enumerate(open_stages)}
        # Weighted stage pool: most cases are open, in the early and middle stages.
        self.stage_pool = [s for s in open_stages for _ in range(2)] + [
            s for s in team.stages if s.closed for _ in range(3)]
        self.categories = [c.id for c in team.case_categories]
        self.closed_reasons: list[str | None] = [c.id for c in team.closed_reasons] or [None]

        note_categories = list(backend.policy.categories)
        self.uncovered = set(note_categories)
        self.writes: dict[str, list[str]] = {}
        for profession in team.professions:
            pool = [cat for cat in note_categories
                    if profession in words.WRITERS.get(cat, frozenset({profession}))
                    for _ in range(words.weight(cat, profession))]
            self.writes[profession] = pool or note_categories[:1]
        self.bodies = {cat: words.bodies(rng, cat, _BODY_VARIANTS) for cat in note_categories}
        self.summaries = {cat: words.summaries(cat) for cat in self.categories}
        self.templates = {
            (profession, t.category): t.id
            for t in reversed(team.note_templates)
            for profession in (t.professions or team.professions)
        }
        self.consent_pairs = [
            (cat, profession) for cat in note_categories if cat not in words.NOT_CONSENTED
            for profession in team.professions if profession != words.OWNER.get(cat)
        ]

        self.members: dict[str, list[int]] = {}
        for username, (user_id, profession) in users.items():
            if username != "auditor":
                weight = 4 if username != "lead" else 1
                self.members.setdefault(profession, []).extend([user_id] * weight)
        self.professions = [p for p in team.professions if p in self.members]
        if not self.professions:
            raise AnchorError("The team has no users to write cases.",
                              "List the team's professions in anchor.yaml.")
        self.reviews_covered = 0
        self.next_id = dict.fromkeys(COLUMNS, 1)
        self.first_person = 1

    def start_ids(self, conn: Connection) -> None:
        quote = conn.dialect.identifier_preparer.quote
        for table in COLUMNS:
            top = conn.execute(text(f"SELECT max(id) FROM {quote(table)}")).scalar()  # noqa: S608
            self.next_id[table] = int(top or 0) + 1
        self.first_person = self.next_id["person"]

    def _take(self, table: str) -> int:
        value = self.next_id[table]
        self.next_id[table] = value + 1
        return value

    def stamp(self, k: int) -> str:
        return self.past[k] + self.times[int(self.rng.random() * len(self.times))]

    def chunk(self, start: int, size: int, notes_per_case: int) -> dict[str, list[Row]]:
        rows: dict[str, list[Row]] = {table: [] for table in COLUMNS}
        for index in range(start, start + size):
            self._case(index, notes_per_case, rows)
        return rows

    def _case(self, index: int, notes_per_case: int, rows: dict[str, list[Row]]) -> None:
        rng = self.rng
        r = rng.random
        stage = self.stages[index] if index < len(self.stages) else \
            self.stage_pool[int(r() * len(self.stage_pool))]
        n_cat = len(self.categories)
        category = self.categories[index % n_cat if index < n_cat else int(r() * n_cat)]
        if stage.closed:
            k0 = 60 + int(r() * 660)
            kend = 1 + int(r() * (k0 - 30))
            closed_at: str | None = self.stamp(kend)
            reason = self.closed_reasons[int(r() * len(self.closed_reasons))]
            review = None
        else:
            lo, hi = self.open_range[stage.id]
            k0 = min(lo + int(r() * (hi - lo + 1)), len(self.past) - 1)
            kend, closed_at, reason = 1, None, None
            review = self._review(r())
        opened_at = self.stamp(k0)
        case_id = self._take("case")
        person_id, new_person = self._person(rows, opened_at, r)

        count = min(4, len(self.professions))
        if index >= 2:
            count = min(count, _MEMBER_COUNTS[int(r() * len(_MEMBER_COUNTS))])
        chosen = rng.sample(self.professions, count)
        members: list[tuple[int, str, int, int, bool]] = []  # user, profession, from, to, active
        for position, profession in enumerate(chosen):
            pool = self.members[profession]
            user_id = pool[int(r() * len(pool))]
            joined = k0 if position == 0 or r() < 0.75 else kend + int(r() * (k0 - kend + 1))
            ended = r() < 0.1
            left = kend + int(r() * (joined - kend + 1)) if ended else kend
            members.append((user_id, profession, joined, left, not ended))
            rows["case_member"].append((self._take("case_member"), case_id, user_id,
                                        self.past[joined], self.past[left] if ended else None))
        lead = next((m[0] for m in members if m[1] == "social_work"), members[0][0])

        updated_at = closed_at or opened_at
        if notes_per_case:
            updated_at = self._notes(case_id, members, notes_per_case, rows) or updated_at
        summary_pool = self.summaries[category]
        rows["case"].append((
            case_id, person_id, category, stage.id, _PRIORITIES[int(r() * 10)], opened_at,
            closed_at, reason, review, lead, summary_pool[int(r() * len(summary_pool))], 1,
            updated_at,
        ))
        if new_person:
            self._consents(person_id, lead, k0, rows)
        self._tasks(index, case_id, members, lead, k0, kend, stage.closed, rows)

    def _review(self, x: float) -> str:
        """Next review: some overdue, some this week, some later."""
        kind = self.reviews_covered if self.reviews_covered < 3 else \
            (0 if x < 0.2 else 1 if x < 0.5 else 2)
        self.reviews_covered += 1
        r = self.rng.random
        if kind == 0:
            return self.past[1 + int(r() * 21)]
        if kind == 1:
            return self.future[int(r() * 7)]
        return self.future[7 + int(r() * 54)]

    def _person(self, rows: dict[str, list[Row]], created_at: str,
                r: Callable[[], float]) -> tuple[int, bool]:
        made = self.next_id["person"] - self.first_person
        if made > 0 and r() < 0.08:  # a young person met before, in an earlier case
            return self.first_person + int(r() * made), False
        person_id = self._take("person")
        birth = self.oldest + dt.timedelta(days=int(r() * self.birth_span))
        rows["person"].append((
            person_id,
            words.FIRST_NAMES[int(r() * len(words.FIRST_NAMES))],
            words.LAST_NAMES[int(r() * len(words.LAST_NAMES))],
            birth.isoformat(),
            words.MUNICIPALITIES[int(r() * len(words.MUNICIPALITIES))],
            created_at,
        ))
        return person_id, True

    def _notes(self, case_id: int, members: list[tuple[int, str, int, int, bool]],
               count: int, rows: dict[str, list[Row]]) -> str | None:
        r = self.rng.random
        n_times = len(self.times)
        planned: list[tuple[int, int, int, str]] = []  # day, time, member, category
        for _ in range(count):
            m = int(r() * len(members))
            category = ""
            if self.uncovered:
                for mi, member in enumerate(members):
                    wanted = [c for c in sorted(self.uncovered) if c in self.writes[member[1]]]
                    if wanted:
                        m, category = mi, wanted[0]
                        self.uncovered.discard(category)
                        break
            _, profession, joined, left, _active = members[m]
            if not category:
                pool = self.writes[profession]
                category = pool[int(r() * len(pool))]
            planned.append((left + int(r() * (joined - left + 1)), int(r() * n_times), m,
                            category))
        planned.sort(key=lambda p: (-p[0], p[1]))
        out = rows["note"]
        previous: Row | None = None
        created = ""
        for day, time, m, category in planned:
            user_id, profession = members[m][0], members[m][1]
            created = self.past[day] + self.times[time]
            note_id = self._take("note")
            if previous is not None and previous[2] == user_id and r() < 0.03:
                out.append((note_id, case_id, user_id, profession, previous[4], previous[5],
                            previous[6] + words.CORRECTION_SUFFIX, created, previous[8] + 1,
                            previous[0], False, None))
            else:
                bodies = self.bodies[category]
                template = self.templates.get((profession, category)) if r() < 0.5 else None
                in_error = r() < 0.005
                out.append((note_id, case_id, user_id, profession, category, template,
                            bodies[int(r() * _BODY_VARIANTS)], created, 1, None, in_error,
                            words.ERROR_REASON if in_error else None))
            previous = out[-1]
        return created or None

    def _consents(self, person_id: int, recorded_by: int, k0: int,
                  rows: dict[str, list[Row]]) -> None:
        if not self.consent_pairs:
            return
        r = self.rng.random
        made = person_id - self.first_person
        if made < len(words.CONSENT_KINDS):
            kinds = [words.CONSENT_KINDS[made]]
        else:
            x = r()
            n = 0 if x < 0.4 else 1 if x < 0.75 else 2
            kinds = [words.CONSENT_KINDS[int(r() * len(words.CONSENT_KINDS))] for _ in range(n)]
        for kind in kinds:
            category, profession = self.consent_pairs[int(r() * len(self.consent_pairs))]
            given = 1 + int(r() * k0)
            until = self.future[30 + int(r() * 335)] if r() < 0.5 else None
            withdrawn = None
            grantor, decision = "self", "permit"
            if kind == "guardian_permit":
                grantor = "guardian"
            elif kind == "legal_representative_permit":
                grantor = "legal_representative"
            elif kind == "guardian_deny":
                grantor, decision = "guardian", "deny"
            elif kind == "expired":
                until = self.past[1 + int(r() * given)]
            elif kind == "withdrawn":
                withdrawn = self.stamp(1 + int(r() * given))
            elif kind == "refusal_next_to_guardian_permit":
                self._consent_row(rows, person_id, "guardian", "permit", category, profession,
                                  given, until, None, recorded_by)
                decision = "deny"
            self._consent_row(rows, person_id, grantor, decision, category, profession, given,
                              until, withdrawn, recorded_by)

    def _consent_row(self, rows: dict[str, list[Row]], person_id: int, grantor: str,
                     decision: str, category: str, profession: str, given: int,
                     until: str | None, withdrawn: str | None, recorded_by: int) -> None:
        evidence = words.CONSENT_EVIDENCE[decision]
        rows["consent"].append((
            self._take("consent"), person_id, grantor, decision, category, profession,
            self.past[given], until, withdrawn, recorded_by, self.stamp(given),
            evidence[int(self.rng.random() * len(evidence))],
        ))

    def _tasks(self, index: int, case_id: int, members: list[tuple[int, str, int, int, bool]],
               lead: int, k0: int, kend: int, closed: bool, rows: dict[str, list[Row]]) -> None:
        r = self.rng.random
        kinds = ["overdue", "upcoming", "done"] if index == 0 else [
            "overdue" if x < 0.35 else "done" if x < 0.5 else "upcoming"
            for x in (r() for _ in range(_TASK_COUNTS[int(r() * 10)]))]
        active = [m[0] for m in members if m[4]] or [lead]
        for kind in (["done"] * len(kinds) if closed else kinds):
            created_k = kend + int(r() * (k0 - kend + 1))
            done_at = None
            if kind == "upcoming":
                due = self.future[int(r() * 30)]
            else:
                due = self.past[kend + int(r() * 14)]
                if kind == "done":
                    done_at = self.stamp(kend)
            rows["task"].append((
                self._take("task"), case_id, words.TASK_TITLES[int(r() * len(words.TASK_TITLES))],
                active[int(r() * len(active))], due, done_at,
                members[int(r() * len(members))][0], self.stamp(created_k), 1,
            ))


def _years_before(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)
