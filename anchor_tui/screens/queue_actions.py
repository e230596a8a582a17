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

Changes go through the app's save queue (``saving.save_or_keep``): one made while the
database is away is kept and saved when it is back. One whose commit reached the server
while its answer was lost is made again too: each is written with the moment the person
made it, and the second attempt first looks for what the first wrote
(``saving.made_once``), so a snooze, a take, a lead, a task or a screening is never
written twice, nor refused as someone else's change. A snooze or a screening decision
refused (someone else changed the case meanwhile) keeps its reason: the error says so,
and the reason is filled in the next time the person asks on that case.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from functools import partial
from typing import Any

from textual import work
from textual.message import Message
from textual.screen import Screen
from textual.worker import get_current_worker

from anchor_tui.domain import CaseRef, MemberChoice, QueueItem, Viewer
from anchor_tui.errors import AnchorError
from anchor_tui.safe_text import printable
from anchor_tui.saving import later_notifier, made_once, save_or_keep
from anchor_tui.screens.prompt import ChoiceScreen, ReasonScreen, reason_kept_if_refused
from anchor_tui.services.backend import Backend
from anchor_tui.services.board import shows_lead
from anchor_tui.services.case_actions import (
    SNOOZE_DAYS,
    assign_lead,
    assign_task,
    case_members,
    case_ref,
    lead_chosen_at,
    mark_screened,
    screened_at,
    snooze_case,
    snoozed_at,
    stage_after_screening,
    take_case,
    taken_at,
    task_given,
)
from anchor_tui.services.clock import utcnow
from anchor_tui.services.form_drafts import case_target


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
        at = utcnow()  # the moment of the take, the same for every attempt
        self.write(f"take {ref.person_label}'s case", "Taking the case", made_once(
            partial(take_case, self._backend, self.viewer, ref.case_id, ref.version,
                    as_lead=lead, today=self._today(), at=at),
            partial(taken_at, self._backend, self.viewer, ref.case_id, at)), done)

    @work(exclusive=True, group="queue-ask")
    async def ask_assign(self, item: QueueItem, ref: CaseRef,
                         members: tuple[MemberChoice, ...]) -> None:
        if not members:
            self.notify(f"Nobody works {ref.person_label}'s case yet: take it first (t).",
                        title="Nobody to choose")
            return
        from anchor_tui.screens.task_picker import TaskQuestionScreen

        what = "lead"
        if item.task_id is not None:
            # The task's title, as read, on screen until answered: the question closes
            # if the task is no longer the viewer's to see (a consent withdrawn).
            chosen = await self.app.push_screen_wait(TaskQuestionScreen(
                ref.case_id, item.task_id, f"Assign on {ref.person_label}'s case",
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
        question = (TaskQuestionScreen(ref.case_id, item.task_id, title, people,
                                       note="The case's members now.")
                    if what == "task" and item.task_id is not None
                    else ChoiceScreen(title, people, note="The case's members now."))
        person = await self.app.push_screen_wait(question)
        if person is None:
            return
        name = next(m.display_name for m in members if str(m.user_id) == person)
        if what == "task" and item.task_id is not None and item.task_version is not None:
            self.write(f"give a task on {ref.person_label}'s case to {name}", "The task's "
                       "assignee", made_once(
                           partial(assign_task, self._backend, self.viewer, item.task_id,
                                   item.task_version, int(person), self._today()),
                           partial(task_given, self._backend, self.viewer, item.task_id,
                                   item.task_version, int(person))),
                       f"The task is now {name}'s.")
        else:
            at = utcnow()  # the moment of the choice, the same for every attempt
            self.write(f"make {name} lead {ref.person_label}'s case", "The new lead",
                       made_once(partial(assign_lead, self._backend, self.viewer,
                                         ref.case_id, ref.version, int(person),
                                         self._today(), at=at),
                                 partial(lead_chosen_at, self._backend, self.viewer,
                                         ref.case_id, int(person), at)),
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
        reason = await self._ask_reason("snooze", ref, ReasonScreen(
            "Snooze", f"Why snooze {ref.person_label}'s case until {until.isoformat()}?",
            **self._kept_reason("snooze", ref)))
        if reason is None:
            return
        at = utcnow()  # the moment of the snooze, the same for every attempt
        self.write(f"snooze {ref.person_label}'s case", "The snooze",
                   made_once(partial(snooze_case, self._backend, self.viewer, ref.case_id,
                                     until, reason, today, at=at),
                             partial(snoozed_at, self._backend, self.viewer, ref.case_id,
                                     until, reason, at)),
                   f"{ref.person_label}'s case is snoozed until {until.isoformat()}.",
                   reason=("snooze", ref.case_id, reason))

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
        # A reason is kept, and given back, for the decision it was written for: one to
        # close the case must never come back as the reason for taking it on.
        action = f"screened:{decision}"
        reason = await self._ask_reason(action, ref, ReasonScreen(
            "Screening decision", f"Why {verb}? The reason goes into the case history.",
            **self._kept_reason(action, ref)))
        if reason is None:
            return
        done = (f"{ref.person_label}'s case was taken on ({onward})." if decision == "take"
                else f"{ref.person_label}'s case was not taken and is closed.")
        at = utcnow()  # the moment of the decision, the same for every attempt
        self.write(f"record the screening of {ref.person_label}'s case",
                   "The screening decision",
                   made_once(partial(mark_screened, self._backend, self.viewer, ref.case_id,
                                     ref.version, take=decision == "take", reason=reason,
                                     closed_reason=closed_reason, at=at),
                             partial(screened_at, self._backend, self.viewer, ref.case_id,
                                     take=decision == "take", at=at)), done,
                   reason=(action, ref.case_id, reason))

    # --- reasons kept after a refusal ------------------------------------------------------

    def _reasons(self) -> dict[tuple[str, int], str]:
        """Reasons of refused changes, by (action, case), kept with the screen."""
        kept: dict[tuple[str, int], str] = self.__dict__.setdefault("_kept_reasons", {})
        return kept

    def _kept_reason(self, action: str, ref: CaseRef) -> dict[str, Any]:
        """The reason of a refused snooze or screening of this case, to fill in again;
        and, whatever is written, kept for its author if the terminal passes on while
        it is asked (``kept_form``)."""
        keep = {"kept_as": _reason_kept_as(action, ref.case_id)}
        kept = self._reasons().get((action, ref.case_id))
        if kept is None:
            return keep
        return keep | {"value": kept, "note": "Your reason from before, not saved then (the "
                       "case had changed). Check it still holds."}

    async def _ask_reason(self, action: str, ref: CaseRef, prompt: ReasonScreen
                          ) -> str | None:
        reason = await self.app.push_screen_wait(prompt)
        if reason is None:  # discarded (asked first, if something was written)
            self._reasons().pop((action, ref.case_id), None)
        return reason

    def _now_in(self, ref: CaseRef) -> str:
        team = self._backend.team
        text = f"{team.category_label(ref.category)} · now in {team.stage_label(ref.stage)}"
        return text + (f" · lead {ref.lead}" if ref.lead else "")

    # --- writing --------------------------------------------------------------------------

    def write(self, label: str, what: str, change: Callable[[], object], done: str, *,
              reason: tuple[str, int, str] | None = None) -> None:
        """Save the change through the app's save queue (kept while the database is away).
        With a ``reason`` (action, case, words), a refusal keeps the words: the error
        says so, and they are filled in when the person asks on that case again."""
        tell = later_notifier(self.app)
        reasons = self._reasons()

        def saved(_result: object) -> None:
            self.changed = True
            if reason is not None:
                reasons.pop(reason[:2], None)
            tell(printable(done), title="Queue", markup=False)
            if self.is_attached:
                self.load_queue()

        def refused(error: AnchorError) -> None:
            from anchor_tui.screens.error import ErrorScreen, show_held

            assert reason is not None
            action, case_id, words = reason
            reasons[(action, case_id)] = words
            key = "z" if action == "snooze" else "s"
            # Filled in again by this queue only: closed (the change was kept while the
            # database was away and made later), the next queue opened never had it.
            again = (f"Your reason is kept: “{words}”. It is filled in when you ask again "
                     f"on this case ({key}).") if self.is_attached else (
                f"Your reason was: “{words}”. Open the queue and ask again on this case "
                f"({key}) with it.")
            show_held(self.app, ErrorScreen(error.title, error.message,
                                            f"{error.fix}\n{again}"))
            if self.is_attached:
                self.load_queue()

        save_or_keep(self.app, label, what, change, on_saved=saved,
                     on_refused=refused if reason is not None else None,
                     keep_if_refused=None if reason is None else reason_kept_if_refused(
                         self.viewer, self._backend, _reason_kept_as(*reason[:2]), reason[2]))


def _reason_kept_as(action: str, case_id: int) -> tuple[str, str, int | None]:
    """The reason form of a snooze or screening of a case (``ReasonScreen.kept_as``)."""
    return f"reason:{action}", case_target(case_id), case_id
