"""Runs benchmarks/fuzz_decoders.py: 100,000 mutated or random inputs per wire-format decoder.

Every input must decode canonically or raise DecodeError; the counts are printed by the script
and reported here as test properties.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

SCRIPT = Path(__file__).resolve().parent.parent / "benchmarks" / "fuzz_decoders.py"
INPUTS_PER_DECODER = 100_000


def load_harness() -> ModuleType:
    spec = importlib.util.spec_from_file_location("fuzz_decoders", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["fuzz_decoders"] = module
    spec.loader.exec_module(module)
    return module


HARNESS = load_harness()


@pytest.mark.slow
@pytest.mark.parametrize("target", HARNESS.targets(), ids=lambda t: t.name)
def test_decoder_survives_100k_fuzz_inputs(target: object, record_property: object) -> None:
    assert target.seeds, f"{target.name}: no seeds in tests/vectors"  # type: ignore[attr-defined]
    outcome = HARNESS.run_target(target, INPUTS_PER_DECODER, seed=1)
    record_property("accepted", outcome.accepted)  # type: ignore[operator]
    record_property("refused", sum(outcome.refused.values()))  # type: ignore[operator]
    assert outcome.failures == []
    assert outcome.accepted + sum(outcome.refused.values()) == INPUTS_PER_DECODER
    # Both paths must be exercised, or the fuzzer is not reaching the decoder.
    assert outcome.accepted > 0 and sum(outcome.refused.values()) > 0


def test_a_decoder_that_leaks_another_exception_is_caught() -> None:
    def leaky(data: bytes) -> object:
        return data[10]  # IndexError on short input: what the harness must report

    target = HARNESS.Target("leaky", [b"\x00" * 4], leaky)
    outcome = HARNESS.run_target(target, 50, seed=1)
    assert outcome.failures and outcome.failures[0].startswith("IndexError")


def test_an_accepted_input_that_is_not_canonical_is_caught() -> None:
    target = HARNESS.Target("lax", [b"\x01"], lambda b: b, canonical=lambda b, v: False)
    outcome = HARNESS.run_target(target, 20, seed=1)
    assert len(outcome.failures) == 20
