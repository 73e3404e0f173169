"""Grid and random studies, kept in two tables of the studies' database (no Optuna needed).

A trial's number is the next free one in its study, taken in the same transaction that inserts
it, so two runs asking at once get different numbers (the primary key refuses a duplicate; the
loser asks again). A trial is finished once: ``tell`` updates only a RUNNING trial.
"""

from __future__ import annotations

import json
import random
import threading
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    Column,
    DateTime,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError, ProgrammingError

from airflow_provider_braket.sweeps.storage import engine_for
from airflow_provider_braket.sweeps.trials import RUNNING, Trial

if TYPE_CHECKING:
    from airflow_provider_braket.sweeps.study import Study

_metadata = MetaData()
studies = Table(
    "braket_sweep_studies",
    _metadata,
    Column("study_id", Integer, primary_key=True, autoincrement=True),
    Column("study_key", String(400), nullable=False),
    Column("sampler", String(32), nullable=False),
    Column("direction", String(16), nullable=False),
    Column("space", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("study_key", name="braket_sweep_studies_key"),
)
trials = Table(
    "braket_sweep_trials",
    _metadata,
    Column("study_id", Integer, primary_key=True),
    Column("number", Integer, primary_key=True),
    Column("params", Text, nullable=False),
    Column("state", String(16), nullable=False),
    Column("value", Float),
    Column("cost", Float),
    Column("job_arn", String(256)),
    Column("ask_key", String(600), nullable=False),
    Column("run_id", String(250)),
    Column("started_at", DateTime(timezone=True)),
    Column("ended_at", DateTime(timezone=True)),
)
_created: set[str] = set()
_creating = threading.Lock()
CREATE_ATTEMPTS = 3
#: Attempts at taking trial numbers when another run takes the same ones at the same moment.
ASK_ATTEMPTS = 8


def _create_tables(engine: Any) -> None:
    """The tables, if missing. Found on PostgreSQL: tasks of several processes opening a new
    study at once raced to create them, and all but one failed; the losers find them made."""
    for _ in range(CREATE_ATTEMPTS - 1):
        try:
            _metadata.create_all(engine, checkfirst=True)
            return
        except (IntegrityError, ProgrammingError):
            continue
    _metadata.create_all(engine, checkfirst=True)


def _canonical(params: dict[str, Any]) -> str:
    return json.dumps(params, sort_keys=True)


class BuiltInStudy:
    """A ``grid`` or ``random`` study (see :class:`~.study.StudyBackend`)."""

    def __init__(self, study: Study, dag_id: str, url: str) -> None:
        self.study = study
        self.engine = engine_for(url)
        with _creating:
            if url not in _created:
                _create_tables(self.engine)
                _created.add(url)
        self.study_id = self._study_id(study.key(dag_id))

    def _study_id(self, key: str) -> int:
        query = select(studies.c.study_id).where(studies.c.study_key == key)
        with self.engine.begin() as connection:
            found = connection.execute(query).scalar()
            if found is not None:
                return int(found)
        row = {
            "study_key": key,
            "sampler": self.study.sampler,
            "direction": self.study.objective.direction,
            "space": json.dumps(self.study.space.describe()),
            "created_at": datetime.now(timezone.utc),
        }
        try:
            with self.engine.begin() as connection:
                return int(connection.execute(insert(studies).values(row)).inserted_primary_key[0])
        except IntegrityError:  # created by another task at the same moment
            with self.engine.begin() as connection:
                return int(connection.execute(query).scalar_one())

    def ask(self, count: int, ask_key: str, run_id: str | None) -> list[Trial]:
        for _ in range(ASK_ATTEMPTS):
            try:
                return self._ask_once(count, ask_key, run_id)
            except IntegrityError:
                continue
        raise RuntimeError(f"could not take trial numbers in {ASK_ATTEMPTS} attempts")

    def _ask_once(self, count: int, ask_key: str, run_id: str | None) -> list[Trial]:
        mine = trials.c.study_id == self.study_id
        with self.engine.begin() as connection:
            asked = connection.execute(
                select(trials).where(mine, trials.c.ask_key == ask_key).order_by(trials.c.number)
            ).all()
            if len(asked) >= count:  # a retried ask: the same trials, however many it asks now
                return [_trial(row) for row in asked]
            taken = connection.execute(select(func.max(trials.c.number)).where(mine)).scalar()
            number = -1 if taken is None else int(taken)
            known = {row.params for row in connection.execute(select(trials.c.params).where(mine))}
            rows = []
            for params in self._choose(count - len(asked), number + 1, known):
                number += 1
                rows.append(
                    {
                        "study_id": self.study_id,
                        "number": number,
                        "params": _canonical(params),
                        "state": RUNNING,
                        "ask_key": ask_key,
                        "run_id": run_id,
                        "started_at": datetime.now(timezone.utc),
                    }
                )
            if rows:
                connection.execute(insert(trials), rows)
        return [_trial(row) for row in asked] + [_trial_from(row) for row in rows]

    def _choose(self, count: int, first_number: int, known: set[str]) -> list[dict[str, Any]]:
        """The next ``count`` points: grid points not asked before (fewer once the grid is
        done), or random draws, each from a generator seeded by the study's seed and the trial's
        number (repeatable, and different in every run)."""
        if self.study.sampler == "grid":
            chosen: list[dict[str, Any]] = []
            for point in self.study.space.grid_points():
                if len(chosen) == count:
                    break
                if _canonical(point) not in known:
                    chosen.append(point)
            return chosen
        seed = self.study.seed if self.study.seed is not None else random.SystemRandom().randrange(2**32)
        return [
            self.study.space.draw(random.Random(f"{seed}:{first_number + offset}")) for offset in range(count)
        ]

    def tell(
        self, number: int, state: str, value: float | None, cost: float | None, job_arn: str | None
    ) -> bool:
        statement = (
            update(trials)
            .where(trials.c.study_id == self.study_id, trials.c.number == number, trials.c.state == RUNNING)
            .values(state=state, value=value, cost=cost, job_arn=job_arn, ended_at=datetime.now(timezone.utc))
        )
        with self.engine.begin() as connection:
            return bool(connection.execute(statement).rowcount)

    def report(self, number: int, step: int, value: float) -> bool:
        return False  # no pruner without Optuna (Study refuses one)

    def trials(self) -> list[Trial]:
        query = select(trials).where(trials.c.study_id == self.study_id).order_by(trials.c.number)
        with self.engine.begin() as connection:
            return [_trial(row) for row in connection.execute(query)]

    def importances(self) -> dict[str, float] | None:
        return None


def _trial(row: Any) -> Trial:
    return _trial_from(row._mapping)


def _trial_from(row: Any) -> Trial:
    return Trial(
        number=int(row["number"]),
        params=json.loads(row["params"]),
        state=row["state"],
        value=row.get("value"),
        cost=row.get("cost"),
        job_arn=row.get("job_arn"),
        run_id=row.get("run_id"),
        started_at=_utc(row.get("started_at")),
        ended_at=_utc(row.get("ended_at")),
    )


def _utc(moment: datetime | None) -> datetime | None:
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=timezone.utc)  # SQLite keeps no zone
