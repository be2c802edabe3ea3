"""GCP naming rules: what GCP accepts as a project, service account, key ring, crypto key,
location and rotation period, and the names and URIs the component derives. Pure logic, no
Pulumi import; :mod:`cmek_component.gcp.plan` applies them to the arguments (the plan of what
``gcp/resources.py`` declares), and the GCP stand-in checks names with them.

Each check returns ``None`` or a ``Problem`` naming the field, the rule and the value::

    gcp.service_account_id: expected 6-30 characters of lower-case letters, digits and
    hyphens, starting with a letter, got 'Crdb_SA'

Naming (stable across runs, so a run never renames, and so never replaces, an existing key):

- one key ring per key location, named ``gcp.key_ring_name`` (default
  ``crdb-cmek-<cluster id>``) in every location;
- one crypto key per cluster region, named ``gcp.crypto_key_name`` (default ``crdb-cmek``)
  when the key lives in the region's own location, and ``<crypto_key_name>-<region>`` when it
  lives in another location (``global``, a multi-region such as ``us``, or another region),
  where several cluster regions may share the key ring. The suffix depends on the region alone,
  never on which other regions exist, so adding a region never renames a key;
- generation ``n > 1`` of a region's key gets ``-g<n>``: ``crdb-cmek-g2``,
  ``crdb-cmek-us-east1-g2``. Generations ``1..n`` all stay declared (old keys keep their grant:
  data written with them still needs them). A region added while the generation is ``n`` gets
  keys ``1..n`` too (only ``n`` is used), as the plan cannot know when a region joined.
"""

from __future__ import annotations

import re

from cmek_component.manifest.identifiers import region_problem, suggest_region
from cmek_component.manifest.option_checks import pattern_problem
from cmek_component.manifest.problems import Problem, shown, suggestion

TOKEN_CREATOR_ROLE = "roles/iam.serviceAccountTokenCreator"
"""Granted on the customer's service account to CockroachDB Cloud's per-cluster account."""
ENCRYPTER_DECRYPTER_ROLE = "roles/cloudkms.cryptoKeyEncrypterDecrypter"
"""Granted on each crypto key (key level, never project level) to the customer's service account."""
KEY_PURPOSE = "ENCRYPT_DECRYPT"
KEY_ALGORITHM = "GOOGLE_SYMMETRIC_ENCRYPTION"
PROTECTION_LEVELS = ("SOFTWARE", "HSM")
DEFAULT_PROTECTION_LEVEL = "SOFTWARE"
DEFAULT_CRYPTO_KEY_NAME = "crdb-cmek"
GLOBAL_LOCATION = "global"

SERVICE_ACCOUNT_ID_RE = re.compile(r"[a-z][a-z0-9-]{5,29}")
SERVICE_ACCOUNT_ID_RULE = (
    "expected 6-30 characters of lower-case letters, digits and hyphens, starting with a letter"
)
DISPLAY_NAME_MAX = 100
KMS_NAME_RE = re.compile(r"[A-Za-z0-9_-]{1,63}")
KMS_NAME_RULE = "expected 1-63 characters of letters, digits, '_' and '-'"
PROJECT_ID_RE = re.compile(r"(?:(?P<domain>[a-z][a-z0-9.-]{0,61}[a-z0-9]):)?(?P<id>[a-z][a-z0-9-]{4,28}[a-z0-9])")
PROJECT_ID_RULE = (
    "expected a GCP project id: 6-30 characters of lower-case letters, digits and hyphens, "
    "starting with a letter, not ending with a hyphen (optionally '<domain>:<id>')"
)
LOCATION_RE = re.compile(r"(?:global|[a-z]+-[a-z]+[0-9]+|[a-z]+[0-9]*)")
LOCATION_RULE = (
    "expected a Cloud KMS location: 'global', a region such as 'us-east1', or a multi-region "
    "or dual-region location such as 'us', 'europe' or 'nam4'"
)
ROTATION_PERIOD_RE = re.compile(r"(?P<seconds>[0-9]+)(?:\.[0-9]{1,9})?s")
ROTATION_PERIOD_MIN_SECONDS = 86_400
ROTATION_PERIOD_MAX_SECONDS = 876_000 * 3600
ROTATION_PERIOD_RULE = (
    "expected a duration in seconds such as '7776000s' (90 days), from '86400s' (one day) "
    "to '3153600000s' (100 years)"
)


_HYPHENATED_DIGIT_RE = re.compile(r"(?P<head>[a-z]+-[a-z]+)-(?P<digit>[0-9]+)")


def suggest_gcp_region(value: str) -> str | None:
    """``us-east-1`` -> ``us-east1``, ``europe-west-1`` -> ``europe-west1``: a region written with
    a hyphen before its number (AWS style) in GCP's spelling."""
    match = _HYPHENATED_DIGIT_RE.fullmatch(value)
    return f"{match.group('head')}{match.group('digit')}" if match else suggest_region("GCP", value)


def gcp_region_problem(field_name: str, region: object) -> Problem | None:
    """``manifest.region_problem`` for GCP, also suggesting ``europe-west1`` for ``europe-west-1``."""
    problem = region_problem("GCP", field_name, region)
    if problem and "did you mean" not in problem.message and isinstance(region, str):
        hint = suggest_gcp_region(region)
        if hint:
            return Problem(field_name, f"{problem.message}{suggestion(hint)}")
    return problem


def project_problem(field_name: str, value: object) -> Problem | None:
    """Checks a GCP project id (``my-project`` or domain-scoped ``example.com:my-project``)."""
    return pattern_problem(field_name, value, PROJECT_ID_RE, PROJECT_ID_RULE)


def service_account_id_problem(field_name: str, value: object) -> Problem | None:
    """Checks a service account id: 6-30 of ``a-z0-9-``, starting with a letter, not ending with ``-``."""
    problem = pattern_problem(field_name, value, SERVICE_ACCOUNT_ID_RE, SERVICE_ACCOUNT_ID_RULE)
    if problem is None and isinstance(value, str) and value.endswith("-"):
        return Problem(field_name, f"expected a letter or digit at the end (not a hyphen), got {shown(value)}")
    return problem


def display_name_problem(field_name: str, value: object) -> Problem | None:
    """Checks a service account display name: 1-100 characters."""
    if isinstance(value, str) and 1 <= len(value) <= DISPLAY_NAME_MAX:
        return None
    return Problem(field_name, f"expected 1-{DISPLAY_NAME_MAX} characters, got {shown(value)}")


def kms_name_problem(field_name: str, value: object) -> Problem | None:
    """Checks a key ring or crypto key name: 1-63 of ``A-Za-z0-9_-``."""
    return pattern_problem(field_name, value, KMS_NAME_RE, KMS_NAME_RULE)


def location_problem(field_name: str, value: object) -> Problem | None:
    """Checks a Cloud KMS location; an AWS-style region gets a suggestion (``us-east-1`` -> ``us-east1``)."""
    problem = pattern_problem(field_name, value, LOCATION_RE, LOCATION_RULE)
    if problem is None or not isinstance(value, str):
        return problem
    return Problem(field_name, f"{problem.message}{suggestion(suggest_gcp_region(value))}")


def rotation_period_problem(field_name: str, value: object) -> Problem | None:
    """Checks a rotation period: ``<seconds>s``, at least one day, at most 100 years."""
    match = ROTATION_PERIOD_RE.fullmatch(value) if isinstance(value, str) else None
    if match and ROTATION_PERIOD_MIN_SECONDS <= int(match.group("seconds")) <= ROTATION_PERIOD_MAX_SECONDS:
        return None
    return Problem(field_name, f"{ROTATION_PERIOD_RULE}, got {shown(value)}")


def service_account_email(account_id: str, project: str) -> str:
    """``<account_id>@<project>.iam.gserviceaccount.com``; a domain-scoped project
    ``example.com:my-project`` gives ``<account_id>@my-project.example.com.iam.gserviceaccount.com``."""
    domain, _, project_id = project.rpartition(":")
    host = f"{project_id}.{domain}" if domain else project_id
    return f"{account_id}@{host}.iam.gserviceaccount.com"


def key_ring_path(project: str, location: str, key_ring: str) -> str:
    """``projects/<p>/locations/<l>/keyRings/<r>``: the key ring's resource name (its Pulumi id)."""
    return f"projects/{project}/locations/{location}/keyRings/{key_ring}"


def crypto_key_uri(project: str, location: str, key_ring: str, crypto_key: str) -> str:
    """``projects/<p>/locations/<l>/keyRings/<r>/cryptoKeys/<k>``: the crypto key's resource name
    without a version, which is both its Pulumi id and the ``uri`` CockroachDB Cloud expects."""
    return f"{key_ring_path(project, location, key_ring)}/cryptoKeys/{crypto_key}"


def crypto_key_name(base: str, region: str, location: str, generation: int) -> str:
    """The crypto key name of ``region``'s key of ``generation`` (see the module docstring)."""
    name = base if location == region else f"{base}-{region}"
    return name if generation == 1 else f"{name}-g{generation}"


def default_service_account_id(cluster_id: str) -> str:
    """``crdb-cmek-<last 8 characters of the cluster id>``, lower case."""
    return f"crdb-cmek-{cluster_id[-8:].lower()}"


def default_display_name(cluster_id: str) -> str:
    return f"CockroachDB CMEK {cluster_id}"


def default_key_ring_name(cluster_id: str) -> str:
    return f"crdb-cmek-{cluster_id}"
