"""The one path canonicaliser: every attack form is refused, ordinary names pass unchanged."""

import pytest

from experiments.artifacts.paths import (
    MAX_PATH_BYTES,
    ArtifactAddress,
    UnsafePath,
    canonical_path,
    check_path,
    logged_model_artifact_root,
    parse_address,
    run_artifact_root,
)
from experiments.errors import MlflowError

RUN = "0123456789abcdef0123456789abcdef"
MODEL = "m-" + "f" * 32


@pytest.mark.parametrize(
    "path",
    [
        "model.pkl",
        "model/MLmodel",
        "a/b/c/d.txt",
        "estimator.html",
        ".hidden",
        "..hidden",
        "dots...",
        "a..b/c",
        "100% done.txt",  # a lone percent sign is not an escape
        "naïve/数据.csv",
        "with space/and-dash_under.score",
        "x" * 255,
        "C/not-a-drive",
        "ab:c",
        "x/yy:z",
    ],
)
def test_ordinary_paths_pass_unchanged(path):
    assert check_path(path) == path


@pytest.mark.parametrize(
    "path, reason",
    [
        ("..", "relative segment"),
        ("../etc/passwd", "relative segment"),
        ("a/../../b", "relative segment"),
        ("a/..", "relative segment"),
        (".", "relative segment"),
        ("a/./b", "relative segment"),
        ("./a", "relative segment"),
        ("\uff0e\uff0e/x", "relative segment"),  # fullwidth dots fold (NFKC) to ".."
        ("\u2024\u2024/x", "relative segment"),  # one-dot leaders fold to "."
        ("/etc/passwd", "absolute path"),
        ("//host/share", "absolute path"),
        ("C:/Windows", "absolute path"),
        ("c:secret", "absolute path"),
        ("a/C:/Windows", "absolute path"),
        ("a/z:stream", "absolute path"),
        ("a\\..\\b", "forbidden character"),
        ("..\\..\\etc", "forbidden character"),
        ("a\x00b", "forbidden character"),
        ("a/b\x00.txt", "forbidden character"),
        ("a\nb", "forbidden character"),
        ("a\rb", "forbidden character"),
        ("a\tb", "forbidden character"),
        ("a\x1bb", "forbidden character"),
        ("a\x7fb", "forbidden character"),
        ("a\x85b", "forbidden character"),  # C1 next-line
        ("a\u2028b", "forbidden character"),
        ("a#/../../x", "forbidden character"),
        ("a?x=../..", "forbidden character"),
        ("a;/../../x", "forbidden character"),
        ("%2e%2e/x", "encoded characters"),
        ("%2E%2E%2Fetc", "encoded characters"),
        ("..%2fetc", "encoded characters"),
        ("%252e%252e/x", "encoded characters"),  # double-encoded, after Django's one decode
        ("a%00b", "encoded characters"),
        ("a%5c..%5cb", "encoded characters"),
        ("%c0%ae%c0%ae/x", "encoded characters"),  # overlong UTF-8 dots, left escaped by Django
        ("a//b", "empty segment"),
        ("a/", "empty segment"),
        ("a/b//", "empty segment"),
        ("", "empty path"),
        ("x" * 256, "name too long"),
        ("é" * 128, "name too long"),  # 256 bytes in UTF-8
        ("a/" * (MAX_PATH_BYTES // 2) + "a", "path too long"),
        ("\ud800", "invalid unicode"),
    ],
)
def test_attack_forms_are_refused(path, reason):
    with pytest.raises(UnsafePath) as excinfo:
        check_path(path)
    assert str(excinfo.value) == reason


@pytest.mark.parametrize("value", [None, 7, b"a", ["a"]])
def test_non_strings_are_refused(value):
    with pytest.raises(UnsafePath):
        check_path(value)


def test_no_decoding_happens_so_nothing_decodes_into_a_traversal():
    # Whatever passes contains no escape that a later unquote (any number of times) could expand.
    from urllib.parse import unquote

    for candidate in ["a%b", "100%", "%zz/x", "a%2"]:
        assert check_path(candidate) == candidate
        assert unquote(unquote(candidate)) == candidate


def test_refusal_is_mlflow_400_without_echoing_the_path():
    with pytest.raises(MlflowError) as excinfo:
        canonical_path("../\x1b[31msecret")
    assert excinfo.value.error_code == "INVALID_PARAMETER_VALUE"
    assert excinfo.value.status == 400
    assert "secret" not in excinfo.value.message
    assert "\x1b" not in excinfo.value.message


def test_root_and_trailing_slash_options():
    assert canonical_path(None, allow_empty=True) == ""
    assert canonical_path("", allow_empty=True) == ""
    assert canonical_path("dir/", trailing_slash=True) == "dir"
    with pytest.raises(MlflowError):
        canonical_path("")
    with pytest.raises(MlflowError):
        canonical_path("dir/")
    with pytest.raises(MlflowError):
        canonical_path("dir//", trailing_slash=True)
    with pytest.raises(MlflowError):
        canonical_path("/", trailing_slash=True, allow_empty=True)


@pytest.mark.parametrize(
    "path, expected",
    [
        (f"0/{RUN}/artifacts", ArtifactAddress("0", RUN, None, "")),
        (f"12/{RUN}/artifacts/a/b.txt", ArtifactAddress("12", RUN, None, "a/b.txt")),
        (f"3/models/{MODEL}/artifacts", ArtifactAddress("3", None, MODEL, "")),
        (f"3/models/{MODEL}/artifacts/MLmodel", ArtifactAddress("3", None, MODEL, "MLmodel")),
        # a run may store a folder named "models": only the second segment decides the form
        (f"3/{RUN}/artifacts/models/x", ArtifactAddress("3", RUN, None, "models/x")),
    ],
)
def test_addresses(path, expected):
    assert parse_address(path) == expected
    assert expected.wire_path == path


@pytest.mark.parametrize(
    "path",
    [
        "missing.bin",
        "0",
        f"0/{RUN}",
        f"0/{RUN}/other",
        f"x/{RUN}/artifacts/a",
        f"-1/{RUN}/artifacts/a",
        f"{'9' * 20}/{RUN}/artifacts/a",
        f"0/{RUN.upper()}/artifacts/a",
        f"0/{RUN[:-1]}/artifacts/a",
        f"0/models/{RUN}/artifacts",
        f"0/models/{MODEL}",
        f"0/models/{MODEL}/other/x",
        f"0/models/m-{'g' * 32}/artifacts",
    ],
)
def test_paths_of_neither_form_have_no_address(path):
    assert parse_address(path) is None


def test_storage_keys_are_derived_from_the_objects(make_experiment, make_run, make_logged_model, workspace):
    experiment = make_experiment(workspace, default=True)
    run = make_run(experiment)
    model = make_logged_model(experiment, run=run)
    assert run_artifact_root(run) == f"{workspace.pk}/{experiment.pk}/{run.run_uuid}/artifacts"
    assert logged_model_artifact_root(model) == f"{workspace.pk}/{experiment.pk}/models/{model.model_id}/artifacts"
    # the wire says "0", the key uses the experiment's own number
    assert run.artifact_uri(experiment.wire_id) == f"mlflow-artifacts:/0/{run.run_uuid}/artifacts"
    assert check_path(run_artifact_root(run)) == run_artifact_root(run)
