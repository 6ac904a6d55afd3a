"""What `--flax` names and the columns it makes, without building an environment.

Wheels here are made by hand (a zip with a METADATA), so these tests need no Flax
build and no network; tests/test_local_builds.py builds real Flax wheels.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest
from conftest import git

from conformance.commands.releases import builds, wheels
from conformance.commands.releases.builds import Build, Spec
from conformance.commands.releases.pairs import lock_pins, parse_compat
from conformance.engine.runner import UsageError

TABLE = parse_compat(
    '[flax."0.12.7"]\njax = "0.10.0"\njaxlib = "0.10.0"\n'
    '[flax."0.12.8"]\njax = "0.10.2"\njaxlib = "0.10.2"\nnote = "the lock\'s"\n'
    '[flax."0.8.5"]\njax = "0.4.30"\njaxlib = "0.4.30"\npins = ["chex==0.1.90"]\n'
)
LOCK = lock_pins("jax==0.10.2\njaxlib==0.10.2\nflax==0.12.8\noptax==0.2.8\nnumpy==2.4.6\nrich==15.0.0\n")


def make_wheel(path: Path, version: str = "0.13.0", code: str = "x = 1\n", jax: str = "jax>=0.10.0", **extra) -> Path:
    """A minimal flax wheel: one module and a METADATA; ``extra`` adds or replaces archive members."""
    members = {
        "flax/__init__.py": code,
        f"flax-{version}.dist-info/METADATA": (
            f"Metadata-Version: 2.1\nName: flax\nVersion: {version}\nRequires-Dist: {jax}\n"
            "Requires-Dist: numpy>=1.23\nRequires-Dist: pytest; extra == 'testing'\n"
        ),
        f"flax-{version}.dist-info/WHEEL": "Wheel-Version: 1.0\nGenerator: hand\n",
        **extra,
    }
    with zipfile.ZipFile(path, "w") as whl:
        for name, text in members.items():
            whl.writestr(name, text)
    return path


def test_a_release_a_wheel_an_sdist_and_a_directory_are_told_apart(tmp_path):
    assert builds.parse_spec("0.12.8") == Spec("0.12.8", "0.12.8", "release", None)
    assert builds.parse_spec("0.12.8@0.10.0") == Spec("0.12.8@0.10.0", "0.12.8", "release", "0.10.0")
    whl = make_wheel(tmp_path / "flax-0.13.0-py3-none-any.whl")
    assert builds.parse_spec(str(whl)).kind == "wheel"
    (tmp_path / "flax-0.13.0.tar.gz").write_bytes(b"")
    assert builds.parse_spec(str(tmp_path / "flax-0.13.0.tar.gz")).kind == "sdist"
    at = builds.parse_spec(f"{tmp_path}@0.10.1")
    assert (at.kind, at.what, at.jax) == ("directory", str(tmp_path.resolve()), "0.10.1")


def test_a_spec_that_names_nothing_is_one_line(tmp_path):
    with pytest.raises(UsageError, match="no such file or directory, and not a release number"):
        builds.parse_spec(str(tmp_path / "nope.whl"))
    (tmp_path / "notes.txt").write_text("")
    with pytest.raises(UsageError, match=r"not a wheel \(.whl\), an sdist"):
        builds.parse_spec(str(tmp_path / "notes.txt"))


def test_the_content_hash_follows_the_code_and_the_requirements_not_the_build_stamps(tmp_path):
    one = wheels.read_wheel(make_wheel(tmp_path / "a.whl"))
    stamped = wheels.read_wheel(
        make_wheel(tmp_path / "b.whl", **{"flax-0.13.0.dist-info/WHEEL": "Wheel-Version: 1.0\nGenerator: other\n"})
    )
    assert one.content == stamped.content, "the build tool's stamp must not give a fresh environment"
    assert one.content != wheels.read_wheel(make_wheel(tmp_path / "c.whl", code="x = 2\n")).content
    assert one.content != wheels.read_wheel(make_wheel(tmp_path / "d.whl", jax="jax>=0.10.1")).content
    assert (one.name, one.version) == ("flax", "0.13.0")
    assert wheels.requirement_of(one.requires, "jax") == ">=0.10.0"
    assert all("extra" not in r for r in one.requires), one.requires


def test_a_file_that_is_not_a_wheel_is_refused(tmp_path):
    bad = tmp_path / "flax-1-py3-none-any.whl"
    bad.write_text("not a zip")
    with pytest.raises(wheels.WheelError, match="cannot read the wheel"):
        wheels.read_wheel(bad)
    with zipfile.ZipFile(tmp_path / "empty.whl", "w") as whl:
        whl.writestr("flax/__init__.py", "")
    with pytest.raises(wheels.WheelError, match=r"no .*METADATA"):
        wheels.read_wheel(tmp_path / "empty.whl")


def test_a_prepared_wheel_is_kept_under_its_content_hash(tmp_path):
    whl = make_wheel(tmp_path / "flax-0.13.0-py3-none-any.whl")
    build = builds.prepare(builds.parse_spec(str(whl)), tmp_path / "cache", uv="uv-is-not-needed-for-a-wheel")
    assert build.kind == "wheel" and build.version == "0.13.0" and build.requires_jax == ">=0.10.0"
    assert Path(build.wheel).parent.name == build.content[:16] and Path(build.wheel).is_file()
    assert build.label == f"0.13.0 (wheel {build.content[:8]})"
    with zipfile.ZipFile(tmp_path / "numpy-2-py3-none-any.whl", "w") as z:
        z.writestr("numpy-2.dist-info/METADATA", "Metadata-Version: 2.1\nName: numpy\nVersion: 2\n")
    with pytest.raises(UsageError, match="a build of numpy, not of flax"):
        builds.prepare(builds.parse_spec(str(tmp_path / "numpy-2-py3-none-any.whl")), tmp_path / "cache", "uv")


def test_labels_say_what_a_build_is():
    assert Build("release", "0.12.8", "0.12.8").label == "0.12.8"
    local = Build("directory", "0.12.8", "/src/flax", content="ab" * 32, commit="1234567890abcdef")
    assert local.label == "0.12.8 @ 1234567890"
    assert Build("directory", "0.12.8", "/x", content="ab" * 32, commit="1234567890ab", dirty=True).label == (
        "0.12.8 @ 1234567890 (modified, abababab)"
    )
    assert Build("sdist", "0.12.8", "/x.tar.gz", content="cd" * 32).label == "0.12.8 (sdist cdcdcdcd)"
    assert Build("wheel", "0.13.0.dev5+g1a2b3c4", "/x.whl", content="ef" * 32, commit="1a2b3c4").label == (
        "0.13.0.dev5+g1a2b3c4"
    )
    assert wheels.version_commit("0.13.0.dev5+g1a2b3c4") == "1a2b3c4"
    assert wheels.version_commit("0.12.9+deadbeef12") == "deadbeef12"
    assert wheels.version_commit("0.12.8") is None


def test_a_git_checkout_has_a_commit_and_a_tree_inside_one_has_none(tmp_path):
    repo = tmp_path / "flax"
    (repo / "inner").mkdir(parents=True)
    (repo / "setup.py").write_text("")
    git(repo, "init", "-q")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "one")
    head, dirty = wheels.git_commit(repo)
    assert len(head) == 40 and not dirty
    (repo / "setup.py").write_text("# changed\n")
    assert wheels.git_commit(repo) == (head, True)
    assert wheels.git_commit(repo / "inner") is None, "a directory inside a checkout is not that checkout"


# --------------------------------------------------------------------------- columns and the jax axis


def _release(v: str) -> tuple[Spec, Build]:
    spec = builds.parse_spec(v)
    return spec, Build("release", spec.what, spec.what)


def test_a_release_runs_with_its_pair_or_with_each_jax_asked_for():
    (only,) = builds.plan([_release("0.12.8")], None, TABLE, LOCK)
    assert (only.pair.jax, only.jax_from, only.env_name) == ("0.10.2", "compat.toml", "flax-0.12.8-jax-0.10.2")
    axis = builds.plan([_release("0.12.8")], ["0.10.0", "0.10.1", "0.10.2"], TABLE, LOCK)
    assert [(c.label, c.pair.jax, c.pair.jaxlib) for c in axis] == [
        ("0.12.8", "0.10.0", "0.10.0"),
        ("0.12.8", "0.10.1", "0.10.1"),
        ("0.12.8", "0.10.2", "0.10.2"),
    ]
    assert [c.asked_as for c in axis] == ["0.12.8@0.10.0", "0.12.8@0.10.1", "0.12.8@0.10.2"]
    assert axis[2].pair.note == "the lock's" and "command line" in axis[0].pair.note
    old = builds.plan([_release("0.8.5@0.4.31")], ["0.10.2"], TABLE, LOCK)
    assert [(c.pair.jax, c.pair.pins) for c in old] == [("0.4.31", ("chex==0.1.90",))], "@JAX wins over --jax"


def test_a_repeated_column_runs_once_and_an_unlisted_release_needs_a_jax():
    columns = builds.plan([_release("0.12.8"), _release("0.12.8@0.10.2")], None, TABLE, LOCK)
    assert len(columns) == 1
    with pytest.raises(UsageError, match=r'no jax/jaxlib pair for flax 0\.9\.9.*add a \[flax\."0\.9\.9"\]'):
        builds.plan([_release("0.9.9")], None, TABLE, LOCK)
    (unlisted,) = builds.plan([_release("0.9.9@0.4.31")], None, TABLE, LOCK)
    assert (unlisted.pair.jax, unlisted.pair.pins) == ("0.4.31", ())


def _local(version: str, requires_jax: str, content: str = "c0ffee" * 10) -> tuple[Spec, Build]:
    return Spec("dist/flax.whl", "/abs/flax.whl", "wheel", None), Build(
        "wheel", version, "/abs/flax.whl", wheel="/abs/flax.whl", content=content, requires_jax=requires_jax
    )


def test_a_local_build_takes_its_versions_pair_else_the_newest_jax_its_requirement_allows():
    (listed,) = builds.plan([_local("0.12.7", ">=0.9")], None, TABLE, LOCK)
    assert (listed.pair.jax, listed.jax_from) == ("0.10.0", "compat.toml")
    (main,) = builds.plan([_local("0.13.0.dev0", ">=0.5")], None, TABLE, LOCK)
    assert (main.pair.jax, main.jax_from) == ("0.10.2", "the build's requirement")
    (old,) = builds.plan([_local("0.8.6", "<0.5")], None, TABLE, LOCK)
    assert old.pair.jax == "0.4.30"
    with pytest.raises(UsageError, match="name one with --jax"):
        builds.plan([_local("0.14.0", ">=0.11")], None, TABLE, LOCK)
    assert main.env_name == "flax-0.13.0.dev0-local-c0ffeec0ffee-jax-0.10.2"


def test_a_local_build_installs_its_wheel_and_with_the_locks_jax_holds_the_rest_to_the_lock():
    (main,) = builds.plan([_local("0.13.0.dev0", ">=0.5")], None, TABLE, LOCK)
    reqs = main.requirements(LOCK)
    assert "flax @ file:///abs/flax.whl" in reqs and "jax==0.10.2" in reqs and "numpy==2.4.6" in reqs
    assert main.constraints(LOCK) == ["optax==0.2.8"], "flax, jax and what is already required are not constraints"
    (other,) = builds.plan([_local("0.13.0.dev0", ">=0.5")], ["0.10.0"], TABLE, LOCK)
    assert other.constraints(LOCK) == [], "the lock's versions were chosen for its own jax"
    assert builds.plan([_release("0.12.8")], None, TABLE, LOCK)[0].constraints(LOCK) == []


def test_newest_releases_of_the_table():
    from conformance.commands.releases.pairs import newest

    assert newest(TABLE, 2) == ["0.12.7", "0.12.8"] and newest(TABLE, 0) == []
