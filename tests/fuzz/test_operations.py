"""Every operation of the published document, fuzzed against the live service.

Per operation: the document's examples, the coverage phase's boundary and missing-value
cases, and generated valid and invalid requests, each checked for server errors,
conformance of status, content type, headers and body to the document, invalid data
accepted, valid data refused and authentication ignored.
"""

import schemathesis

from tests.fuzz.conftest import Service
from tests.fuzz.support import FUZZ_SETTINGS, load_schema, prepare

schema = load_schema()


@schema.parametrize()
@FUZZ_SETTINGS
def test_operation(case: schemathesis.Case, service: Service) -> None:
    prepare(case)
    case.call_and_validate(base_url=service.base_url, headers=service.admin)
