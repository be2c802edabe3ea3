"""A revoke is the only change of its update: the keys a cluster uses, as configured now, compared
with what the stack's last update applied.

Pure logic: no Pulumi import. The program exports each cluster's :func:`rotation_config` (output
``rotation_config``); in an update whose configuration sets ``revoke: true`` it reads the stack's
last outputs back (``__main__.py``) and refuses, before any resource is declared, every key of
:data:`ROTATION_KEYS` that changed since. Changing one of them rotates the cluster to other keys
(or re-wraps it, for ``rotation_trigger``); sent together with a revoke, the rotation's keys would
be made and the revoke would then refuse to run, or revoke keys the cluster never used.

The activation stays the last line when this comparison cannot be made (last outputs that
cannot be read, or no record for the cluster): its check refuses, at preview, a revoke combined
with a change of its inputs, and a new activation with ``revoke`` true revokes only a
configuration enabled with exactly the declared keys.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cmek_component.component.args import ClusterCmekArgs
from cmek_component.manifest.generations import is_whole_number
from cmek_component.manifest.problems import Problem, shown

RECORD_OUTPUT = "rotation_config"
"""Name of the per-cluster output that holds :func:`rotation_config`."""

ROTATION_KEYS: dict[str, Any] = {
    "name": None,
    "regions": None,
    "key_generation": 1,
    "region_key_generations": {},
    "rotation_trigger": "",
    "aws.key_mode": "multi-region",
    "aws.primary_region": None,
    "aws.byo_keys": {},
    "aws.role_name": None,
    "aws.role_path": None,
    "gcp.project": None,
    "gcp.byo_keys": {},
    "gcp.key_locations": {},
    "gcp.key_ring_name": None,
    "gcp.crypto_key_name": None,
    "gcp.service_account_id": None,
    "vault": False,
    "vault.mount_path": None,
    "vault.namespace": None,
    "vault.kms_name": None,
    "vault.key_name": None,
    "vault.key_collection": None,
    "vault.key_collections": {},
}
"""Cluster keys (paths under ``cmek:clusters[i]``) that choose the keys the cluster uses, the
identity CockroachDB Cloud uses them as, or re-wrap them; each with the value its absence
means. ``None``: a default computed elsewhere (``aws.primary_region`` follows ``regions``, so
both are kept); a change from unset to set still counts. ``name`` is the resource name (a
rename re-creates every resource of the cluster); ``vault`` records whether the ``vault`` block
is present (keys from Vault or from the cloud)."""

PRESENCE_KEYS = ("vault",)
"""Paths recorded as whether the block is present, not by value."""

_CLOUD_OF_PREFIX = {"aws.": "AWS", "gcp.": "GCP"}


def _value(args: Mapping[str, Any], path: str, name: str | None = None) -> Any:
    if path == "name":
        return name
    if path in PRESENCE_KEYS:
        return args.get(path) is not None
    head, _, key = path.rpartition(".")
    holder = args.get(head) if head else args
    value = holder.get(key) if isinstance(holder, Mapping) else None
    return ROTATION_KEYS[path] if value is None else value


def rotation_config(args: ClusterCmekArgs, name: str | None = None) -> dict[str, Any]:
    """What the next update compares against: ``cluster_id``, ``revoke``, ``keys`` (the paths
    recorded, so a later version comparing more keys skips those an older record lacks) and
    every key of :data:`ROTATION_KEYS` (absent ones as their default); ``name``: the cluster's
    resource name."""
    record: dict[str, Any] = {
        "cluster_id": args["cluster_id"],
        "revoke": args.get("revoke") is True,
        "keys": list(ROTATION_KEYS),
    }
    record.update({path: _value(args, path, name) for path in ROTATION_KEYS})
    return record


def _kind_problem(path: str, value: Any) -> str | None:
    """What is wrong with a recorded value, judged by the kind of its default (``None``: a
    string, a list of strings or ``None``)."""
    default = ROTATION_KEYS[path]
    if value is None:
        return None
    if isinstance(default, bool):
        ok = isinstance(value, bool)
    elif isinstance(default, int):
        ok = is_whole_number(value) or (isinstance(value, float) and value.is_integer())
    elif isinstance(default, str):
        ok = isinstance(value, str)
    elif isinstance(default, dict):
        ok = isinstance(value, Mapping) and all(isinstance(key, str) for key in value)
    else:
        ok = isinstance(value, str) or (isinstance(value, list) and all(isinstance(item, str) for item in value))
    return None if ok else f"{path} is {shown(value)}"


def record_problem(record: object) -> str | None:
    """Why ``record`` (a ``rotation_config`` read back from the last outputs) cannot be compared,
    or ``None`` when it can: an object with a string ``cluster_id``, a boolean ``revoke``, a
    list of key paths in ``keys`` (when present) and values of the kind each key holds. A
    malformed record (edited outputs, another program's output of that name) gets the warning
    path, as a missing one does, never an exception."""
    if not isinstance(record, Mapping):
        return f"expected an object, got {shown(record)}"
    if not isinstance(record.get("cluster_id"), str):
        return f"cluster_id is {shown(record.get('cluster_id'))}"
    if not isinstance(record.get("revoke", False), bool):
        return f"revoke is {shown(record.get('revoke'))}"
    keys = record.get("keys")
    if keys is not None and not (isinstance(keys, list) and all(isinstance(key, str) for key in keys)):
        return f"keys is {shown(keys)}"
    for path in ROTATION_KEYS:
        problem = _kind_problem(path, record.get(path))
        if problem:
            return problem
    return None


def _plain(value: Any) -> Any:
    """``value`` with whole floats as ints: numbers come back from stack outputs as floats."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, Mapping):
        return {key: _plain(item) for key, item in value.items()}
    return value


def _shown(path: str, value: Any, secret: bool) -> str:
    if path in PRESENCE_KEYS:
        return "present" if value else "absent"
    if value is None:
        return "not set"
    return "[secret]" if secret else repr(value)


def _undo(path: str, value: Any, secret: bool) -> str:
    if path in PRESENCE_KEYS:
        return "put it back" if value else "remove it"
    if value is None or value == {}:
        return "remove it"
    return "restore its last value" if secret else f"set it back to {value!r}"


def _applies(path: str, cloud: str | None) -> bool:
    """Options of the other cloud play no part once the cluster's cloud is known."""
    for prefix, owner in _CLOUD_OF_PREFIX.items():
        if path.startswith(prefix):
            return cloud is None or cloud == owner
    return True


def revoke_with_rotation_problems(
    cluster_key: str,
    args: ClusterCmekArgs,
    last: Mapping[str, Any] | None,
    *,
    name: str | None = None,
    stack_defaults: Mapping[str, str] | None = None,
    secret: bool = False,
    cloud: str | None = None,
) -> list[Problem]:
    """One problem per rotation key changed in an update that sets ``revoke`` to true.

    ``cluster_key`` prefixes each problem's key (``cmek:clusters[1]``), except for options taken
    from a stack-wide default (``stack_defaults``: path -> ``cmek:aws.key_mode``), which are
    named by that key. ``last`` is the cluster's :func:`rotation_config` as the last update
    exported it (``None`` when there is none); only the paths it recorded are compared.
    ``name``: the cluster's resource name now. ``secret``: values are shown as ``[secret]``.
    ``cloud`` (``AWS``/``GCP``, when known): the other cloud's options are not compared.
    Nothing is compared when ``revoke`` is false, when ``last`` is malformed
    (:func:`record_problem`; the program warns about it), when the last update had already revoked
    (that revoke is done; the activation refuses any later change), or when ``last`` belongs
    to another cluster id.
    """
    defaults_from = stack_defaults or {}
    if args.get("revoke") is not True or not isinstance(last, Mapping) or record_problem(last):
        return []
    if last.get("revoke") is True or str(last.get("cluster_id", "")).lower() != args["cluster_id"].lower():
        return []
    recorded = last.get("keys")
    compared = set(recorded) if isinstance(recorded, list) else set(last)
    problems = []
    for path, default in ROTATION_KEYS.items():
        if path not in compared or not _applies(path, cloud):
            continue
        before = _plain(last.get(path))
        before = default if before is None else before
        now = _value(args, path, name)
        if now == before or (path == "name" and now is None):
            continue
        key = defaults_from.get(path)
        whose = f" for {cluster_key}" if key else ""
        problems.append(
            Problem(
                key or f"{cluster_key}.{path}",
                f"cannot change in the update that sets revoke to true{whose} (a revoke must be the "
                f"only change of its update): the last update applied {_shown(path, before, secret)}, got "
                f"{_shown(path, now, secret)}; {_undo(path, before, secret)} to revoke now, or set revoke to false "
                "and apply this change first",
            )
        )
    return problems
