"""The real thing: Hugging Face transformers' Flax ALBERT passes document 04, through a thin adapter.

The adapter (implementations/third_party/hf_albert.py) wraps FlaxAlbertLayer and
FlaxAlbertLayerGroups; its layout (``attention/{query,key,value,dense,LayerNorm}``,
``ffn``, ``ffn_output``, ``full_layer_layer_norm``) is nothing like Flax's
MultiHeadDotProductAttention, so this is the test of the suite reading a layout
by what its pieces do. transformers is not a dependency of the suite: the test
builds an environment of its own, as the release matrix does (cached under
``.conformance/envs/hf-albert-...``, rebuilt when its recipe changes): the lock's
pins, then transformers and the packages it imports installed with ``--no-deps``
(its declared requirements would pull in more than Flax ALBERT needs), then this
checkout. No weights are downloaded: models are built from an AlbertConfig.

Time on the 2-core machine (2026-12-01): 60 s with an empty package cache, of which 18 s
build the environment (downloads included); 37 s once it is cached. Skipped, saying so,
only when the package index cannot be reached to build it.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest
from conftest import REPO

from conformance.commands.releases import environments
from conformance.commands.releases.pairs import lock_pins
from conformance.engine.registry import discover

ADAPTER = "conformance.implementations.third_party.hf_albert"
# transformers and what modeling_flax_albert imports, pinned, installed without their dependencies.
NO_DEPS = (
    "transformers==4.47.1",
    "huggingface-hub==0.36.2",
    "tokenizers==0.21.4",
    "safetensors==0.8.0",
    "regex==2026.11.19",
    "requests==2.34.2",
    "urllib3==2.8.0",
    "idna==3.20",
    "certifi==2026.10.19.post1",
    "charset-normalizer==3.5.3",
    "tqdm==4.70.1",
    "filelock==4.3.1",
)
HF_MODES = ("all",)  # the adapter's SHARE_MODES: ALBERT shares whole layers only
UNREACHABLE = re.compile(
    r"error sending request|dns error|failed to lookup|could not connect|connection refused|"
    r"network is unreachable|timed out|failed to fetch",
    re.I,
)


@pytest.fixture(scope="module")
def hf_env():
    uv = environments.find_uv(None)
    python, python_id = environments.interpreter(uv, None)
    reqs = sorted(pin for name, pin in lock_pins((REPO / "requirements.lock").read_text()).items() if name != "uv")
    key = environments.cache_key(reqs, python_id, NO_DEPS)
    cache = REPO / ".conformance" / "envs"
    env = cache / "hf-albert-transformers-4.47.1"
    log = cache / "logs" / "hf-albert.build.log"
    with environments.locked(cache / ".hf-albert.lock"):
        if not environments.env_is_current(env, key):
            try:
                environments.build_env(uv, python, env, reqs, key, log, no_deps=NO_DEPS)
            except environments.BuildError as exc:
                if UNREACHABLE.search(str(exc)):
                    pytest.skip(f"the package index cannot be reached to build the transformers environment: {exc}")
                raise
        environments.install_checkout(uv, env, REPO, log)
    return env


def test_hf_albert_passes_every_document_04_property_it_can_take(hf_env, tmp_path):
    report = tmp_path / "hf.json"
    proc = subprocess.run(
        [
            str(hf_env / "bin" / "conformance"),
            "run",
            "--impl",
            ADAPTER,
            "--only",
            "04-*",
            "--kind",
            "implementation",
            "--profile",
            "ci",
            # As the kill table's conforming implementations: one example besides the pool's big shapes.
            "--max-examples",
            "1",
            "--json",
            str(report),
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert report.exists(), f"no report (exit {proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    data = json.loads(report.read_text())
    got = {r["id"]: r for r in data["results"]}
    props = [p for p in discover().values() if p.document == "04" and p.kind == "implementation"]
    want = {p.id: "not_provided" if any(m not in HF_MODES for m in p.modes) else "passed" for p in props}
    wrong = {
        i: f"{got[i]['status'] if i in got else 'missing'} (expected {s}): {got.get(i, {}).get('message', '')[:600]}"
        for i, s in want.items()
        if got.get(i, {}).get("status") != s
    }
    assert not wrong, "Flax ALBERT through the adapter:\n" + "\n".join(f"{i}: {m}" for i, m in wrong.items())
    assert proc.returncode == 0, proc.stdout[-2000:]
    assert set(want.values()) == {"passed", "not_provided"}


def test_the_adapter_is_not_imported_by_discovery():
    code = (
        "import sys; from conformance.engine.mutants import discover_conforming, discover_mutants; "
        "discover_conforming(); discover_mutants(); "
        "print([m for m in sys.modules if m.startswith(('transformers', 'conformance.implementations.third_party'))])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=300)
    assert out.returncode == 0 and out.stdout.strip() == "[]", out.stdout + out.stderr
