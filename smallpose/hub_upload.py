"""Upload a staged Hub folder (see ``smallpose.hub``) with ``huggingface_hub``.

Kept apart from the staging so that everything up to the network call is testable and
usable offline (``--dry-run``), and so the only code that sees the token is this file.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from smallpose.errors import SmallPoseError
from smallpose.hub import upload_files

#: above these, the upload goes through upload_large_folder where the client has it
LARGE_FOLDER_FILES = 200
LARGE_FOLDER_BYTES = 2 * 10**9


def endpoint() -> str:
    """HF_ENDPOINT (a mirror or a private Hub) when set, else the client's default."""
    from huggingface_hub import constants

    return os.environ.get("HF_ENDPOINT") or constants.ENDPOINT


def resolve_token() -> str:
    """The token from HF_TOKEN or the cached login (``hf auth login``); never printed."""
    from huggingface_hub import get_token

    token = os.environ.get("HF_TOKEN") or get_token()
    if not token:
        raise SmallPoseError(
            "no Hugging Face token: set HF_TOKEN or run `hf auth login` (a token with write access)"
        )
    return token


def upload(
    folder: Path,
    repo_id: str,
    token: str,
    private: bool = False,
    revision: str | None = None,
    with_images: bool = False,
    large: bool | None = None,
    commit_message: str = "Upload SmallPose store",
) -> dict[str, Any]:
    """Create the dataset repo (if needed) and upload ``folder`` to it.

    Small folders go up with ``HfApi.upload_folder`` in one commit that also deletes stale
    shards (``delete_patterns``: a store with fewer shards than the last push must not leave
    old ones matched by the card's globs). Large ones use ``HfApi.upload_large_folder``
    (resumable, multi-commit) where the client has it, then delete the stale files; on
    huggingface_hub >= 2, which dropped it, ``upload_folder`` itself is resumable.
    """
    from huggingface_hub import HfApi

    api = HfApi(endpoint=endpoint(), token=token)
    try:
        return _upload(api, folder, repo_id, private, revision, with_images, large, commit_message)
    except SmallPoseError:
        raise
    except Exception as e:  # noqa: BLE001 - HTTP, network and offline-mode errors become one line
        lines = str(e).strip().splitlines() or [""]
        reason = lines[0].replace(token, "***")  # an echoed header must not leak the token
        raise SmallPoseError(
            f"{repo_id}: upload to {endpoint()} failed: {type(e).__name__}: {reason}"
        ) from None


def _upload(
    api: Any,
    folder: Path,
    repo_id: str,
    private: bool,
    revision: str | None,
    with_images: bool,
    large: bool | None,
    commit_message: str,
) -> dict[str, Any]:
    from huggingface_hub import CommitOperationDelete

    api.create_repo(repo_id, repo_type="dataset", private=private, exist_ok=True)
    if revision and revision != "main":
        api.create_branch(repo_id, branch=revision, repo_type="dataset", exist_ok=True)
    files = upload_files(folder)
    if large is None:
        large = len(files) > LARGE_FOLDER_FILES or sum(p.stat().st_size for p in files) > LARGE_FOLDER_BYTES
    managed = ["data/**"] + (["images/**"] if with_images else [])
    if large and hasattr(api, "upload_large_folder"):
        api.upload_large_folder(
            repo_id=repo_id, folder_path=str(folder), repo_type="dataset", revision=revision, private=private
        )
        local = {p.relative_to(folder).as_posix() for p in files}
        prefixes = tuple(m[: -len("**")] for m in managed)
        remote = api.list_repo_files(repo_id, repo_type="dataset", revision=revision)
        stale = sorted(f for f in remote if f.startswith(prefixes) and f not in local)
        if stale:
            api.create_commit(
                repo_id, repo_type="dataset", revision=revision,
                operations=[CommitOperationDelete(path_in_repo=f) for f in stale],
                commit_message="Remove shards of the previous SmallPose upload",
            )  # fmt: skip
        return {"method": "upload_large_folder", "files": len(files), "deleted": len(stale)}
    api.upload_folder(
        repo_id=repo_id,
        folder_path=str(folder),
        repo_type="dataset",
        revision=revision,
        commit_message=commit_message,
        delete_patterns=managed,
        ignore_patterns=[".cache/**"],
    )
    return {"method": "upload_folder", "files": len(files)}


def staging_dir(repo_id: str) -> Path:
    """A fixed place per repo, so an interrupted large upload finds its resume state again."""
    base = Path(os.environ.get("SMALLPOSE_CACHE") or Path.home() / ".cache" / "smallpose")
    return base / "hub" / repo_id.replace("/", "--")
