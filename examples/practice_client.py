"""Practice software's first call: open a patient's record by INS and list what you may see.

    DMP_URL=https://dmp.example.fr DMP_TOKEN=dmp_… python examples/practice_client.py INS [--entries N]

Prints the patient, then each section the access rules let this practitioner see, with the
mode that allows it and its number of entries (and the N latest, with --entries N).
Needs httpx (`pip install httpx`). Exit status: 0, 1 on an API error, 2 on bad usage.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

import httpx

SECTION_FIELDS = {
    "MEDICATIONS": "medications", "MEDICAL_DEVICES": "medicalDevices", "PROCEDURES": "procedures",
    "IMAGING": "imaging", "LAB_RESULTS": "labResults", "HOSPITAL_STAYS": "hospitalStays",
    "MEDICAL_HISTORY": "medicalHistory", "ALLERGIES": "allergies", "VACCINATIONS": "vaccinations",
    "DOCUMENTS": "documents",
}
# `first` is written into the query text, as the guide advises (docs/api.md §5): the cost
# limit counts a page size passed as a variable as 100, whatever its value. Ten sections of
# 100 entries with these few fields cost about 5,000 of the 10,000 allowed.
MAX_ENTRIES = 100  # the largest page (`first`)
CONNECTION = "(first: ENTRIES) { totalCount edges { node { date title } } }"
QUERY = (
    "query PatientSections($ins: String!) {\n"
    "  patientRecord(ins: $ins) {\n"
    "    firstName lastName birthDate status accessMode\n"
    "    sectionAccess { section mode }\n"
    + "".join(f"    {field}{CONNECTION}\n" for field in SECTION_FIELDS.values())
    + "    emergencyProfile { bloodGroup }\n"
    "  }\n"
    "}\n"
)


class ApiError(Exception):
    pass


def call(url: str, token: str, query: str, variables: dict[str, Any]) -> dict[str, Any]:
    response = httpx.post(
        f"{url.rstrip('/')}/graphql",
        json={"query": query, "variables": variables},
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )
    try:
        body = response.json()
    except ValueError:
        raise ApiError(f"HTTP {response.status_code}: not a GraphQL response") from None
    errors = body.get("errors") or []
    if errors:
        first = errors[0]
        raise ApiError(f"{first.get('extensions', {}).get('code', 'ERROR')}: {first['message']}")
    response.raise_for_status()
    return dict(body["data"])


def describe(record: dict[str, Any], entries: int) -> list[str]:
    lines = [
        f"{record['firstName']} {record['lastName'].upper()}, born {record['birthDate']} — "
        f"record {record['status']}, access {record['accessMode']}"
    ]
    for access in record["sectionAccess"]:
        section, mode = access["section"], access["mode"]
        field = SECTION_FIELDS.get(section)
        if field is None:  # EMERGENCY: the emergency profile, not a list of entries
            blood = (record.get("emergencyProfile") or {}).get("bloodGroup") or "unknown"
            lines.append(f"{section:<16} {mode:<20} blood group {blood}")
            continue
        connection = record[field]
        count = connection["totalCount"]
        lines.append(f"{section:<16} {mode:<20} {count} {'entry' if count == 1 else 'entries'}")
        for edge in connection["edges"][:entries]:
            lines.append(f"    {edge['node']['date']}  {edge['node']['title']}")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="List the sections of a patient's record you may see.")
    parser.add_argument("ins", help="the patient's INS (15 characters)")
    parser.add_argument("--entries", type=int, default=0,
                        help=f"also list the N latest entries (at most {MAX_ENTRIES})")
    args = parser.parse_args(argv)
    url, token = os.environ.get("DMP_URL"), os.environ.get("DMP_TOKEN")
    if not url or not token:
        print("set DMP_URL (e.g. https://dmp.example.fr) and DMP_TOKEN", file=sys.stderr)
        return 2
    try:
        entries = max(0, min(args.entries, MAX_ENTRIES))
        data = call(url, token, QUERY.replace("ENTRIES", str(entries)), {"ins": args.ins})
    except ApiError as exc:
        print(f"error {exc}", file=sys.stderr)
        return 1
    except httpx.HTTPError as exc:
        print(f"error: cannot reach {url}: {exc}", file=sys.stderr)
        return 1
    print("\n".join(describe(data["patientRecord"], args.entries)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
