"""GCP naming rules and the plan of what ``gcp/resources.py`` declares: pure logic, no Pulumi import.

``plan_gcp_keys`` checks every GCP option against GCP's own rules and turns the arguments into
a ``GcpPlan``: the service account, one key ring per key location, the crypto keys of every
region and generation, bring-your-own keys, and the exact key URIs CockroachDB Cloud receives.
It reports every problem at once (``SpecProblems``), each naming the field, the rule and the
value, before a single resource is declared::

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
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from cmek_component.component.args import ClusterCmekArgs, GcpKeyOptions
from cmek_component.manifest.specs import (
    GCP_KEY_URI_FORM,
    GCP_KEY_URI_RE,
    Problem,
    SpecError,
    SpecProblems,
    crl_kms_principal,
    key_generations,
    region_problem,
    shown,
    shown_names,
    suggest_region,
    suggestion,
)

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

GCP_OPTION_NAMES = tuple(GcpKeyOptions.__annotations__)
VAULT_IGNORED_OPTIONS = (
    "key_locations",
    "key_ring_name",
    "crypto_key_name",
    "protection_level",
    "rotation_period",
    "grant_byo_keys",
)
"""GCP key options that mean nothing when Vault makes the keys (``vault.*`` has its own)."""


_HYPHENATED_DIGIT_RE = re.compile(r"(?P<head>[a-z]+-[a-z]+)-(?P<digit>[0-9]+)")


def _fmt(field_name: str, key: str) -> str:
    return f"{field_name}.{key}"


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
    if isinstance(value, str) and PROJECT_ID_RE.fullmatch(value):
        return None
    return Problem(field_name, f"{PROJECT_ID_RULE}, got {shown(value)}")


def service_account_id_problem(field_name: str, value: object) -> Problem | None:
    """Checks a service account id: 6-30 of ``a-z0-9-``, starting with a letter, not ending with ``-``."""
    if not isinstance(value, str) or not SERVICE_ACCOUNT_ID_RE.fullmatch(value):
        return Problem(field_name, f"{SERVICE_ACCOUNT_ID_RULE}, got {shown(value)}")
    if value.endswith("-"):
        return Problem(field_name, f"expected a letter or digit at the end (not a hyphen), got {shown(value)}")
    return None


def kms_name_problem(field_name: str, value: object) -> Problem | None:
    """Checks a key ring or crypto key name: 1-63 of ``A-Za-z0-9_-``."""
    if isinstance(value, str) and KMS_NAME_RE.fullmatch(value):
        return None
    return Problem(field_name, f"{KMS_NAME_RULE}, got {shown(value)}")


def location_problem(field_name: str, value: object) -> Problem | None:
    """Checks a Cloud KMS location; an AWS-style region gets a suggestion (``us-east-1`` -> ``us-east1``)."""
    if isinstance(value, str) and LOCATION_RE.fullmatch(value):
        return None
    message = f"{LOCATION_RULE}, got {shown(value)}"
    message += suggestion(suggest_gcp_region(value) if isinstance(value, str) else None)
    return Problem(field_name, message)


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


@dataclass(frozen=True)
class GcpKeyRingPlan:
    """A key ring to declare: one per key location."""

    location: str
    name: str
    path: str
    """``projects/<p>/locations/<l>/keyRings/<r>``."""


@dataclass(frozen=True)
class GcpCryptoKeyPlan:
    """A crypto key to declare, with its Encrypter/Decrypter grant."""

    region: str
    generation: int
    location: str
    key_ring: GcpKeyRingPlan
    name: str
    uri: str
    current: bool
    """True for the generation the region uses now; older generations are kept for old data."""


@dataclass(frozen=True)
class GcpByoKeyPlan:
    """A crypto key the user brings for one region."""

    region: str
    uri: str
    grant: bool
    """Whether the component adds the Encrypter/Decrypter grant on it."""


@dataclass(frozen=True)
class GcpPlan:
    """Everything ``gcp/resources.py`` declares, in plain values (valid by construction)."""

    project: str
    service_account_id: str
    service_account_email: str
    service_account_path: str
    """``projects/<p>/serviceAccounts/<email>``: the account's resource name (its Pulumi id)."""
    display_name: str
    crl_principal: str
    """CockroachDB Cloud's per-cluster service account that impersonates ours."""
    key_rings: list[GcpKeyRingPlan] = field(default_factory=list)
    crypto_keys: list[GcpCryptoKeyPlan] = field(default_factory=list)
    byo_keys: list[GcpByoKeyPlan] = field(default_factory=list)
    protection_level: str = DEFAULT_PROTECTION_LEVEL
    rotation_period: str | None = None
    retain_on_delete: bool = True
    protect: bool = False
    cut_key_access: bool = False
    """Disable the service account (``gcp.cut_key_access``): CockroachDB Cloud can no longer
    impersonate it, so it loses KMS access; keys and grants stay."""
    uses_vault: bool = False
    """Key material from Vault (``args["vault"]``): no key ring or crypto key here; ``vault/resources.py``
    distributes the keys into existing key rings and grants the service account on them."""

    @property
    def key_uris(self) -> dict[str, str]:
        """Cluster region -> URI of the key the region uses now (Vault keys not included: their
        names are known only once Vault has distributed them)."""
        uris = {k.region: k.uri for k in self.crypto_keys if k.current}
        uris.update({b.region: b.uri for b in self.byo_keys})
        return dict(sorted(uris.items()))


def _region_field(region: str, index: int, args: Mapping[str, Any]) -> str:
    add_regions = args.get("add_regions")
    listed = args.get("regions")
    if isinstance(add_regions, Mapping) and region in add_regions and not (
        isinstance(listed, list) and region in listed
    ):
        return f"add_regions.{region}"
    return f"regions[{index}]"



def _region_keys_problems(
    field_name: str, mapping: Mapping[Any, Any], regions: Sequence[str]
) -> list[Problem]:
    problems = []
    for key in mapping:
        if key not in regions:
            problems.append(
                Problem(
                    _fmt(field_name, str(key)),
                    f"expected a cluster region as key ({shown_names(regions)}), got {shown(key)}",
                )
            )
    return problems


def plan_gcp_keys(
    cluster_id: str,
    regions: Sequence[str],
    account_id: str,
    args: ClusterCmekArgs,
    default_project: str | None = None,
) -> GcpPlan:
    """Validates the GCP arguments and returns what to declare; raises ``SpecProblems`` listing
    every problem (field, rule, value).

    ``regions`` are every cluster region (current plus added), ``account_id`` the cluster's
    ``account_id`` (CockroachDB's GCP project), ``default_project`` the ``gcp:project`` config
    used when ``gcp.project`` is not given.
    """
    raw_options: object = args.get("gcp") or {}
    problems: list[Problem] = []
    if not isinstance(raw_options, Mapping):
        raise SpecProblems([Problem("gcp", f"expected a mapping of GCP options, got {shown(raw_options)}")])
    options: Mapping[str, Any] = raw_options
    for key in options:
        if key not in GCP_OPTION_NAMES:
            problems.append(
                Problem(f"gcp.{key}", f"expected one of the GCP options ({', '.join(GCP_OPTION_NAMES)}), got {shown(key)}")
            )

    # Cluster facts: region spelling, CockroachDB's project, the CockroachDB principal.
    seen: set[str] = set()
    for index, region in enumerate(regions):
        where = _region_field(region, index, args)
        problem = gcp_region_problem(where, region)
        if problem:
            problems.append(problem)
        elif region in seen:
            problems.append(Problem(where, f"expected each region once, got {shown(region)} twice"))
        seen.add(region)
    if not regions:
        problems.append(Problem("regions", "expected at least one cluster region, got []"))
    crl_principal = ""
    account_problem = project_problem("account_id", account_id)
    if account_problem:
        problems.append(
            Problem(
                "account_id",
                "expected the cluster's GCP project id (account_id from GET cluster: on GCP it is "
                f"CockroachDB's project, such as 'crl-prod-abc'), got {shown(account_id)}",
            )
        )
    else:
        try:
            crl_principal = crl_kms_principal(cluster_id, account_id)
        except SpecError as error:
            problems.append(Problem(error.field, f"{error.rule}, got {shown(error.value)}"))

    # The customer's project.
    project = options.get("project") if "project" in options else default_project
    if project is None or project == "":
        problems.append(
            Problem(
                "gcp.project",
                "expected the GCP project for the service account and keys: set gcp.project in the "
                "component's arguments or `pulumi config set gcp:project <project>`, got None",
            )
        )
        project = ""
    else:
        problem = project_problem("gcp.project", project)
        if problem:
            problems.append(problem)

    # Identity.
    sa_id = options.get("service_account_id", default_service_account_id(cluster_id))
    problem = service_account_id_problem("gcp.service_account_id", sa_id)
    if problem:
        problems.append(problem)
    display_name = options.get("display_name", default_display_name(cluster_id))
    if not isinstance(display_name, str) or not 1 <= len(display_name) <= DISPLAY_NAME_MAX:
        problems.append(
            Problem("gcp.display_name", f"expected 1-{DISPLAY_NAME_MAX} characters, got {shown(display_name)}")
        )

    # Key options.
    ring_name = options.get("key_ring_name", default_key_ring_name(cluster_id))
    problem = kms_name_problem("gcp.key_ring_name", ring_name)
    if problem:
        problems.append(problem)
    key_base = options.get("crypto_key_name", DEFAULT_CRYPTO_KEY_NAME)
    key_base_problem = kms_name_problem("gcp.crypto_key_name", key_base)
    if key_base_problem:
        problems.append(key_base_problem)
    protection_level = options.get("protection_level", DEFAULT_PROTECTION_LEVEL)
    if protection_level not in PROTECTION_LEVELS:
        problems.append(
            Problem("gcp.protection_level", f"expected one of {', '.join(PROTECTION_LEVELS)}, got {shown(protection_level)}")
        )
    rotation_period = options.get("rotation_period")
    if rotation_period is not None:
        problem = rotation_period_problem("gcp.rotation_period", rotation_period)
        if problem:
            problems.append(problem)
    flags: dict[str, bool] = {}
    for flag, default in (
        ("grant_byo_keys", True),
        ("retain_on_delete", True),
        ("protect", False),
        ("cut_key_access", False),
    ):
        value = options.get(flag, default)
        if not isinstance(value, bool):
            problems.append(Problem(f"gcp.{flag}", f"expected true or false, got {shown(value)}"))
            value = default
        flags[flag] = value

    # Key material from Vault: the Vault plan checks its own options, generations and byo_keys.
    uses_vault = args.get("vault") is not None
    if uses_vault:
        from cmek_component.vault.rules import plan_vault_keys

        try:
            plan_vault_keys("GCP", list(regions), args)
        except SpecProblems as error:
            problems.extend(error.problems)
        except SpecError as error:
            problems.append(Problem(error.field, f"{error.rule}, got {shown(error.value)}"))
        for option in VAULT_IGNORED_OPTIONS:
            if option in options:
                problems.append(
                    Problem(f"gcp.{option}", f"has no effect with vault (Vault makes the keys), got {shown(options[option])}")
                )
        if problems:
            raise SpecProblems(problems)
        assert isinstance(project, str) and isinstance(sa_id, str) and isinstance(display_name, str)
        return _plan(
            project, sa_id, display_name, crl_principal, uses_vault=True, cut_key_access=flags["cut_key_access"]
        )

    # Bring your own keys.
    byo_raw = options.get("byo_keys") or {}
    byo: dict[str, str] = {}
    if not isinstance(byo_raw, Mapping):
        problems.append(Problem("gcp.byo_keys", f"expected a mapping of cluster region -> crypto key name, got {shown(byo_raw)}"))
    else:
        problems.extend(_region_keys_problems("gcp.byo_keys", byo_raw, regions))
        for region, uri in byo_raw.items():
            if not isinstance(uri, str) or not GCP_KEY_URI_RE.fullmatch(uri):
                rule = f"expected {GCP_KEY_URI_FORM}"
                if isinstance(uri, str) and "/cryptoKeyVersions/" in uri:
                    rule += "; drop the /cryptoKeyVersions/<n> suffix"
                problems.append(Problem(_fmt("gcp.byo_keys", str(region)), f"{rule}, got {shown(uri)}"))
            elif region in regions:
                byo[region] = uri

    # Locations.
    locations_raw = options.get("key_locations") or {}
    locations: dict[str, str] = {}
    if not isinstance(locations_raw, Mapping):
        problems.append(
            Problem("gcp.key_locations", f"expected a mapping of cluster region -> Cloud KMS location, got {shown(locations_raw)}")
        )
        locations_raw = {}
    problems.extend(_region_keys_problems("gcp.key_locations", locations_raw, regions))
    for region, location in locations_raw.items():
        where = _fmt("gcp.key_locations", str(region))
        problem = location_problem(where, location)
        if problem:
            problems.append(problem)
        elif region in byo:
            problems.append(
                Problem(where, f"expected no location for {region}, whose key comes from gcp.byo_keys, got {shown(location)}")
            )
        else:
            locations[region] = location

    # Generations.
    generations = key_generations(args, regions)
    generation = generations.base
    problems.extend(generations.problems)
    per_region: dict[str, int] = {}
    for region, value in generations.overrides.items():
        if region in byo:
            problems.append(
                Problem(
                    f"region_key_generations.{region}",
                    f"expected only regions whose keys this component creates ({region} uses "
                    f"gcp.byo_keys: rotate it by changing its URI), got {shown(value)}",
                )
            )
        else:
            per_region[region] = value

    if problems:
        raise SpecProblems(problems)

    assert isinstance(project, str) and isinstance(sa_id, str) and isinstance(display_name, str)
    assert isinstance(ring_name, str) and isinstance(key_base, str)
    rings: dict[str, GcpKeyRingPlan] = {}
    keys: list[GcpCryptoKeyPlan] = []
    for region in sorted(regions):
        if region in byo:
            continue
        location = locations.get(region, region)
        ring = rings.get(location)
        if ring is None:
            ring = GcpKeyRingPlan(location, ring_name, key_ring_path(project, location, ring_name))
            rings[location] = ring
        current = per_region.get(region, generation)
        for gen in range(1, current + 1):
            name = crypto_key_name(key_base, region, location, gen)
            if not KMS_NAME_RE.fullmatch(name):
                problems.append(
                    Problem(
                        "gcp.crypto_key_name",
                        f"expected a name that stays within 63 characters with its suffixes "
                        f"({region}, generation {gen} gives {shown(name)}, {len(name)} characters), got {shown(key_base)}",
                    )
                )
                break
            keys.append(
                GcpCryptoKeyPlan(
                    region=region,
                    generation=gen,
                    location=location,
                    key_ring=ring,
                    name=name,
                    uri=crypto_key_uri(project, location, ring_name, name),
                    current=gen == current,
                )
            )
    if problems:
        raise SpecProblems(problems)
    return _plan(
        project,
        sa_id,
        display_name,
        crl_principal,
        key_rings=[rings[loc] for loc in sorted(rings)],
        crypto_keys=keys,
        byo_keys=[GcpByoKeyPlan(r, byo[r], flags["grant_byo_keys"]) for r in sorted(byo)],
        protection_level=str(protection_level),
        rotation_period=rotation_period,
        retain_on_delete=flags["retain_on_delete"],
        protect=flags["protect"],
        cut_key_access=flags["cut_key_access"],
    )


def _plan(project: str, sa_id: str, display_name: str, crl_principal: str, **keys: Any) -> GcpPlan:
    email = service_account_email(sa_id, project)
    return GcpPlan(
        project=project,
        service_account_id=sa_id,
        service_account_email=email,
        service_account_path=f"projects/{project}/serviceAccounts/{email}",
        display_name=display_name,
        crl_principal=crl_principal,
        **keys,
    )
