"""A run's tokens as the gallery shows them: image, traits with how common each is, and a rarity
rank. Traits come from where packaging takes them (the renderer's picks in its step output, then
the run's resolved variables), so the gallery shows what the metadata will say."""

from __future__ import annotations

from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from emprops.db.models import JobRecord
from emprops.generations.repository import RunRepository
from emprops.generations.run_spec import RunSpec
from emprops.metadata import (
    Attribute,
    TraitRarity,
    attributes_from_output,
    attributes_from_variables,
    merge_attributes,
    trait_rarity,
)
from emprops.workflows import resolve_variables

MEDIA_PREFIXES = ("image/", "video/")


class TraitChip(BaseModel):
    trait_type: str
    value: str
    percent: float | None = None  # of the run's finished tokens


class GalleryToken(BaseModel):
    number: int  # the token id it becomes when packaged (generation order, from 0)
    generation: int
    hash: str
    status: str  # completed | failed | cancelled | pending
    media_path: str | None = None  # blob path of its image or clip
    mime_type: str | None = None
    traits: list[TraitChip] = []
    rarity_score: float = 0.0  # sum of 100/percent over its traits: higher is rarer
    rank: int | None = None
    error: str | None = None

    @property
    def is_video(self) -> bool:
        return bool(self.mime_type and self.mime_type.startswith("video/"))


class Gallery(BaseModel):
    run_id: str
    run_status: str
    tokens: list[GalleryToken]
    rarity: dict[str, dict[str, TraitRarity]]

    @property
    def completed(self) -> int:
        return sum(1 for t in self.tokens if t.status == "completed")


def _media(outputs: list[dict[str, object]]) -> tuple[str | None, str | None]:
    """The last stored image or clip among a token's step outputs."""
    for output in reversed(outputs):
        path, mime = output.get("path"), output.get("mimeType")
        if isinstance(path, str) and isinstance(mime, str) and mime.startswith(MEDIA_PREFIXES):
            return path, mime
    return None, None


async def build_gallery(session: AsyncSession, run: JobRecord) -> Gallery:
    repo = RunRepository(session)
    spec = RunSpec.of(run.data)
    generation_input = spec.parsed_input()
    step_order = [s.id for s in generation_input.steps]
    declared = {v.name: i for i, v in enumerate(generation_input.variables)}
    outputs: dict[int, dict[int, dict[str, object]]] = {}
    errors: dict[int, str] = {}
    for row in await repo.step_results(run.id):
        if row.output is not None:
            outputs.setdefault(row.generation, {})[row.step_id] = row.output
        elif row.error:
            errors.setdefault(row.generation, row.error)
    outcomes = await repo.outcomes(run.id)

    tokens: list[GalleryToken] = []
    attributes: dict[int, list[Attribute]] = {}
    for generation, hash_ in enumerate(spec.hashes):
        by_step = outputs.get(generation, {})
        ordered = [by_step[s] for s in step_order if s in by_step]
        picked: list[Attribute] = []
        for step_id in step_order:
            if step_id in by_step:
                found, _ = attributes_from_output(by_step[step_id], generation, f"steps.{step_id}")
                picked = merge_attributes(picked, found)
        values = resolve_variables(generation_input.variables, hash_)
        merged = merge_attributes(
            picked, attributes_from_variables(values, generation_input.variables)
        )
        # a renderer's traits come back sorted by name: show them in the variables' order
        merged.sort(key=lambda a: declared.get(a.trait_type, len(declared)))
        outcome = outcomes.get(generation)
        status = outcome.status if outcome is not None else "pending"
        media_path, mime = _media(ordered)
        tokens.append(
            GalleryToken(
                number=generation, generation=generation, hash=hash_, status=status,
                media_path=media_path, mime_type=mime,
                error=(outcome.error if outcome is not None else None) or errors.get(generation),
            )
        )  # fmt: skip
        if status == "completed":
            attributes[generation] = merged

    rarity = trait_rarity(list(attributes.values()))
    for token in tokens:
        for attribute in attributes.get(token.generation, []):
            share = rarity[attribute.trait_type][str(attribute.value)]
            token.traits.append(
                TraitChip(
                    trait_type=attribute.trait_type,
                    value=str(attribute.value),
                    percent=share.percent,
                )
            )
            token.rarity_score += 100 / share.percent if share.percent else 0
        token.rarity_score = round(token.rarity_score, 2)
    ranked = sorted(
        (t for t in tokens if t.generation in attributes), key=lambda t: -t.rarity_score
    )
    for rank, token in enumerate(ranked, start=1):
        token.rank = rank
    return Gallery(run_id=str(run.id), run_status=run.status, tokens=tokens, rarity=rarity)
