"""The job launcher binds hyperparameters exactly as AWS's container does, quirks included.

amazon-braket-containers' braket_container.py passes hyperparameters only if ALL of them bind to
the entry function, and converts each by calling its annotation on the string. These tests pin
the cases where that differs from what a friendlier launcher would do.
"""

# No `from __future__ import annotations` here: the entry functions below need real annotation
# objects, as a job script without that import has them.
import json
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_braket.local.container.launcher import try_bind_hyperparameters


def _bind(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, function: Any, given: dict[str, str]) -> Any:
    hp_file = tmp_path / "hyperparameters.json"
    hp_file.write_text(json.dumps(given))
    monkeypatch.setenv("AMZN_BRAKET_HP_FILE", str(hp_file))
    return try_bind_hyperparameters(function)


def test_all_bound_and_cast_by_annotation(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    def entry(count: int, rate: float, verbose: bool, name="x") -> None: ...

    bound = _bind(monkeypatch, tmp_path, entry, {"count": "3", "rate": "0.5", "verbose": "true", "name": "y"})
    assert bound == {"count": 3, "rate": 0.5, "verbose": True, "name": "y"}


def test_bool_of_false_is_true_as_in_the_container(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    def entry(verbose: bool) -> None: ...

    assert _bind(monkeypatch, tmp_path, entry, {"verbose": "False"}) == {"verbose": True}


def test_one_unknown_hyperparameter_means_none_are_passed(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    def entry(count: int = 1) -> None: ...

    assert _bind(monkeypatch, tmp_path, entry, {"count": "3", "unused": "z"}) is None


def test_var_keyword_takes_every_hyperparameter_as_string(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    def anything(**kwargs: str) -> None: ...

    assert _bind(monkeypatch, tmp_path, anything, {"a": "1"}) == {"a": "1"}


def test_string_annotation_fails_as_in_the_container(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # Under `from __future__ import annotations` getfullargspec returns the string "int", and the
    # container calls it: the launcher fails before the code runs, on AWS as here.
    def entry(count: "int") -> None: ...

    with pytest.raises(TypeError, match="not callable"):
        _bind(monkeypatch, tmp_path, entry, {"count": "3"})


def test_no_hyperparameter_file_means_no_arguments(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AMZN_BRAKET_HP_FILE", raising=False)
    assert try_bind_hyperparameters(lambda: None) is None
