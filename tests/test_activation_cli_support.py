"""What the activation says when the Pulumi CLI cannot support it: a CLI too old to pass stack
configuration to dynamic providers, and ``import_=`` (which no CLI supports for dynamic
resources). The real-CLI behaviour of both is in ``tests/engine``."""

from __future__ import annotations

import pytest
from pulumi.dynamic import Config, ConfigureRequest

from cmek_component.activation.dynamic import (
    MINIMUM_CLI_VERSION,
    CmekActivationProvider,
    import_refusal,
)
from cmek_component.activation.inputs import ActivationError
from cmek_component.simulator import seeds


def _create_with(config: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.delenv("COCKROACH_API_KEY", raising=False)
    provider = CmekActivationProvider()
    provider.configure(ConfigureRequest(Config(config, "cmek")))
    props = {"cluster_id": seeds.AWS_SINGLE, "region_specs": seeds.region_specs(seeds.AWS_SINGLE)}
    with pytest.raises(ActivationError) as caught:
        provider.create(props)
    return str(caught.value)


def test_no_configuration_at_all_points_at_an_old_cli(monkeypatch: pytest.MonkeyPatch) -> None:
    message = _create_with({}, monkeypatch)
    assert "no CockroachDB Cloud API key" in message
    assert f"older than v{MINIMUM_CLI_VERSION}" in message
    assert f"upgrade it to v{MINIMUM_CLI_VERSION} or later" in message


def test_configuration_without_a_key_only_says_how_to_set_one(monkeypatch: pytest.MonkeyPatch) -> None:
    message = _create_with({"cmek:clusters": "[]", "cockroach:apiUrl": "http://127.0.0.1:9"}, monkeypatch)
    assert "pulumi config set --secret cockroach:apiKey" in message
    assert "older than" not in message


def test_import_refusal_names_the_resource_and_the_way_to_adopt() -> None:
    message = import_refusal("prod-cmek", seeds.AWS_SINGLE)
    assert message.startswith(f"CmekActivation 'prod-cmek': import_='{seeds.AWS_SINGLE}' is not supported")
    assert "pulumi/pulumi#16175" in message
    assert "Remove import_ and run `pulumi up`" in message


def test_the_pickled_provider_keeps_its_name_from_before_the_folders() -> None:
    """Pulumi pickles the dynamic provider by reference into every stack's state: the name stays
    ``cmek_component.activation.CmekActivationProvider``, as the flat package wrote it, so state
    written now loads in an older version too, and it loads back to the same class."""
    import pickle

    import dill

    from cmek_component.activation.dynamic import CmekActivationProvider

    pickled = dill.dumps(CmekActivationProvider(), protocol=pickle.DEFAULT_PROTOCOL, recurse=True)
    assert b"cmek_component.activation\x94" in pickled
    assert b"cmek_component.activation.dynamic" not in pickled
    assert type(dill.loads(pickled)) is CmekActivationProvider
