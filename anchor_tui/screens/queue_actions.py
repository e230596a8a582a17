"""What a person does from the triage queue: take, assign, snooze, record the screening.

Each action first reads the case as it is now (in a thread worker: its version, who
works it), then asks from the keyboard (a choice, a reason; Escape cancels and nothing
changes), then writes in one unit of work with the version the person saw, so a case
someone else changed meanwhile is not overwritten (the error modal says so and the
queue is read again). After a change the queue reads itself again, keeping the place.

- ``t`` take: work the case, or work and lead it;
- ``a`` assign: choose the lead from the case's members, or (on a task) give the task
  to one of them;
- ``z`` snooze: hide the case from one's own queue for 1-14 days, with a reason;
- ``s`` screening decision: take the case on (it moves on) or not (it is closed, with
  the closing reason), with a reason.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from functools import partial

from textual import work
from textual.message import Message
from textual.screen import Screen
from textual.worker import get_current_worker

from anchor_tui.domain import CaseRef, MemberChoice, QueueItem, Viewer
from anchor_tui.screens.prompt import ChoiceScreen, ReasonScreen
from anchor_tui.services.backend import Backend
from anchor_tui.services.board import shows_lead
from anchor_tui.services.case_actions import (
    SNOOZE_DAYS,
    assign_lead,
    assign_task,
    case_members,
    case_ref,
    mark_screened,
    snooze_case,
    stage_after_screening,
    take_case,
)


class CaseReadForAction(Message):
    """The case of a queue item was read, as it is now, before asking what to do."""

    def __init__(self, viewer: Viewer, action: str, item: QueueItem, ref: CaseRef,
                 members: tuple[MemberChoice, ...]) -> None:
        super().__init__()
        self.viewer = viewer
        self.action = action
        self.item = item
        self.ref = ref
        self.members = members


def days_label(days: int, until: dt.date) -> str:
    return f"{days} day{'s' if days != 1 else ''}, until {until.isoformat()}"


class QueueActions(Screen[None]):
    """The actions of the queue screen (a mixin; the screen holds the queue)."""

    _backend: Backend
    viewer: Viewer
    _today: Callable[[], dt.date]
    changed: bool

    def current_item(self) -> QueueItem | None:
        raise NotImplementedError

    def load_queue(self) -> object:
        raise NotImplementedError

    def action_take(self) -> None:
        self._prepare_current("take")

    def action_assign(self) -> None:
        self._prepare_current("assign")

    def action_snooze(self) -> None:
        self._prepare_current("snooze")

    def action_screened(self) -> None:
        self._prepare_current("screened")

    def _prepare_current(self, action: str) -> None:
        item = self.current_item()
        if item is not None:
            self.prepare(action, item)

    @work(thread=True, exclusive=True, group="queue-prepare", exit_on_error=False)
    def prepare(self, action: str, item: QueueItem) -> None:
        ref = case_ref(self._backend, self.viewer, item.case_id)
        members: tuple[MemberChoice, ...] = ()
        if action == "assign":
            members = case_members(self._backend, self.viewer, item.case_id, self._today())
        if not get_current_worker().is_cancelled:
            self.post_message(CaseReadForAction(self.viewer, action, item, ref, members))

    def on_case_read_for_action(self, message: CaseReadForAction) -> None:
        if message.viewer != self.viewer:
            return
        asks = {"take": self.ask_take, "assign": self.ask_assign,
                "snooze": self.ask_snooze, "screened": self.ask_screened}
        asks[message.action](message.item, message.ref, message.members)

    # --- asking ---------------------------------------------------------------------------

    @work(exclusive=True, group="queue-ask")
    async def ask_take(self, item: QueueItem, ref: CaseRef,
                       members: tuple[MemberChoice, ...]) -> None:
        choices = [("member", "Work the case (become a member)")]
        if shows_lead(self._backend, self.viewer):
            choices.append(("lead", "Work the case and lead it"))
        chosen = await self.app.push_screen_wait(ChoiceScreen(
            f"Take {ref.person_label}'s case", choices,
            note=self._now_in(ref)))
        if chosen is None:
            return
        lead = chosen == "lead"
        done = f"You now {'lead' if lead else 'work'} {ref.person_label}'s case."
        self.write(partial(take_case, self._backend, self.viewer, ref.case_id, ref.version,
                           as_lead=lead, today=self._today()), done)

    @work(exclusive=True, group="queue-ask")
    async def ask_assign(self, item: QueueItem, ref: CaseRef,
                         members: tuple[MemberChoice, ...]) -> None:
        if not members:
            self.notify(f"Nobody works {ref.person_label}'s case yet: take it first (t).",
                        title="Nobody to choose")
            return
        what = "lead"
        if item.task_id is not None:
            chosen = await self.app.push_screen_wait(ChoiceScreen(
                f"Assign on {ref.person_label}'s case",
                [("task", f"Give the task “{item.what}” to someone"),
                 ("lead", "Choose who leads the case")]))
            if chosen is None:
                return
            what = chosen
        professions = self._backend.policy.professions

        def label(m: MemberChoice) -> str:
            leads = " (leads it now)" if m.user_id == ref.lead_user_id else ""
            return f"{m.display_name} · {professions.get(m.profession, m.profession)}{leads}"

        people = [(str(m.user_id), label(m)) for m in members]
        title = (f"Give “{item.what}” to" if what == "task"
                 else f"Who leads {ref.person_label}'s case?")
        person = await self.app.push_screen_wait(ChoiceScreen(title, people,
                                                              note="The case's members now."))
        if person is None:
            return
        name = next(m.display_name for m in members if str(m.user_id) == person)
        if what == "task" and item.task_id is not None and item.task_version is not None:
            self.write(partial(assign_task, self._backend, self.viewer, item.task_id,
                               item.task_version, int(person), self._today()),
                       f"The task is now {name}'s.")
        else:
            self.write(partial(assign_lead, self._backend, self.viewer, ref.case_id,
                               ref.version, int(person), self._today()),
                       f"{name} now leads {ref.person_label}'s case.")

    @work(exclusive=True, group="queue-ask")
    async def ask_snooze(self, item: QueueItem, ref: CaseRef,
                         members: tuple[MemberChoice, ...]) -> None:
        today = self._today()
        lengths = [(str(days), days_label(days, today + dt.timedelta(days=days)))
                   for days in SNOOZE_DAYS]
        chosen = await self.app.push_screen_wait(ChoiceScreen(
            f"Snooze {ref.person_label}'s case for how long?", lengths,
            note="It leaves your own queue until then; nobody else's."))
        if chosen is None:
            return
        until = today + dt.timedelta(days=int(chosen))
        reason = await self.app.push_screen_wait(ReasonScreen(
            "Snooze", f"Why snooze {ref.person_label}'s case until {until.isoformat()}?"))
        if reason is None:
            return
        self.write(partial(snooze_case, self._backend, self.viewer, ref.case_id, until,
                           reason, today),
                   f"{ref.person_label}'s case is snoozed until {until.isoformat()}.")

    @work(exclusive=True, group="queue-ask")
    async def ask_screened(self, item: QueueItem, ref: CaseRef,
                           members: tuple[MemberChoice, ...]) -> None:
        team = self._backend.team
        onward = team.stage_label(stage_after_screening(team))
        decision = await self.app.push_screen_wait(ChoiceScreen(
            f"Screening decision for {ref.person_label}",
            [("take", f"Take the case on: it moves to {onward}"),
             ("not_take", "Do not take it: the case is closed")],
            note=self._now_in(ref)))
        if decision is None:
            return
        closed_reason = None
        if decision == "not_take":
            closed_reason = await self.app.push_screen_wait(ChoiceScreen(
                f"Why is {ref.person_label}'s case closed?",
                [(c.id, c.label) for c in team.closed_reasons]))
            if closed_reason is None:
                return
        verb = "take it on" if decision == "take" else "not take it"
        reason = await self.app.push_screen_wait(ReasonScreen(
            "Screening decision", f"Why {verb}? The reason goes into the case history."))
        if reason is None:
            return
        done = (f"{ref.person_label}'s case was taken on ({onward})." if decision == "take"
                else f"{ref.person_label}'s case was not taken and is closed.")
        self.write(partial(mark_screened, self._backend, self.viewer, ref.case_id,
                           ref.version, take=decision == "take", reason=reason,
                           closed_reason=closed_reason), done)

    def _now_in(self, ref: CaseRef) -> str:
        team = self._backend.team
        text = f"{team.category_label(ref.category)} · now in {team.stage_label(ref.stage)}"
        return text + (f" · lead {ref.lead}" if ref.lead else "")

    # --- writing --------------------------------------------------------------------------

    @work(thread=True, exclusive=True, group="queue-change", exit_on_error=False)
    def write(self, change: Callable[[], object], done: str) -> None:
        change()
        self.changed = True
        self.app.call_from_thread(self.notify, done, title="Queue")
        self.app.call_from_thread(self.load_queue)
