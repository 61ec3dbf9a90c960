"""Planning a collection: exact counts from the weights, unique trait combinations, rules kept,
and a clear error (never a short collection) when that cannot be done."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from emprops.art import ArtInputError, TraitSpaceExhausted
from emprops.art.layers import (
    CollectionPlan,
    LayerSet,
    TokenPlan,
    exact_counts,
    open_layer_set,
    pick_traits,
    plan_collection,
)
from tests.art.conftest import token_hashes

GridLayers = Callable[[list[int], "dict[str, Any] | None"], Path]


@given(
    total=st.integers(0, 5000),
    weights=st.lists(st.integers(0, 1000), min_size=1, max_size=12).filter(lambda w: sum(w) > 0),
)
def test_exact_counts_are_whole_proportional_and_sum_to_the_total(
    total: int, weights: list[int]
) -> None:
    counts = exact_counts(total, weights)
    assert sum(counts) == total
    for count, weight in zip(counts, weights, strict=True):
        share = Fraction(total * weight, sum(weights))
        assert abs(count - share) < 1
        if weight == 0:
            assert count == 0


def _dna(layer_set: LayerSet, token: TokenPlan) -> tuple[tuple[str, str], ...]:
    layers = layer_set.configurations[token.configuration]
    return tuple((x.name, token.traits[x.name]) for x in layers if x.spec.in_dna)


def _assert_rules_kept(layer_set: LayerSet, plan: CollectionPlan) -> None:
    for token in plan.tokens:
        has = {f"{layer}/{trait}" for layer, trait in token.traits.items()}
        for rule in layer_set.config.rules:
            if rule.trait not in has:
                continue
            assert not has & set(rule.excludes), (token.edition, str(rule))
            for layer in {ref.split("/")[0] for ref in rule.requires}:
                allowed = {ref for ref in rule.requires if ref.startswith(layer + "/")}
                assert has & allowed, (token.edition, str(rule))


def _weights(layer_set: LayerSet, configuration: int) -> dict[str, list[float]]:
    return {x.name: list(x.weights) for x in layer_set.configurations[configuration]}


def test_the_example_collection_plans_with_exact_counts_unique_tokens_and_rules(
    example_layers: Path,
) -> None:
    layer_set = open_layer_set(example_layers)
    plan = plan_collection(layer_set, token_hashes(60))
    assert [t.edition for t in plan.tokens] == list(range(1, 61))
    assert [t.configuration for t in plan.tokens] == [0] * 12 + [1] * 48
    for index, summary in enumerate(plan.configurations):
        size = summary.last_edition - summary.first_edition + 1
        for layer, weights in _weights(layer_set, index).items():
            expected = exact_counts(size, weights)
            assert list(summary.target[layer].values()) == expected
            tokens = plan.tokens[summary.first_edition - 1 : summary.last_edition]
            realized = Counter(t.traits[layer] for t in tokens)
            assert [realized[name] for name in summary.target[layer]] == expected
            assert summary.realized[layer] == summary.target[layer]
    # The config sets Headwear/None to weight 0 in the first configuration.
    assert all(t.traits["Headwear"] != "None" for t in plan.tokens[:12])
    dnas = [_dna(layer_set, t) for t in plan.tokens]
    assert len(set(dnas)) == len(dnas)
    assert len({t.dna for t in plan.tokens}) == 60
    _assert_rules_kept(layer_set, plan)
    first = plan.tokens[0]
    assert [a.trait_type for a in first.attributes][-1] == "Border"  # display_name
    assert json.loads(plan.model_dump_json())["tokens"][0]["hash"] == first.hash


def test_a_thousand_tokens_get_the_weights_exactly(example_layers: Path, tmp_path: Path) -> None:
    config = json.loads(example_layers.read_text())
    config["layers_dir"] = str(example_layers.parent / "layers")
    config["configurations"] = [dict(config["configurations"][1], grow_edition_size_to=1000)]
    path = tmp_path / "big.json"
    path.write_text(json.dumps(config))
    layer_set = open_layer_set(path)
    plan = plan_collection(layer_set, token_hashes(1000, "big"))
    # Background weights in the file names: Aurora 9, Grid 12, Mint 15, Night 12, Ocean 18,
    # Polka 14, Sunset 20 (sum 100): exactly ten times each.
    assert plan.trait_counts["Background"] == {
        "Aurora": 90, "Grid Paper": 120, "Mint Stripes": 150, "Night Sky": 120,
        "Ocean": 180, "Polka": 140, "Sunset": 200,
    }  # fmt: skip
    for layer, weights in _weights(layer_set, 0).items():
        assert list(plan.trait_counts[layer].values()) == exact_counts(1000, weights)
    assert len({_dna(layer_set, t) for t in plan.tokens}) == 1000
    _assert_rules_kept(layer_set, plan)


def test_the_same_hashes_give_the_same_plan_and_other_hashes_another(
    example_layers: Path,
) -> None:
    layer_set = open_layer_set(example_layers)
    hashes = token_hashes(60)
    plan = plan_collection(layer_set, hashes)
    assert plan_collection(open_layer_set(example_layers), hashes) == plan
    other = plan_collection(layer_set, token_hashes(60, "other"))
    assert [t.traits for t in other.tokens] != [t.traits for t in plan.tokens]
    assert other.trait_counts == plan.trait_counts  # counts come from the weights alone


def test_all_combinations_are_used_when_exactly_enough(grid_layers: GridLayers) -> None:
    config = grid_layers([2, 3], None)
    document = json.loads(config.read_text())
    document["configurations"][0]["grow_edition_size_to"] = 6
    config.write_text(json.dumps(document))
    plan = plan_collection(open_layer_set(config), token_hashes(6))
    assert {(t.traits["L0"], t.traits["L1"]) for t in plan.tokens} == {
        (f"T{a}", f"T{b}") for a in range(2) for b in range(3)
    }


def _with_tokens(config: Path, count: int, **changes: Any) -> Path:
    document = json.loads(config.read_text())
    document["configurations"][0]["grow_edition_size_to"] = count
    document.update(changes)
    config.write_text(json.dumps(document))
    return config


def test_too_few_combinations_is_an_error_not_a_short_collection(grid_layers: GridLayers) -> None:
    config = _with_tokens(grid_layers([2, 3], None), 7)
    with pytest.raises(TraitSpaceExhausted) as caught:
        plan_collection(open_layer_set(config), token_hashes(7))
    assert "7 tokens need 7 distinct trait combinations, but the layers allow only 6 (2 × 3)" in (
        caught.value.message
    )
    assert caught.value.details == {"needed": 7, "available": 6}


def test_a_trait_whose_weight_outgrows_its_combinations_is_named(grid_layers: GridLayers) -> None:
    config = grid_layers([2, 3], None)
    document = json.loads(config.read_text())
    document["configurations"][0]["layers"][0]["weights"] = {"T0": 2, "T1": 1}
    document["configurations"][0]["grow_edition_size_to"] = 6
    config.write_text(json.dumps(document))
    with pytest.raises(TraitSpaceExhausted, match=r"L0/T0 should go to 4 tokens .* only 3"):
        plan_collection(open_layer_set(config), token_hashes(6))


def test_exclusions_shrink_the_space_and_are_kept(grid_layers: GridLayers) -> None:
    rules = [{"trait": "L0/T0", "excludes": ["L1/T0"]}]
    config = _with_tokens(grid_layers([2, 2], None), 4, rules=rules)
    with pytest.raises(TraitSpaceExhausted, match=r"allow only 3 \(2 × 2 under 1 rule"):
        plan_collection(open_layer_set(config), token_hashes(4))
    config = _with_tokens(grid_layers([3, 5, 3], None), 30, rules=rules)
    layer_set = open_layer_set(config)
    plan = plan_collection(layer_set, token_hashes(30))
    _assert_rules_kept(layer_set, plan)
    assert not any(t.traits["L0"] == "T0" and t.traits["L1"] == "T0" for t in plan.tokens)


def test_dependencies_are_kept(grid_layers: GridLayers) -> None:
    rules = [
        {"trait": "L2/T1", "requires": ["L0/T0", "L0/T2"]},
        {"trait": "L0/T1", "requires": ["L2/T0"], "excludes": ["L1/T3"]},
    ]
    # L0/T1 gets 4 tokens and has exactly 4 combinations left (L1 ≠ T3, L2 = T0): tight.
    config = _with_tokens(grid_layers([3, 5, 3], None), 12, rules=rules)
    layer_set = open_layer_set(config)
    plan = plan_collection(layer_set, token_hashes(12))
    _assert_rules_kept(layer_set, plan)
    for layer, weights in _weights(layer_set, 0).items():
        assert list(plan.trait_counts[layer].values()) == exact_counts(12, weights)


def test_a_dependency_the_counts_cannot_meet_is_explained(grid_layers: GridLayers) -> None:
    config = grid_layers([2, 3], None)
    document = json.loads(config.read_text())
    document["configurations"][0]["layers"][1]["weights"] = {"T0": 1, "T1": 4, "T2": 5}
    document["configurations"][0]["grow_edition_size_to"] = 6
    document["rules"] = [{"trait": "L0/T0", "requires": ["L1/T0"]}]
    config.write_text(json.dumps(document))
    with pytest.raises(TraitSpaceExhausted, match="cannot hold with exact counts: 3 tokens get"):
        plan_collection(open_layer_set(config), token_hashes(6))


def test_edition_ranges_and_shuffled_configurations(grid_layers: GridLayers) -> None:
    config = grid_layers([4, 4], None)
    document = json.loads(config.read_text())
    first = document["configurations"][0]
    document["configurations"] = [
        dict(first, grow_edition_size_to=5),
        dict(first, grow_edition_size_to=12, layers=[{"name": "L1"}, {"name": "L0"}]),
    ]
    config.write_text(json.dumps(document))
    plan = plan_collection(open_layer_set(config), token_hashes(12))
    assert [t.configuration for t in plan.tokens] == [0] * 5 + [1] * 7
    assert list(plan.tokens[6].traits) == ["L1", "L0"]
    document["shuffle_configurations"] = True
    config.write_text(json.dumps(document))
    shuffled = plan_collection(open_layer_set(config), token_hashes(12))
    owners = [t.configuration for t in shuffled.tokens]
    assert Counter(owners) == {0: 5, 1: 7} and owners != [0] * 5 + [1] * 7
    assert plan_collection(open_layer_set(config), token_hashes(12)) == shuffled


def test_hash_count_must_match_the_editions(grid_layers: GridLayers) -> None:
    layer_set = open_layer_set(_with_tokens(grid_layers([3], None), 3))
    with pytest.raises(ArtInputError, match=r"makes 3 tokens .* but 2 hashes were given"):
        plan_collection(layer_set, token_hashes(2))
    with pytest.raises(ArtInputError, match="given to more than one token"):
        plan_collection(layer_set, ["0xab", "0xcd", "0xab"])


def test_a_lone_pick_from_a_hash_keeps_the_rules(example_layers: Path) -> None:
    layer_set = open_layer_set(example_layers)
    picks = [pick_traits(layer_set, 0, h) for h in token_hashes(150, "solo")]
    assert picks == [pick_traits(layer_set, 0, h) for h in token_hashes(150, "solo")]
    plan = CollectionPlan(
        tokens=[
            TokenPlan(edition=i + 1, hash="", configuration=0, traits=p, dna="", attributes=[])
            for i, p in enumerate(picks)
        ],
        configurations=[],
        trait_counts={},
        repair_swaps=0,
    )
    _assert_rules_kept(layer_set, plan)
    assert all(p["Headwear"] != "None" for p in picks)  # weight 0 there


def _memory_layer_set(sizes: list[int], weights: list[list[int]], rules: list[Any], n: int):
    """A layer set without files: planning never opens an image."""
    from emprops.art.layers import LayersConfig
    from emprops.art.layers.layer_set import ConfiguredLayer
    from emprops.art.layers.trait_catalog import LayerFolder, Trait

    config = LayersConfig.model_validate(
        {
            "configurations": [
                {
                    "grow_edition_size_to": n,
                    "layers": [{"name": f"L{i}"} for i in range(len(sizes))],
                }
            ],
            "rules": rules,
        }
    )
    configured = []
    for index, (size, spec) in enumerate(zip(sizes, config.configurations[0].layers, strict=True)):
        traits = tuple(
            Trait(layer=f"L{index}", name=f"T{t}", file_weight=1.0, frames=(Path("none"),))
            for t in range(size)
        )
        folder = LayerFolder(name=f"L{index}", path=Path("none"), traits=traits)
        configured.append(ConfiguredLayer(spec, folder, tuple(float(w) for w in weights[index])))
    return LayerSet(config=config, root=Path("."), size=(1, 1), configurations=(tuple(configured),))


@st.composite
def _spaces(draw: st.DrawFn) -> tuple[list[int], list[list[int]], list[Any], int]:
    sizes = draw(st.lists(st.integers(1, 5), min_size=1, max_size=4))
    weights = [draw(st.lists(st.integers(1, 9), min_size=s, max_size=s)) for s in sizes]
    refs = [f"L{layer}/T{t}" for layer, size in enumerate(sizes) for t in range(size)]
    rules = []
    if len(sizes) > 1:
        for _ in range(draw(st.integers(0, 3))):
            trait = draw(st.sampled_from(refs))
            others = [r for r in refs if not r.startswith(trait.split("/")[0] + "/")]
            kind = draw(st.sampled_from(["excludes", "requires"]))
            rules.append(
                {
                    "trait": trait,
                    kind: draw(st.lists(st.sampled_from(others), min_size=1, max_size=2)),
                }
            )
    n = draw(st.integers(1, 40))
    return sizes, weights, rules, n


@settings(max_examples=30, deadline=None)
@given(_spaces())
def test_any_space_plans_correctly_or_says_why(
    space: tuple[list[int], list[list[int]], list[Any], int],
) -> None:
    sizes, weights, rules, n = space
    layer_set = _memory_layer_set(sizes, weights, rules, n)
    try:
        plan = plan_collection(layer_set, token_hashes(n, "prop"))
    except TraitSpaceExhausted as exc:
        assert "configuration 0 (editions 1–" in exc.message
        return
    assert len(plan.tokens) == n
    assert len({tuple(t.traits.items()) for t in plan.tokens}) == n
    for layer_index, layer_weights in enumerate(weights):
        realized = Counter(t.traits[f"L{layer_index}"] for t in plan.tokens)
        expected = exact_counts(n, layer_weights)
        assert [realized[f"T{t}"] for t in range(sizes[layer_index])] == expected
    _assert_rules_kept(layer_set, plan)
