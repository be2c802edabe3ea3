"""Identifier rules: key types, clouds, and the forms of ARNs, key URIs, service accounts,
region names and cluster ids.

Pure logic: no Pulumi, no network. Every identifier pattern is matched against the whole
string (``re.fullmatch``, never ``re.match`` with ``$``, which accepts a trailing newline) and
uses explicit ASCII classes (``[0-9]``, never ``\\d`` or ``\\w``, which accept other scripts'
digits and letters).
"""

from __future__ import annotations

import re
import uuid
from typing import Literal

from cmek_component.manifest.problems import Problem, SpecError, shown, suggestion

AWS_KMS = "AWS_KMS"
GCP_CLOUD_KMS = "GCP_CLOUD_KMS"
SUPPORTED_KEY_TYPES = (AWS_KMS, GCP_CLOUD_KMS)

Cloud = Literal["AWS", "GCP"]
KEY_TYPE_FOR_CLOUD: dict[str, str] = {"AWS": AWS_KMS, "GCP": GCP_CLOUD_KMS}

_AWS_PARTITION = r"aws(?:-cn|-us-gov)?"
_AWS_ACCOUNT = r"[0-9]{12}"
_AWS_IAM_NAME = r"[A-Za-z0-9_+=,.@/-]{1,512}"
_AWS_KEY_ID = r"(?:mrk-[0-9a-f]{32}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})"
AWS_REGION_PATTERN = r"[a-z]{2}(?:-gov)?-[a-z]+-[0-9]"
AWS_KEY_ARN_RE = re.compile(
    rf"arn:{_AWS_PARTITION}:kms:(?P<region>{AWS_REGION_PATTERN}):(?P<account>{_AWS_ACCOUNT}):key/{_AWS_KEY_ID}"
)
AWS_ROLE_ARN_RE = re.compile(rf"arn:{_AWS_PARTITION}:iam::{_AWS_ACCOUNT}:role/{_AWS_IAM_NAME}")
AWS_PRINCIPAL_RE = re.compile(rf"arn:{_AWS_PARTITION}:iam::{_AWS_ACCOUNT}:(?:root|(?:user|role)/{_AWS_IAM_NAME})")
AWS_POLICY_ARN_RE = re.compile(rf"arn:{_AWS_PARTITION}:iam::(?:{_AWS_ACCOUNT}|aws):policy/{_AWS_IAM_NAME}")
AWS_ACCOUNT_RE = re.compile(_AWS_ACCOUNT)
AWS_PARTITION_RE = re.compile(_AWS_PARTITION)
GCP_PROJECT_PATTERN = r"[a-z][a-z0-9.:-]{4,61}[a-z0-9]"
GCP_KEY_URI_RE = re.compile(
    rf"projects/(?P<project>{GCP_PROJECT_PATTERN})"
    r"/locations/(?P<location>[a-z0-9-]+)"
    r"/keyRings/(?P<key_ring>[A-Za-z0-9_-]{1,63})"
    r"/cryptoKeys/(?P<crypto_key>[A-Za-z0-9_-]{1,63})"
)
GCP_SERVICE_ACCOUNT_RE = re.compile(r"[a-z][a-z0-9-]{4,28}[a-z0-9]@[a-z0-9.:-]+\.gserviceaccount\.com")
AWS_REGION_RE = re.compile(AWS_REGION_PATTERN)
GCP_REGION_RE = re.compile(r"[a-z]+-[a-z]+[0-9]+")
CLUSTER_ID_RE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
"""A CockroachDB Cloud cluster id in its canonical form only: 8-4-4-4-12 lower-case hex digits,
as the Cloud console's URL and the API show it. Other spellings of the same UUID (upper case,
``{...}``, ``urn:uuid:...``, 32 digits without hyphens) are refused, not normalised: the id is
part of resource names (the default alias and key ring) and of the CockroachDB principal's
email on GCP, which must be the ones CockroachDB Cloud uses."""

AWS_KEY_ARN_FORM = "a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>)"
AWS_ROLE_ARN_FORM = "an IAM role ARN (arn:aws:iam::<account>:role/<name>)"
GCP_KEY_URI_FORM = (
    "a Cloud KMS crypto key name without a version "
    "(projects/<project>/locations/<location>/keyRings/<ring>/cryptoKeys/<key>)"
)
GCP_SERVICE_ACCOUNT_FORM = "a service account email (<name>@<project>.iam.gserviceaccount.com)"
CLUSTER_ID_FORM = (
    "a CockroachDB Cloud cluster id: a UUID in canonical form, 8-4-4-4-12 lower-case hex digits "
    "as in the cluster's URL (such as 8f1c2d3e-4b5a-4c6d-9e8f-0a1b2c3d4e5f)"
)


def matches(pattern: re.Pattern[str], value: object) -> re.Match[str] | None:
    """``pattern`` matched against the whole of ``value`` (``None`` for a non-string)."""
    return pattern.fullmatch(value) if isinstance(value, str) else None


def canonical_cluster_id(value: object) -> str | None:
    """The canonical form of another spelling of a UUID (``{...}``, ``urn:uuid:...``, 32 digits,
    upper case, surrounding spaces), or ``None`` when ``value`` is no UUID or already canonical."""
    if not isinstance(value, str) or len(value) > 64:
        return None
    try:
        canonical = str(uuid.UUID(value.strip()))
    except ValueError:
        return None
    return canonical if canonical != value else None


def cluster_id_problem(field: str, value: object) -> Problem | None:
    """Checks a cluster id: the canonical UUID form only (:data:`CLUSTER_ID_RE`); another
    spelling of a UUID gets its canonical form suggested (not inside :func:`masked_values`)."""
    if matches(CLUSTER_ID_RE, value):
        return None
    return Problem(field, f"expected {CLUSTER_ID_FORM}, got {shown(value)}{suggestion(canonical_cluster_id(value))}")


# --------------------------------------------------------------------------------------------
# Region names
# --------------------------------------------------------------------------------------------


def suggest_region(cloud: str, region: str) -> str | None:
    """The same region in ``cloud``'s spelling, when ``region`` is in the other cloud's spelling."""
    if cloud == "GCP" and re.fullmatch(r"[a-z]+(?:-[a-z]+)+-[0-9]+", region):
        head, _, digit = region.rpartition("-")
        candidate = f"{head}{digit}"
        return candidate if GCP_REGION_RE.fullmatch(candidate) else None
    if cloud == "AWS" and GCP_REGION_RE.fullmatch(region):
        m = re.fullmatch(r"(.*?)([0-9]+)", region)
        if m and AWS_REGION_RE.fullmatch(f"{m.group(1)}-{m.group(2)}"):
            return f"{m.group(1)}-{m.group(2)}"
    return None


def region_problem(cloud: str, field: str, region: object) -> Problem | None:
    """Checks a region name against ``cloud``'s naming (AWS ``us-east-1``, GCP ``us-east1``)."""
    article = "an" if cloud == "AWS" else "a"
    if not isinstance(region, str) or not region:
        return Problem(field, f"expected {article} {cloud} region name, got {shown(region)}")
    pattern = AWS_REGION_RE if cloud == "AWS" else GCP_REGION_RE
    if pattern.fullmatch(region):
        return None
    example = "us-east-1" if cloud == "AWS" else "us-east1"
    message = f"expected {article} {cloud} region name such as '{example}', got {shown(region)}"
    message += suggestion(suggest_region(cloud, region))
    return Problem(field, message)


def key_type_for_cloud(cloud: str) -> str:
    """``AWS`` -> ``AWS_KMS``, ``GCP`` -> ``GCP_CLOUD_KMS``; raises ``SpecError`` otherwise."""
    try:
        return KEY_TYPE_FOR_CLOUD[cloud]
    except KeyError:
        raise SpecError("cloud", "expected 'AWS' or 'GCP' (CMEK on Azure is not supported here)", cloud) from None


def crl_kms_principal(cluster_id: str, account_id: str) -> str:
    """The CockroachDB-managed GCP service account for a cluster.

    ``crl-kms-user-<last 12 characters of the cluster id>@<account_id>.iam.gserviceaccount.com``.
    """
    if len(cluster_id) < 12:
        raise SpecError("cluster_id", "expected a cluster id of at least 12 characters", cluster_id)
    if not account_id:
        raise SpecError("account_id", "expected the cluster's GCP project (account_id from GET cluster)", account_id)
    return f"crl-kms-user-{cluster_id[-12:]}@{account_id}.iam.gserviceaccount.com"

