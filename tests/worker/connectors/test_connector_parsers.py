"""The pure parts of the connectors: the ComfyUI message tracker fed the recordings directly,
and property checks for the frame, header, template and path parsers."""

from __future__ import annotations

import string
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from emprops.worker.connector import PermanentJobError
from emprops.worker.connectors.comfyui_protocol import (
    ComfyProtocolError,
    ExecutionError,
    Outcome,
    PromptTracker,
    WsMessage,
    parse_binary_frame,
    parse_text_frame,
)
from emprops.worker.connectors.http_failures import retry_after_s
from emprops.worker.connectors.job_outputs import OutputTarget
from emprops.worker.connectors.jq_sandbox import JqExpressionError, check_expression
from emprops.worker.connectors.jq_template import find_expressions, render
from emprops.worker.connectors.token_progress import TokenProgress
from tests.protocol_servers.comfyui_replay import (
    _expand_compact,
    basic_graph,
    preview_frame,
    recordings,
    sampler_graph,
)
from tests.worker.connectors.conftest import ProgressLog, make_job

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)


def _feed(tracker: PromptTracker, messages: list[dict[str, Any]]) -> list[float]:
    seen = []
    for raw in messages:
        tracker.feed(WsMessage.model_validate(raw))
        seen.append(tracker.percent)
    return seen


def test_tracker_follows_the_recorded_prompt_to_success() -> None:
    run = recordings()[0]["prompt1"]
    tracker = PromptTracker.for_graph(run["prompt_id"], basic_graph())
    percents = _feed(tracker, [entry["ws"] for entry in run["log"][1:]])
    assert tracker.outcome is Outcome.SUCCESS
    assert tracker.outputs["6"]["images"][0]["filename"] == "nft_probe_00002_.png"
    assert percents == sorted(percents) and max(percents) < 100


def test_tracker_ignores_other_prompts_messages() -> None:
    run = recordings()[0]["prompt1"]
    tracker = PromptTracker.for_graph("someone-elses-prompt", basic_graph())
    _feed(tracker, [entry["ws"] for entry in run["log"][1:]])
    assert tracker.outcome is None and tracker.percent == 0


@pytest.mark.parametrize(
    ("scenario", "outcome"),
    [
        ("progress_with_preview", Outcome.SUCCESS),
        ("error_at_step_1", Outcome.ERROR),
        ("interrupted", Outcome.INTERRUPTED),
    ],
)
def test_tracker_on_the_second_recording(scenario: str, outcome: Outcome) -> None:
    recording = recordings()[1][scenario]
    tracker = PromptTracker.for_graph("p-1", sampler_graph())
    for entry in recording["seq"]:
        if "binary" in entry:
            meta = entry["binary"]
            tracker.on_preview(
                parse_binary_frame(preview_frame(meta["len"], meta["event"], meta["image_format"]))
            )
        else:
            tracker.feed(WsMessage.model_validate(_expand_compact(entry, "p-1")))
        if tracker.outcome in (Outcome.ERROR, Outcome.INTERRUPTED):
            break
    assert tracker.outcome is outcome
    if outcome is Outcome.ERROR:
        assert tracker.error is not None and tracker.error.node_id == "2"
        assert not tracker.error.retryable
    if scenario == "progress_with_preview":
        assert tracker.previews == 3


@pytest.mark.parametrize(
    ("exception_type", "message", "retryable"),
    [
        ("RuntimeError", "FakeSampler failed at step 1\n", False),
        ("torch.OutOfMemoryError", "CUDA out of memory. Tried to allocate 2.00 GiB", True),
        ("RuntimeError", "CUDA error: out of memory", True),
    ],
)
def test_out_of_memory_is_worth_another_worker(
    exception_type: str, message: str, retryable: bool
) -> None:
    """The recorded execution_error, with its exception as another machine would report it."""
    (recorded,) = [
        e for e in recordings()[1]["error_at_step_1"]["seq"] if e.get("type") == "execution_error"
    ]
    data = {**recorded["data"], "exception_type": exception_type, "exception_message": message}
    error = ExecutionError.model_validate(data)
    assert error.retryable is retryable
    assert error.details()["node_type"] == "FakeSampler"


def test_recorded_preview_frame_parses_as_jpeg() -> None:
    frame = parse_binary_frame(preview_frame(699, 1, 1))
    assert frame.mime == "image/jpeg" and frame.image[:2] == b"\xff\xd8"
    assert len(frame.image) == 699 - 8


@given(st.binary(max_size=64))
def test_binary_frames_parse_or_fail_cleanly(data: bytes) -> None:
    try:
        frame = parse_binary_frame(data)
    except ComfyProtocolError:
        assert len(data) < 8
    else:
        assert frame.event >= 0


@given(st.text(max_size=60) | json_values.map(str))
def test_text_frames_parse_or_fail_cleanly(text: str) -> None:
    try:
        message = parse_text_frame(text)
    except ComfyProtocolError:
        return
    assert isinstance(message.type, str)


@given(st.integers(min_value=0, max_value=10**6))
def test_retry_after_seconds(seconds: int) -> None:
    assert retry_after_s(httpx.Headers({"retry-after": str(seconds)})) == seconds


@given(st.integers(min_value=1, max_value=10**6))
def test_retry_after_milliseconds_wins(ms: int) -> None:
    headers = httpx.Headers({"retry-after-ms": str(ms), "retry-after": "999999"})
    assert retry_after_s(headers) == pytest.approx(ms / 1000)


@given(st.integers(min_value=0, max_value=86_400))
def test_retry_after_http_date(seconds: int) -> None:
    now = datetime(2025, 6, 1, tzinfo=UTC)
    header = format_datetime(now + timedelta(seconds=seconds), usegmt=True)
    assert retry_after_s(httpx.Headers({"retry-after": header}), now=now) == seconds


@given(st.text(alphabet=string.ascii_letters + " ,:", max_size=30))
def test_retry_after_garbage_is_ignored(text: str) -> None:
    value = retry_after_s(httpx.Headers({"retry-after": text}))
    assert value is None or value >= 0


@given(json_values)
def test_templates_without_placeholders_render_unchanged(value: Any) -> None:
    if "{{" in str(value):
        return
    assert find_expressions(value) == []
    assert render(value, {}) == value


@given(json_values, st.text(alphabet=string.ascii_letters + "/", min_size=1, max_size=10))
def test_whole_placeholders_keep_their_type_and_embedded_ones_become_text(
    value: Any, prefix: str
) -> None:
    template = {"whole": "{{ .v }}", "embedded": f"{prefix}{{{{ .v }}}}", "list": ["{{.v}}"]}
    assert find_expressions(template) == [".v"]
    rendered = render(template, {".v": value})
    assert rendered["whole"] == value and rendered["list"] == [value]
    assert rendered["embedded"].startswith(prefix)


def test_url_placeholders_are_percent_encoded() -> None:
    assert render("https://x/jobs/{{ .id }}", {".id": "a/b c"}, encode=True) == (
        "https://x/jobs/a%2Fb%20c"
    )


@pytest.mark.parametrize(
    "expression",
    [
        "env",
        "env.HOME",
        "$ENV.PATH",
        "input",
        "[inputs]",
        'import "x" as y; .',
        'include "x"; .',
        '"\\(env.HOME)"',
        "$__loc__",
        "input_filename",
        "debug",
        "halt_error",
    ],
)
def test_expressions_that_reach_outside_are_refused(expression: str) -> None:
    with pytest.raises(JqExpressionError):
        check_expression(expression)


@pytest.mark.parametrize(
    "expression",
    [
        '.status == "done"',
        ".environment",
        ".input_url",
        '.["env"]',
        '.status == "env"',
        ".data[0].url",
        '.a | select(.b == "import")',
    ],
)
def test_ordinary_expressions_pass(expression: str) -> None:
    assert check_expression(expression) == expression


@pytest.mark.parametrize(
    ("ctx", "paths"),
    [
        (None, ["jobs/a_b/comfyui.png", "jobs/a_b/comfyui_1.png"]),
        (
            {"prefix": "generations/u/r/0/101", "filename": "txt2img.jpg"},
            ["generations/u/r/0/101/txt2img.png", "generations/u/r/0/101/txt2img_1.png"],
        ),
        (
            {"output_prefix": "g/x/", "output_name": "my name!"},
            ["g/x/my_name.png", "g/x/my_name_1.png"],
        ),
    ],
)
def test_output_paths(ctx: dict[str, Any] | None, paths: list[str]) -> None:
    target = OutputTarget.for_job(make_job("comfyui", {}, id="a:b", ctx=ctx), "comfyui")
    assert [target.path(i, "png") for i in range(2)] == paths


@pytest.mark.parametrize("prefix", ["../etc", "/abs/path", "a//b", ".hidden/x", 5])
def test_unsafe_prefixes_are_permanent_errors(prefix: Any) -> None:
    with pytest.raises(PermanentJobError):
        OutputTarget.for_job(make_job("comfyui", {}, ctx={"prefix": prefix}), "comfyui")


@settings(max_examples=30)
@given(
    st.lists(st.integers(min_value=1, max_value=5), max_size=40), st.none() | st.integers(1, 200)
)
async def test_token_progress_only_rises_and_stays_below_100(
    steps: list[int], budget: int | None
) -> None:
    log = ProgressLog()
    tokens = TokenProgress(log, budget, min_interval_s=0.0)
    for step in steps:
        await tokens.add(step)
    assert log.percents == sorted(log.percents)
    assert all(0 <= p < 100 for p in log.percents)
