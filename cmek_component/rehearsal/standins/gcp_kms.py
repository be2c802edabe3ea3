"""The GCP stand-in's key rings and crypto keys, with Cloud KMS's rules.

Names, locations, purposes, protection levels, algorithms, rotation periods, deletion policies and
destroy-scheduled durations are checked as Cloud KMS checks them; key ring and crypto key names,
once used, are never usable again in the same project and location.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from cmek_component.gcp.rules import kms_name_problem, location_problem, rotation_period_problem

from ..errors import RehearsalError
from .applied import Applied
from .gcp_records import GcpRecords, problem_text

PURPOSES = ("ENCRYPT_DECRYPT", "ASYMMETRIC_SIGN", "ASYMMETRIC_DECRYPT", "RAW_ENCRYPT_DECRYPT", "MAC",
            "KEY_ENCAPSULATION")
PROTECTION_LEVELS = ("SOFTWARE", "HSM", "EXTERNAL", "EXTERNAL_VPC")
SYMMETRIC_ALGORITHMS = {
    "SOFTWARE": "GOOGLE_SYMMETRIC_ENCRYPTION",
    "HSM": "GOOGLE_SYMMETRIC_ENCRYPTION",
    "EXTERNAL": "EXTERNAL_SYMMETRIC_ENCRYPTION",
    "EXTERNAL_VPC": "EXTERNAL_SYMMETRIC_ENCRYPTION",
}
DELETION_POLICIES = ("DELETE", "PREVENT", "ABANDON")
DURATION_RE = re.compile(r"^(?P<seconds>\d+)(?:\.\d{1,9})?s$")


class GcpKms(GcpRecords):
    """``gcp:kms/keyRing:KeyRing`` and ``gcp:kms/cryptoKey:CryptoKey``."""

    def _create_key_ring(self, urn_name: str, inputs: dict[str, Any]) -> Applied:
        project = self._project(inputs, urn_name)
        for problem in (
            kms_name_problem(f"{urn_name}: name", inputs.get("name")),
            location_problem(f"{urn_name}: location", inputs.get("location")),
        ):
            if problem:
                raise RehearsalError(problem_text(problem))
        name = f"projects/{project}/locations/{inputs['location']}/keyRings/{inputs['name']}"
        if name in self.names_used:
            raise RehearsalError(
                f"{urn_name}: ALREADY_EXISTS: key ring {name} already exists (key rings can never be deleted, "
                "so their names can never be reused)"
            )
        self._call("kms:keyRings.create", name)
        self.names_used.append(name)
        self.objects[name] = {"kind": "keyRing", "project": project, "location": inputs["location"]}
        return Applied(name, {**inputs, "project": project})

    def _check_rotation(self, where: str, inputs: Mapping[str, Any]) -> None:
        period = inputs.get("rotationPeriod")
        if period is None:
            return
        if (inputs.get("purpose") or "ENCRYPT_DECRYPT") != "ENCRYPT_DECRYPT":
            raise RehearsalError(f"{where}: rotationPeriod: only ENCRYPT_DECRYPT keys rotate automatically, got {period!r}")
        problem = rotation_period_problem(f"{where}: rotationPeriod", period)
        if problem:
            raise RehearsalError(problem_text(problem))

    def _check_version_template(self, where: str, inputs: Mapping[str, Any]) -> None:
        template = inputs.get("versionTemplate") or {}
        level = template.get("protectionLevel") or "SOFTWARE"
        if level not in PROTECTION_LEVELS:
            raise RehearsalError(
                f"{where}: versionTemplate.protectionLevel: expected one of {', '.join(PROTECTION_LEVELS)}, got {level!r}"
            )
        algorithm = template.get("algorithm")
        purpose = inputs.get("purpose") or "ENCRYPT_DECRYPT"
        if purpose == "ENCRYPT_DECRYPT" and algorithm is not None and algorithm != SYMMETRIC_ALGORITHMS[level]:
            raise RehearsalError(
                f"{where}: versionTemplate.algorithm: expected {SYMMETRIC_ALGORITHMS[level]} for an "
                f"ENCRYPT_DECRYPT key at protection level {level}, got {algorithm!r}"
            )

    def _crypto_key_outputs(self, inputs: Mapping[str, Any], key: Mapping[str, Any], name: str) -> dict[str, Any]:
        versions = key.get("versions") or []
        primary = versions[-1] if versions else None
        return {
            **inputs,
            "purpose": inputs.get("purpose") or "ENCRYPT_DECRYPT",
            "deletionPolicy": inputs.get("deletionPolicy") or "DELETE",
            "destroyScheduledDuration": inputs.get("destroyScheduledDuration") or "2592000s",
            "primaries": [{"name": f"{name}/cryptoKeyVersions/{primary['id']}", "state": primary["state"]}]
            if primary else [],
            "effectiveLabels": dict(inputs.get("labels") or {}),
        }

    def _create_crypto_key(self, urn_name: str, inputs: dict[str, Any]) -> Applied:
        ring = str(inputs.get("keyRing") or "")
        problem = kms_name_problem(f"{urn_name}: name", inputs.get("name"))
        if problem:
            raise RehearsalError(problem_text(problem))
        purpose = inputs.get("purpose") or "ENCRYPT_DECRYPT"
        if purpose not in PURPOSES:
            raise RehearsalError(f"{urn_name}: purpose: expected one of {', '.join(PURPOSES)}, got {purpose!r}")
        self._check_rotation(urn_name, inputs)
        self._check_version_template(urn_name, inputs)
        policy = inputs.get("deletionPolicy") or "DELETE"
        if policy not in DELETION_POLICIES:
            raise RehearsalError(f"{urn_name}: deletionPolicy: expected one of {', '.join(DELETION_POLICIES)}, got {policy!r}")
        duration = inputs.get("destroyScheduledDuration")
        if duration is not None:
            match = DURATION_RE.match(str(duration))
            if not match or int(match.group("seconds")) < 86_400:
                raise RehearsalError(
                    f"{urn_name}: destroyScheduledDuration: expected at least '86400s' (one day), got {duration!r}"
                )
        if ring not in self.objects or self.objects[ring].get("kind") != "keyRing":
            raise RehearsalError(f"{urn_name}: keyRing: NOT_FOUND: key ring {ring!r} does not exist")
        name = f"{ring}/cryptoKeys/{inputs['name']}"
        if name in self.names_used:
            raise RehearsalError(
                f"{urn_name}: ALREADY_EXISTS: crypto key {name} already exists (crypto keys can never be "
                "deleted, so their names can never be reused)"
            )
        self._call("kms:cryptoKeys.create", name, body={"purpose": purpose, "versionTemplate": inputs.get("versionTemplate"),
                                                          "rotationPeriod": inputs.get("rotationPeriod")})
        self.names_used.append(name)
        versions = [] if inputs.get("skipInitialVersionCreation") else [{"id": 1, "state": "ENABLED"}]
        key: dict[str, Any] = {"kind": "cryptoKey", "rotationPeriod": inputs.get("rotationPeriod"), "labels": inputs.get("labels"),
               "versionTemplate": inputs.get("versionTemplate"), "versions": versions, "bindings": {}}
        self.objects[name] = key
        return Applied(name, self._crypto_key_outputs(inputs, key, name))
