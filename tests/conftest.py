"""Shared fixtures. Hub access is switched off for every test: nothing here may download."""

import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
from collections import deque
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT.parent / "shared" / "reference"
SMOKE_STUDY = ROOT / "studies" / "smoke.yaml"


@pytest.fixture(scope="session")
def reference() -> Path:
    if not REFERENCE.is_dir():
        pytest.skip(f"reference data not found at {REFERENCE}")
    return REFERENCE


@pytest.fixture(scope="session")
def smoke_runs(tmp_path_factory):
    """The smoke study executed once for the whole session: (runs root, cache dir, outcome)."""
    from cltbook.sweep.study import run_study

    base = tmp_path_factory.mktemp("smoke")
    runs, cache = base / "runs", base / "cache"
    outcome = run_study(SMOKE_STUDY, runs_root=runs, cache_dir=cache, echo=lambda *_: None, root=ROOT)
    assert not outcome["failed"], outcome
    return runs, cache, outcome


@pytest.fixture()
def project_copy(tmp_path) -> Path:
    """The book's sources and the run notebook in a scratch folder, to build or run without
    touching the checkout."""
    for name in ("_config.yml", "_toc.yml"):
        shutil.copy(ROOT / name, tmp_path / name)
    for folder in ("book", "notebooks", "studies"):
        shutil.copytree(ROOT / folder, tmp_path / folder)
    return tmp_path


# ---------------------------------------------------------------------------------------------
# A real OpenAI-like server on 127.0.0.1 (the judge's tests and the real-data runs that use a judge)

SECRET = "sk-test-0123456789abcdef-never-write-me"
KEY_ENV = "CLTBOOK_JUDGE_TEST_KEY"


class _Handler(BaseHTTPRequestHandler):
    """Records each request, then plays the next scripted reply: ("ok", text), ("status", code)
    or ("drop",) to close the connection without an answer."""

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.server.recorded.append(
            {
                "path": self.path,
                "headers": {name.lower(): value for name, value in self.headers.items()},
                "body": json.loads(body),
            }
        )
        action = self.server.script.popleft() if self.server.script else ("ok", "Rating: 3")
        if action[0] == "drop":
            self.close_connection = True
            return
        if action[0] == "status":
            # Like OpenAI's 401, the error echoes (part of) the key it was given.
            payload = {"error": {"message": f"Incorrect API key: {self.headers['Authorization']}"}}
            self._send(action[1], payload)
            return
        self._send(
            200,
            {
                "id": "chatcmpl-test",
                "object": "chat.completion",
                "created": 0,
                "model": self.server.recorded[-1]["body"]["model"],
                "choices": [
                    {"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": action[1]}}
                ],
                "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
            },
        )

    def _send(self, status, payload):
        data = json.dumps(payload).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        if status == 429:
            self.send_header("Retry-After", "0")
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


@pytest.fixture()
def server():
    httpd = HTTPServer(("127.0.0.1", 0), _Handler)
    httpd.recorded, httpd.script = [], deque()
    httpd.timeout = 5
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()
    thread.join(timeout=5)


# ---------------------------------------------------------------------------------------------
# A real Ray cluster on this machine (the Ray executor's tests)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def ray_cluster(num_cpus: int = 2):
    """Start a one-node Ray head with token authentication; yield its address. RAY_AUTH_MODE and
    RAY_AUTH_TOKEN are set in this process (Ray reads them when it is imported and when a driver
    connects) and restored afterwards; drivers started as subprocesses inherit them."""
    token = secrets.token_hex(16)
    saved = {name: os.environ.get(name) for name in ("RAY_AUTH_MODE", "RAY_AUTH_TOKEN")}
    os.environ.update({"RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": token})
    # Unix socket paths are limited to 107 bytes: Ray's session folder goes under a short path.
    temp_dir = Path(tempfile.mkdtemp(prefix="r", dir="/tmp"))
    port = free_port()
    ray_cli = str(Path(sys.executable).parent / "ray")
    try:
        subprocess.run(
            [
                ray_cli,
                "start",
                "--head",
                f"--port={port}",
                f"--num-cpus={num_cpus}",
                f"--temp-dir={temp_dir}",
                "--include-dashboard=false",
                "--disable-usage-stats",
            ],
            env=dict(os.environ),
            check=True,
            capture_output=True,
        )
        yield f"127.0.0.1:{port}"
    finally:
        subprocess.run([ray_cli, "stop", "--force"], env=dict(os.environ), capture_output=True)
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        shutil.rmtree(temp_dir, ignore_errors=True)


def random_llama(tokenizer, layers: int = 1, tie_word_embeddings: bool = False):
    """A small random Llama for ``tokenizer``, the same weights every call (seed 0)."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(0)
    return LlamaForCausalLM(
        LlamaConfig(
            vocab_size=len(tokenizer),
            hidden_size=32,
            intermediate_size=64,
            num_hidden_layers=layers,
            num_attention_heads=2,
            num_key_value_heads=2,
            pad_token_id=tokenizer.pad_token_id,
            bos_token_id=tokenizer.bos_token_id,
            eos_token_id=tokenizer.eos_token_id,
            tie_word_embeddings=tie_word_embeddings,
        )
    )
