"""Sequences of calls along the document's links, against the live service: enrol a member,
sell to them, take a return; issue a voucher, reserve it, redeem it, roll it back; give a
gift, claim it. Every response is checked as in ``test_operations``, and stateful checks
(a deleted resource is gone, a created one can be read) apply along the way."""

import schemathesis
from hypothesis import settings

from tests.fuzz.conftest import Service
from tests.fuzz.support import load_schema, prepare

schema = load_schema()

SCENARIOS = 40
STEPS_PER_SCENARIO = 10


def test_linked_sequences(service: Service) -> None:
    class Workflow(schema.as_state_machine()):  # type: ignore[misc]
        def setup(self) -> None:
            service.reset()

        def before_call(self, case: schemathesis.Case) -> None:
            prepare(case)

        def get_call_kwargs(self, case: schemathesis.Case) -> dict[str, object]:
            return {"base_url": service.base_url, "headers": service.admin}

    Workflow.run(
        settings=settings(
            max_examples=SCENARIOS,
            stateful_step_count=STEPS_PER_SCENARIO,
            derandomize=True,
            database=None,
            deadline=None,
        )
    )
