"""Trait rules of one configuration turned into trait indices, so the planner can check a token in a
few dictionary look-ups. A token is a tuple: the trait index chosen in each layer, in layer order."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from emprops.art.layers.config import TraitRule
from emprops.art.layers.layer_set import ConfiguredLayer

TraitKey = tuple[int, int]  # (layer position, trait index)


@dataclass(frozen=True)
class CompiledRule:
    text: str
    trait: TraitKey
    excludes: tuple[TraitKey, ...]
    # For each required layer, the trait indices allowed there.
    requires: tuple[tuple[int, frozenset[int]], ...]


@dataclass
class ConfigurationRules:
    rules: list[CompiledRule] = field(default_factory=list)
    # Traits no token can have here (a rule requires a layer this configuration lacks), with why.
    unusable: dict[TraitKey, str] = field(default_factory=dict)
    by_trait: dict[TraitKey, list[CompiledRule]] = field(default_factory=dict)
    # Rules whose requirement or exclusion lands on a trait: checked from that side too.
    by_target: dict[int, list[CompiledRule]] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.rules or self.unusable)

    def broken_rule(self, token: Sequence[int]) -> CompiledRule | None:
        """The first rule the token breaks, or None."""
        for position, trait in enumerate(token):
            for rule in self.by_trait.get((position, trait), ()):
                if _breaks(rule, token):
                    return rule
        return None

    def broken_count(self, token: Sequence[int]) -> int:
        return sum(
            1
            for position, trait in enumerate(token)
            for rule in self.by_trait.get((position, trait), ())
            if _breaks(rule, token)
        )

    def allows(self, token: Sequence[int], position: int) -> bool:
        """Whether the trait at `position` keeps every rule among positions 0..position."""
        trait = token[position]
        if (position, trait) in self.unusable:
            return False
        for rule in self.by_trait.get((position, trait), ()):
            if _breaks(rule, token, upto=position):
                return False
        for rule in self.by_target.get(position, ()):
            owner, wanted = rule.trait
            if owner < position and token[owner] == wanted and _breaks(rule, token, upto=position):
                return False
        return True


def _breaks(rule: CompiledRule, token: Sequence[int], upto: int | None = None) -> bool:
    for layer, trait in rule.excludes:
        if (upto is None or layer <= upto) and token[layer] == trait:
            return True
    for layer, allowed in rule.requires:
        if (upto is None or layer <= upto) and token[layer] not in allowed:
            return True
    return False


def compile_rules(
    rules: Sequence[TraitRule], layers: Sequence[ConfiguredLayer]
) -> ConfigurationRules:
    positions = {layer.name: index for index, layer in enumerate(layers)}

    def key(ref: str) -> TraitKey | None:
        layer, _, trait = ref.partition("/")
        if layer not in positions:
            return None
        return positions[layer], layers[positions[layer]].trait_index(trait)

    compiled = ConfigurationRules()
    for rule in rules:
        own = key(rule.trait)
        if own is None:
            continue
        excludes = tuple(k for k in (key(ref) for ref in rule.excludes) if k is not None)
        required: dict[int, set[int]] = {}
        missing = []
        for ref in rule.requires:
            target = key(ref)
            if target is None:
                missing.append(ref.partition("/")[0])
            else:
                required.setdefault(target[0], set()).add(target[1])
        if missing:
            compiled.unusable[own] = f"rule {rule} needs layer {missing[0]!r}, absent here"
            continue
        entry = CompiledRule(
            text=str(rule),
            trait=own,
            excludes=excludes,
            requires=tuple((layer, frozenset(ts)) for layer, ts in sorted(required.items())),
        )
        compiled.rules.append(entry)
        compiled.by_trait.setdefault(own, []).append(entry)
        for target_layer in {k[0] for k in excludes} | set(required):
            compiled.by_target.setdefault(target_layer, []).append(entry)
    return compiled


def rules_within(rules: ConfigurationRules, positions: set[int]) -> ConfigurationRules:
    """Only the rules whose every layer is in `positions` (to count combinations of those)."""
    kept = ConfigurationRules(
        unusable={k: why for k, why in rules.unusable.items() if k[0] in positions}
    )
    for rule in rules.rules:
        involved = {rule.trait[0], *(k[0] for k in rule.excludes), *(p for p, _ in rule.requires)}
        if involved <= positions:
            kept.rules.append(rule)
            kept.by_trait.setdefault(rule.trait, []).append(rule)
            for target in involved - {rule.trait[0]}:
                kept.by_target.setdefault(target, []).append(rule)
    return kept
