"""Planning: which traits every token of a collection gets, decided once for the whole collection
from its hashes. Pure and fast; rendering a token is then a separate, independent job.

Exact rarity: each layer's traits get whole-number counts proportional to their weights
(largest remainders), so 1,000 tokens at weights 30/70 give exactly 300 and 700. The hashes decide
which token gets which: each token draws one number per layer from `Pseudorandom(hash)`, tokens are
ranked by it, and the ranked tokens take the traits in order. Uniqueness and the trait rules are then
repaired by swapping a layer's traits between two tokens, which keeps every count exact. When no
assignment can exist (too few combinations, a rule the counts cannot meet) the planner says why
instead of making fewer tokens.
"""

from __future__ import annotations

import hashlib
import math
from collections import Counter, deque
from collections.abc import Sequence
from fractions import Fraction

from pydantic import BaseModel, ConfigDict

from emprops.art.errors import ArtInputError, TraitSpaceExhausted
from emprops.art.layers.layer_set import ConfiguredLayer, LayerSet
from emprops.art.layers.trait_rules import ConfigurationRules, compile_rules, rules_within
from emprops.workflows import Pseudorandom

Dna = tuple[tuple[str, str], ...]
RESTARTS = 8


class TraitAttribute(BaseModel):
    """One entry of a token's ERC-721 `attributes`."""

    model_config = ConfigDict(frozen=True)

    trait_type: str
    value: str


class TokenPlan(BaseModel):
    """What the render step of one token needs, besides the layers config itself."""

    edition: int  # 1-based, as in the collection
    hash: str
    configuration: int
    traits: dict[str, str]  # layer name -> trait name, in layer order
    dna: str  # sha1 of the traits that count for uniqueness, as HashLips writes it
    attributes: list[TraitAttribute]


class ConfigurationCounts(BaseModel):
    tokens: int
    first_edition: int  # with shuffled configurations, the editions between are not all its own
    last_edition: int
    target: dict[str, dict[str, int]]  # what the weights ask for
    realized: dict[str, dict[str, int]]  # what the tokens got (equal to target)


class CollectionPlan(BaseModel):
    tokens: list[TokenPlan]
    configurations: list[ConfigurationCounts]
    trait_counts: dict[str, dict[str, int]]  # over the whole collection
    repair_swaps: int


def exact_counts(total: int, weights: Sequence[float]) -> list[int]:
    """Whole counts summing to `total`, proportional to `weights` (largest remainders; ties go to
    the earlier trait). Exact rational arithmetic, so every machine agrees."""
    exact = [Fraction(w) for w in weights]
    whole = sum(exact, Fraction(0))
    shares = [total * w / whole for w in exact]
    counts = [math.floor(s) for s in shares]
    order = sorted(range(len(shares)), key=lambda i: (-(shares[i] - counts[i]), i))
    for i in order[: total - sum(counts)]:
        counts[i] += 1
    return counts


def collection_seed(hashes: Sequence[str]) -> str:
    """One hash for the whole collection, for the choices no single token owns (repair swaps)."""
    return "0x" + hashlib.sha256("\n".join(hashes).encode()).hexdigest()


def dna_of(layers: Sequence[ConfiguredLayer], token: Sequence[int]) -> Dna:
    return tuple(
        (layer.name, layer.traits[t].name)
        for layer, t in zip(layers, token, strict=True)
        if layer.spec.in_dna
    )


def dna_digest(dna: Dna) -> str:
    return hashlib.sha1("-".join(f"{layer}:{trait}" for layer, trait in dna).encode()).hexdigest()


class _ConfigurationPlanner:
    """Plans one configuration's tokens; `taken` holds the DNAs earlier configurations used."""

    def __init__(
        self,
        index: int,
        layers: tuple[ConfiguredLayer, ...],
        rules: ConfigurationRules,
        hashes: Sequence[str],
        taken: set[Dna],
        rng: Pseudorandom,
        where: str,
    ) -> None:
        self.index = index
        self.layers = layers
        self.rules = rules
        self.hashes = hashes
        self.n = len(hashes)
        self.rng = rng
        self.where = where
        self.quotas = [exact_counts(self.n, layer.weights) for layer in layers]
        self.dna_positions = [i for i, layer in enumerate(layers) if layer.spec.in_dna]
        self.external = self._external_dnas(taken)
        self.swaps = 0

    # ---- feasibility -------------------------------------------------------------------------
    def _external_dnas(self, taken: set[Dna]) -> set[tuple[int, ...]]:
        """Earlier configurations' DNAs, in this configuration's trait indices where comparable."""
        names = tuple(self.layers[p].name for p in self.dna_positions)
        out = set()
        for dna in taken:
            if tuple(layer for layer, _ in dna) != names:
                continue
            indices = tuple(
                self.layers[p].trait_index(trait)
                for p, (_, trait) in zip(self.dna_positions, dna, strict=True)
            )
            if -1 not in indices:
                out.add(indices)
        return out

    def usable_traits(self, position: int) -> list[int]:
        return [t for t, q in enumerate(self.quotas[position]) if q > 0]

    def _count_combinations(self, cap: int, fixed: tuple[int, int] | None = None) -> int:
        """Distinct DNA combinations allowed by the rules among DNA layers, counted up to `cap`
        (a rule that involves a layer outside the DNA is left to the repair)."""
        positions = self.dna_positions
        choices = [
            [fixed[1]] if fixed and fixed[0] == p else self.usable_traits(p) for p in positions
        ]
        rules = rules_within(self.rules, set(positions))
        if not rules:
            return min(cap, math.prod(len(c) for c in choices))
        token = [-1] * len(self.layers)
        count = 0

        def descend(depth: int) -> None:
            nonlocal count
            if depth == len(positions):
                count += 1
                return
            position = positions[depth]
            for trait in choices[depth]:
                token[position] = trait
                if rules.allows(token, position):
                    descend(depth + 1)
                    if count >= cap:
                        break
            token[position] = -1

        descend(0)
        return count

    def check_feasible(self) -> None:
        for position, layer in enumerate(self.layers):
            for trait, quota in enumerate(self.quotas[position]):
                why = self.rules.unusable.get((position, trait))
                if quota and why:
                    raise TraitSpaceExhausted(
                        f"{self.where}: {layer.name}/{layer.traits[trait].name} should go to "
                        f"{quota} tokens by its weight, but {why}"
                    )
        for rule in self.rules.rules:
            position, trait = rule.trait
            quota = self.quotas[position][trait]
            for layer_position, allowed in rule.requires:
                room = sum(self.quotas[layer_position][t] for t in allowed)
                if quota > room:
                    raise TraitSpaceExhausted(
                        f"{self.where}: rule {rule.text} cannot hold with exact counts: "
                        f"{quota} tokens get {self.layers[position].name}/"
                        f"{self.layers[position].traits[trait].name} but only {room} get what it "
                        f"requires; change the weights"
                    )
        if not self.dna_positions:
            if self.n > 1:
                raise TraitSpaceExhausted(f"{self.where}: no layer counts for uniqueness (in_dna)")
            return
        used = len(self.external)
        available = self._count_combinations(self.n + used)
        if available - used < self.n:
            sizes = " × ".join(str(len(self.usable_traits(p))) for p in self.dna_positions)
            also = f", {used} of them used by earlier configurations" if used else ""
            rules = f" under {len(self.rules.rules)} rule(s)" if self.rules.rules else ""
            raise TraitSpaceExhausted(
                f"{self.where}: {self.n} tokens need {self.n} distinct trait combinations, but the "
                f"layers allow only {available} ({sizes}{rules}{also}); add traits or make fewer "
                f"tokens",
                details={"needed": self.n, "available": max(0, available - used)},
            )
        for position in self.dna_positions:
            layer = self.layers[position]
            for trait, quota in enumerate(self.quotas[position]):
                if quota <= 1:
                    continue
                with_trait = self._count_combinations(quota + used, fixed=(position, trait))
                if with_trait - used < quota:
                    raise TraitSpaceExhausted(
                        f"{self.where}: {layer.name}/{layer.traits[trait].name} should go to "
                        f"{quota} tokens by its weight, but only {with_trait} distinct "
                        f"combinations include it; lower its weight or add traits to other layers"
                    )

    # ---- assignment --------------------------------------------------------------------------
    def initial_assignment(self, shifts: list[float] | None = None) -> list[list[int]]:
        """Per layer, the trait index of each token: tokens ranked by their own hash's draw for
        that layer take the layer's exact counts in trait order. A restart turns each layer's
        draws by a shift (mod 1), which keeps the hashes in charge but starts elsewhere."""
        draws = []
        for token_hash in self.hashes:
            prng = Pseudorandom(token_hash)
            draws.append([prng.next() for _ in self.layers])
        shifts = shifts or [0.0] * len(self.layers)
        assign = []
        for position in range(len(self.layers)):
            shift = shifts[position]
            ranked = sorted(range(self.n), key=lambda i: ((draws[i][position] + shift) % 1, i))
            slots = [t for t, q in enumerate(self.quotas[position]) for _ in range(q)]
            column = [0] * self.n
            for rank, token in enumerate(ranked):
                column[token] = slots[rank]
            assign.append(column)
        return assign

    def assign_traits(self) -> list[list[int]]:
        """An assignment with exact counts, unique DNAs and every rule kept, or the error."""
        budget = max(50_000, 100 * self.n)
        left = 0
        for start in range(RESTARTS):
            shifts = None if start == 0 else [self.rng.next() for _ in self.layers]
            assign = self.initial_assignment(shifts)
            left = self.repair(assign, budget)
            if not left:
                return assign
        raise TraitSpaceExhausted(
            f"{self.where}: found no assignment that keeps the exact counts, the rules and "
            f"uniqueness ({RESTARTS} searches, {left} tokens still clashing at the end); the "
            f"weights and rules most likely leave too few combinations: add traits, loosen "
            f"rules or make fewer tokens",
            details={"clashing": left},
        )

    def repair(self, assign: list[list[int]], budget: int) -> int:
        """Swap traits between tokens (counts stay exact) until every token keeps the rules and
        has a DNA no other token has; returns how many tokens still clash when `budget` tries
        run out."""
        search = _SwapSearch(self, assign)
        left = search.run(budget, patience=max(5_000, 20 * self.n))
        self.swaps += search.swaps
        return left


class _SwapSearch:
    """Local search over one assignment. A swap is kept when it lowers the clashes of the two
    tokens together; when none does, a random one that helps the token at hand is taken anyway
    (a random-walk step), so the search does not stall in a corner."""

    def __init__(self, planner: _ConfigurationPlanner, assign: list[list[int]]) -> None:
        self.assign = assign
        self.rules = planner.rules
        self.rng = planner.rng
        self.n = planner.n
        self.positions = range(len(planner.layers))
        self.dna_positions = planner.dna_positions
        self.swappable = [p for p in planner.dna_positions if len(planner.usable_traits(p)) > 1]
        self.external = planner.external
        self.counts: Counter[tuple[int, ...]] = Counter(self.dna(i) for i in range(self.n))
        for outside in planner.external:
            self.counts[outside] += 1
        self.swaps = 0

    def token(self, i: int) -> list[int]:
        return [self.assign[p][i] for p in self.positions]

    def dna(self, i: int) -> tuple[int, ...]:
        return tuple(self.assign[p][i] for p in self.dna_positions)

    def clashes(self, i: int) -> int:
        duplicate = 1 if self.counts[self.dna(i)] > 1 else 0
        return duplicate + (self.rules.broken_count(self.token(i)) if self.rules else 0)

    def swap(self, position: int, i: int, j: int) -> None:
        self.counts[self.dna(i)] -= 1
        self.counts[self.dna(j)] -= 1
        column = self.assign[position]
        column[i], column[j] = column[j], column[i]
        self.counts[self.dna(i)] += 1
        self.counts[self.dna(j)] += 1

    def candidate_layers(self, i: int) -> list[int]:
        """The layers of the first rule i breaks, else every layer that can change its DNA."""
        broken = self.rules.broken_rule(self.token(i)) if self.rules else None
        if broken is None:
            return self.swappable
        return sorted(
            {broken.trait[0]} | {p for p, _ in broken.excludes} | {p for p, _ in broken.requires}
        )

    def improve(self, i: int, candidates: list[int], budget: int) -> tuple[int | None, int, bool]:
        """Try swaps for i: the partner of a kept swap (or None), the tries used, and whether
        the swap lowered the clashes (False for a random-walk step)."""
        tries = 0
        helpful = 0
        fallback: tuple[int, int] | None = None

        def attempt(position: int, j: int) -> bool:
            nonlocal helpful, fallback
            before_i, before_j = self.clashes(i), self.clashes(j)
            self.swap(position, i, j)
            after_i, after_j = self.clashes(i), self.clashes(j)
            if after_i + after_j < before_i + before_j:
                return True
            if after_i < before_i:
                helpful += 1  # keep one of the swaps that help i, uniformly at random
                if self.rng.integer(1, helpful) == 1:
                    fallback = (position, j)
            self.swap(position, i, j)
            return False

        column_of = self.assign
        for _ in range(48):
            tries += 1
            position = self.rng.pick(candidates)
            j = self.rng.integer(0, self.n - 1)
            if column_of[position][j] != column_of[position][i] and attempt(position, j):
                return j, tries, True
        # Random tries missed: look at every partner once, from a random start.
        start = self.rng.integer(0, self.n - 1)
        for offset in range(self.n):
            j = (start + offset) % self.n
            for position in candidates:
                if column_of[position][j] != column_of[position][i]:
                    tries += 1
                    if attempt(position, j):
                        return j, tries, True
            if tries > budget:
                break
        if fallback is None:
            return None, tries, False
        self.swap(fallback[0], i, fallback[1])
        return fallback[1], tries, False

    def run(self, budget: int, patience: int) -> int:
        """Search until no token clashes, `budget` tries are spent, or `patience` tries pass
        without a swap that lowers the clashes (a dead end: better to restart elsewhere)."""
        queue: deque[int] = deque()
        seen: set[tuple[int, ...]] = set()
        for i in range(self.n):
            key = self.dna(i)
            broken = bool(self.rules) and self.rules.broken_rule(self.token(i)) is not None
            if broken or key in seen or key in self.external:
                queue.append(i)  # the first token of a duplicate group stays
            seen.add(key)
        tries = last_progress = 0
        while queue and tries <= budget and tries - last_progress <= patience:
            i = queue.popleft()
            if not self.clashes(i):
                continue
            candidates = self.candidate_layers(i)
            if not candidates:
                break
            partner, used, lowered = self.improve(i, candidates, budget - tries)
            tries += used
            if lowered:
                last_progress = tries
            if partner is not None:
                self.swaps += 1
                if self.clashes(partner):
                    queue.append(partner)
            if self.clashes(i):
                queue.append(i)
        return sum(1 for k in range(self.n) if self.clashes(k))


def _configuration_of_each_token(layer_set: LayerSet, rng: Pseudorandom) -> list[int]:
    order = [k for k, r in enumerate(layer_set.config.edition_ranges()) for _ in r]
    if layer_set.config.shuffle_configurations:
        for i in range(len(order) - 1, 0, -1):
            j = rng.integer(0, i)
            order[i], order[j] = order[j], order[i]
    return order


def _describe(index: int, members: list[int], shuffled: bool) -> str:
    if shuffled:
        return f"configuration {index} ({len(members)} editions, shuffled)"
    return f"configuration {index} (editions {members[0] + 1}–{members[-1] + 1})"


def _names(layers: Sequence[ConfiguredLayer], table: list[list[int]]) -> dict[str, dict[str, int]]:
    return {
        layer.name: {trait.name: count for trait, count in zip(layer.traits, row, strict=True)}
        for layer, row in zip(layers, table, strict=True)
    }


def plan_collection(layer_set: LayerSet, hashes: Sequence[str]) -> CollectionPlan:
    """Traits for every token: one hash per edition, in edition order."""
    total = layer_set.config.edition_count
    if len(hashes) != total:
        raise ArtInputError(
            f"the layers config makes {total} tokens (the last grow_edition_size_to) but "
            f"{len(hashes)} hashes were given"
        )
    duplicates = [h for h, c in Counter(hashes).items() if c > 1]
    if duplicates:
        raise ArtInputError(f"hash {duplicates[0]} is given to more than one token")
    rng = Pseudorandom(collection_seed(hashes))
    owner = _configuration_of_each_token(layer_set, rng)
    tokens: list[TokenPlan | None] = [None] * total
    summaries = []
    overall: dict[str, Counter[str]] = {}
    taken: set[Dna] = set()
    swaps = 0
    for index, layers in enumerate(layer_set.configurations):
        members = [e for e in range(total) if owner[e] == index]
        planner = _ConfigurationPlanner(
            index,
            layers,
            compile_rules(layer_set.config.rules, layers),
            [hashes[e] for e in members],
            taken,
            rng,
            where=_describe(index, members, layer_set.config.shuffle_configurations),
        )
        planner.check_feasible()
        assign = planner.assign_traits()
        swaps += planner.swaps
        realized = [[0] * len(layer.traits) for layer in layers]
        for k, edition in enumerate(members):
            chosen = [assign[p][k] for p in range(len(layers))]
            for p, t in enumerate(chosen):
                realized[p][t] += 1
            dna = dna_of(layers, chosen)
            taken.add(dna)
            tokens[edition] = TokenPlan(
                edition=edition + 1,
                hash=hashes[edition],
                configuration=index,
                traits={
                    layer.name: layer.traits[t].name
                    for layer, t in zip(layers, chosen, strict=True)
                },
                dna=dna_digest(dna),
                attributes=[
                    TraitAttribute(trait_type=layer.spec.label, value=layer.traits[t].name)
                    for layer, t in zip(layers, chosen, strict=True)
                ],
            )
        for layer, row in zip(layers, realized, strict=True):
            bucket = overall.setdefault(layer.name, Counter())
            for trait, count in zip(layer.traits, row, strict=True):
                bucket[trait.name] += count
        summaries.append(
            ConfigurationCounts(
                tokens=len(members),
                first_edition=members[0] + 1,
                last_edition=members[-1] + 1,
                target=_names(layers, planner.quotas),
                realized=_names(layers, realized),
            )
        )
    return CollectionPlan(
        tokens=[t for t in tokens if t is not None],
        configurations=summaries,
        trait_counts={layer: dict(counter) for layer, counter in overall.items()},
        repair_swaps=swaps,
    )


def pick_traits(layer_set: LayerSet, configuration: int, token_hash: str) -> dict[str, str]:
    """Traits for one token on its own (no plan): a weighted pick per layer from
    `Pseudorandom(token_hash)`, keeping the rules. Rarity holds only on average and two tokens
    may match: use `plan_collection` for exact counts and uniqueness."""
    layers = layer_set.configuration(configuration)
    rules = compile_rules(layer_set.config.rules, layers)
    prng = Pseudorandom(token_hash)
    token = [-1] * len(layers)
    for position, layer in enumerate(layers):
        allowed = []
        for trait, weight in enumerate(layer.weights):
            token[position] = trait
            if weight > 0 and rules.allows(token, position):
                allowed.append(trait)
        if not allowed:
            raise TraitSpaceExhausted(
                f"configuration {configuration}: no trait of layer {layer.name!r} keeps the rules "
                f"with the traits picked before it"
            )
        token[position] = prng.weighted_pick(allowed, [layer.weights[t] for t in allowed])
    return {layer.name: layer.traits[t].name for layer, t in zip(layers, token, strict=True)}
