"""The plan of what ``gcp/resources.py`` declares: pure logic, no Pulumi import.

``plan_gcp_keys`` checks every GCP option against GCP's own rules (:mod:`cmek_component.gcp.rules`)
and turns the arguments into a ``GcpPlan``: the service account, one key ring per key location,
the crypto keys of every region and generation, bring-your-own keys, and the exact key URIs
CockroachDB Cloud receives. It reports every problem at once (``SpecProblems``), each naming the
field, the rule and the value, before a single resource is declared. The names follow the rules'
naming (see :mod:`cmek_component.gcp.rules`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from cmek_component.component.args import ClusterCmekArgs, GcpKeyOptions
from cmek_component.gcp.rules import (
    DEFAULT_CRYPTO_KEY_NAME,
    DEFAULT_PROTECTION_LEVEL,
    KMS_NAME_RE,
    PROTECTION_LEVELS,
    crypto_key_name,
    crypto_key_uri,
    default_display_name,
    default_key_ring_name,
    default_service_account_id,
    display_name_problem,
    gcp_region_problem,
    key_ring_path,
    kms_name_problem,
    location_problem,
    project_problem,
    rotation_period_problem,
    service_account_email,
    service_account_id_problem,
)
from cmek_component.manifest.generations import key_generations
from cmek_component.manifest.identifiers import GCP_KEY_URI_FORM, GCP_KEY_URI_RE, crl_kms_principal
from cmek_component.manifest.option_checks import (
    choice_problem,
    flag_values,
    problems_found,
    spec_error_problem,
)
from cmek_component.manifest.problems import (
    Problem,
    SpecError,
    SpecProblems,
    region_mapping,
    shown,
    shown_names,
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


def _fmt(field_name: str, key: str) -> str:
    return f"{field_name}.{key}"


@dataclass(frozen=True)
class GcpCryptoKeyPlan:
    """A crypto key to declare, with its Encrypter/Decrypter grant."""

    region: str
    generation: int
    location: str
    """The location of its key ring (a key of ``GcpPlan.key_rings``)."""
    name: str
    uri: str
    current: bool
    """True for the generation the region uses now; older generations are kept for old data."""


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
    key_ring_name: str = ""
    """The name of every key ring (``gcp.key_ring_name``)."""
    key_rings: dict[str, str] = field(default_factory=dict)
    """Key location -> ``projects/<p>/locations/<l>/keyRings/<r>``: one key ring per location."""
    crypto_keys: list[GcpCryptoKeyPlan] = field(default_factory=list)
    byo_keys: dict[str, str] = field(default_factory=dict)
    """Cluster region -> URI of the crypto key the user brings for it (``gcp.byo_keys``)."""
    grant_byo_keys: bool = True
    """Whether the component adds the Encrypter/Decrypter grant on every brought key."""
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
        uris.update(self.byo_keys)
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
            problems.append(spec_error_problem(error))

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

    # Identity and key options.
    sa_id = options.get("service_account_id", default_service_account_id(cluster_id))
    display_name = options.get("display_name", default_display_name(cluster_id))
    ring_name = options.get("key_ring_name", default_key_ring_name(cluster_id))
    key_base = options.get("crypto_key_name", DEFAULT_CRYPTO_KEY_NAME)
    protection_level = options.get("protection_level", DEFAULT_PROTECTION_LEVEL)
    rotation_period = options.get("rotation_period")
    problems.extend(problems_found(
        service_account_id_problem("gcp.service_account_id", sa_id),
        display_name_problem("gcp.display_name", display_name),
        kms_name_problem("gcp.key_ring_name", ring_name),
        kms_name_problem("gcp.crypto_key_name", key_base),
        choice_problem("gcp.protection_level", protection_level, PROTECTION_LEVELS),
        None if rotation_period is None else rotation_period_problem("gcp.rotation_period", rotation_period),
    ))
    defaults = {"grant_byo_keys": True, "retain_on_delete": True, "protect": False, "cut_key_access": False}
    flags = flag_values("gcp", options, defaults, problems)

    # Key material from Vault: the Vault plan checks its own options, generations and byo_keys.
    uses_vault = args.get("vault") is not None
    if uses_vault:
        from cmek_component.vault.plan import vault_key_problems

        problems.extend(vault_key_problems("GCP", regions, args, VAULT_IGNORED_OPTIONS))
        if problems:
            raise SpecProblems(problems)
        assert isinstance(project, str) and isinstance(sa_id, str) and isinstance(display_name, str)
        return _plan(
            project, sa_id, display_name, crl_principal, uses_vault=True, cut_key_access=flags["cut_key_access"]
        )

    # Bring your own keys.
    byo_raw = region_mapping(options.get("byo_keys"), "gcp.byo_keys", "crypto key name", problems)
    byo: dict[str, str] = {}
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
    locations_raw = region_mapping(options.get("key_locations"), "gcp.key_locations", "Cloud KMS location", problems)
    locations: dict[str, str] = {}
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
    rings: dict[str, str] = {}
    keys: list[GcpCryptoKeyPlan] = []
    for region in sorted(regions):
        if region in byo:
            continue
        location = locations.get(region, region)
        rings[location] = key_ring_path(project, location, ring_name)
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
        key_ring_name=ring_name,
        key_rings=dict(sorted(rings.items())),
        crypto_keys=keys,
        byo_keys=dict(sorted(byo.items())),
        protection_level=str(protection_level),
        rotation_period=rotation_period,
        **flags,
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
