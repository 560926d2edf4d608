#!/usr/bin/env python3
"""Checks the gateway's OpenAI-compatible HTTP API with the official, unmodified `openai` package.

Environment: CLAWGATE_BASE_URL (e.g. http://127.0.0.1:18789/v1) and CLAWGATE_TOKEN (the gateway
token). Prints one line per check; exits non-zero on the first failure.

Run through scripts/openai-client-check.sh, which provides a venv with `openai` installed.
"""

import base64
import os
import struct
import sys
import traceback

import openai
from openai import OpenAI

BASE_URL = os.environ.get("CLAWGATE_BASE_URL")
TOKEN = os.environ.get("CLAWGATE_TOKEN")


def check(name, fn):
    """Runs one check; on failure prints the reason and exits 1."""
    try:
        fn()
    except AssertionError as error:
        print(f"FAIL {name}: {error}", flush=True)
        sys.exit(1)
    except openai.APIStatusError as error:  # the gateway refused a request the check expected to succeed
        request = error.response.request
        print(
            f"FAIL {name}: {type(error).__name__} {error.status_code} for {request.method} {request.url}\n"
            f"     request body: {request.content.decode('utf-8', 'replace')[:2000]}\n"
            f"     response body: {error.response.text[:2000]}",
            flush=True,
        )
        sys.exit(1)
    except Exception as error:  # an unexpected exception from the client is a failure too
        print(f"FAIL {name}: unexpected {type(error).__name__}: {error}", flush=True)
        traceback.print_exc(limit=-4, file=sys.stdout)
        sys.exit(1)
    print(f"ok   {name}", flush=True)


def main():
    if not BASE_URL or not TOKEN:
        print("FAIL setup: CLAWGATE_BASE_URL and CLAWGATE_TOKEN must be set", flush=True)
        sys.exit(2)
    print(f"openai {openai.__version__} against {BASE_URL}", flush=True)
    client = OpenAI(base_url=BASE_URL, api_key=TOKEN, max_retries=0, timeout=60)
    prompt = "hello from python"
    expected = f"echo: {prompt}"

    def models_list():
        ids = [model.id for model in client.models.list()]
        for wanted in ("openclaw", "openclaw/main"):
            assert wanted in ids, f"models.list() lacks {wanted!r}: {ids}"

    def models_retrieve():
        model = client.models.retrieve("openclaw/main")
        assert model.id == "openclaw/main", f"models.retrieve returned id {model.id!r}"
        assert model.object == "model", f"models.retrieve returned object {model.object!r}"

    def chat():
        completion = client.chat.completions.create(model="openclaw", messages=[{"role": "user", "content": prompt}])
        assert completion.choices, f"no choices: {completion}"
        content = completion.choices[0].message.content
        assert content == expected, f"content {content!r} != {expected!r}"
        assert completion.usage is not None, f"no usage: {completion}"
        assert completion.usage.total_tokens > 0, f"usage.total_tokens is {completion.usage.total_tokens}"

    def chat_stream():
        stream = client.chat.completions.create(
            model="openclaw",
            messages=[{"role": "user", "content": prompt}],
            stream=True,
            stream_options={"include_usage": True},
        )
        text = ""
        usage = None
        chunks = 0
        for chunk in stream:
            chunks += 1
            for choice in chunk.choices:
                if choice.delta and choice.delta.content:
                    text += choice.delta.content
            if chunk.usage is not None:
                usage = chunk.usage
        assert text == expected, f"streamed deltas {text!r} != {expected!r} ({chunks} chunks)"
        assert usage is not None, f"no usage chunk in {chunks} chunks"
        assert usage.total_tokens > 0, f"usage chunk total_tokens is {usage.total_tokens}"

    def responses():
        response = client.responses.create(model="openclaw", input="hi responses")
        assert response.output_text == "echo: hi responses", f"output_text {response.output_text!r} != 'echo: hi responses'"

    def responses_stream():
        stream = client.responses.create(model="openclaw", input="hi responses", stream=True)
        text = ""
        completed = None
        types = []
        for event in stream:
            types.append(event.type)
            if event.type == "response.output_text.delta":
                text += event.delta
            elif event.type == "response.completed":
                completed = event
        assert text == "echo: hi responses", f"output_text deltas {text!r} != 'echo: hi responses' (events {types})"
        assert completed is not None, f"no response.completed event (events {types})"
        final = completed.response.output_text
        assert final == "echo: hi responses", f"response.completed output_text {final!r} (events {types})"

    embedded = {}

    def embeddings_float():
        result = client.embeddings.create(model="openclaw", input=["a", "b"], encoding_format="float")
        vectors = [item.embedding for item in sorted(result.data, key=lambda item: item.index)]
        assert len(vectors) == 2, f"{len(vectors)} vectors for 2 inputs"
        assert all(isinstance(v, list) for v in vectors), f"float format returned {[type(v).__name__ for v in vectors]}"
        assert len(vectors[0]) > 0, "empty vector"
        assert len(vectors[0]) == len(vectors[1]), f"vector lengths differ: {len(vectors[0])} vs {len(vectors[1])}"
        embedded["float"] = vectors

    def close(name, got, want):
        assert len(got) == len(want), f"{name}: {len(got)} vectors, float gave {len(want)}"
        for i, (g, w) in enumerate(zip(got, want)):
            assert len(g) == len(w), f"{name}: vector {i} has {len(g)} numbers, float gave {len(w)}"
            worst = max(abs(a - b) for a, b in zip(g, w))
            assert worst <= 1e-6, f"{name}: vector {i} differs from the float result by {worst}"

    def embeddings_default():
        # Without encoding_format the client asks for base64 and decodes it itself.
        result = client.embeddings.create(model="openclaw", input=["a", "b"])
        vectors = [list(item.embedding) for item in sorted(result.data, key=lambda item: item.index)]
        close("default (client-decoded base64)", vectors, embedded["float"])

    def embeddings_base64():
        # An explicit encoding_format leaves the raw base64 string in `embedding`.
        result = client.embeddings.create(model="openclaw", input=["a", "b"], encoding_format="base64")
        vectors = []
        for item in sorted(result.data, key=lambda item: item.index):
            assert isinstance(item.embedding, str), f"base64 format returned {type(item.embedding).__name__}, not str"
            raw = base64.b64decode(item.embedding)
            assert len(raw) % 4 == 0, f"base64 payload is {len(raw)} bytes, not a multiple of 4"
            vectors.append(list(struct.unpack(f"<{len(raw) // 4}f", raw)))
        close("base64", vectors, embedded["float"])

    def wrong_key():
        bad = OpenAI(base_url=BASE_URL, api_key="wrong-" + TOKEN, max_retries=0, timeout=60)
        try:
            bad.models.list()
        except openai.AuthenticationError as error:
            assert error.status_code == 401, f"status {error.status_code}"
            return
        except openai.APIStatusError as error:
            raise AssertionError(f"expected AuthenticationError (401), got {type(error).__name__} {error.status_code}: {error}")
        raise AssertionError("a wrong api_key was accepted")

    def unknown_model():
        try:
            client.chat.completions.create(model="no-such-model", messages=[{"role": "user", "content": prompt}])
        except openai.NotFoundError as error:
            assert error.status_code == 404, f"status {error.status_code}"
            return
        except openai.APIStatusError as error:
            raise AssertionError(f"expected NotFoundError (404), got {type(error).__name__} {error.status_code}: {error}")
        raise AssertionError("an unknown model was accepted")

    check("models.list contains openclaw and openclaw/main", models_list)
    check("models.retrieve openclaw/main", models_retrieve)
    check("chat.completions.create", chat)
    check("chat.completions.create stream with usage", chat_stream)
    check("responses.create", responses)
    check("responses.create stream", responses_stream)
    check("embeddings.create float", embeddings_float)
    check("embeddings.create default (base64 decoded by client)", embeddings_default)
    check("embeddings.create base64", embeddings_base64)
    check("wrong api_key -> AuthenticationError 401", wrong_key)
    check("unknown model -> NotFoundError 404", unknown_model)
    print("all checks passed", flush=True)


if __name__ == "__main__":
    main()
