"""The repository a run or a page is made in: its GitHub name (GITHUB_REPOSITORY in Actions,
else the `origin` remote, else the OWNER/REPO placeholder), the GitHub Pages site that
name publishes to, and the commit the tree is at. The badge block and the page take every
site URL from here, so a fork's are its own with no edit."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

PLACEHOLDER = "OWNER/REPO"
PLACEHOLDER_SITE = "https://OWNER.github.io/REPO/"
SLUG = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")
# git@github.com:owner/name.git, https://github.com/owner/name(.git), ssh://git@github.com/owner/name
GITHUB_REMOTE = re.compile(r"github\.com[:/]+(?P<owner>[A-Za-z0-9_.-]+)/(?P<name>[A-Za-z0-9_.-]+?)(?:\.git)?/?$")
# A site this module makes (the placeholder's included), as a block or page quotes it.
SITE = re.compile(r"https://[A-Za-z0-9_.-]+\.github\.io/(?:[A-Za-z0-9_.-]+/)?")


def _git(root: Path, *args: str) -> str:
    try:
        out = subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return ""
    return out.stdout.strip() if out.returncode == 0 else ""


def repository(root: Path, environ: Mapping[str, str]) -> str:
    """owner/name of the repository at root, or OWNER/REPO when neither Actions nor a GitHub
    `origin` names it."""
    slug = environ.get("GITHUB_REPOSITORY", "").strip()
    if SLUG.match(slug):
        return slug
    match = GITHUB_REMOTE.search(_git(root, "remote", "get-url", "origin"))
    return f"{match['owner']}/{match['name']}" if match else PLACEHOLDER


def site_url(slug: str) -> str:
    """https://<owner>.github.io/<name>/ (GitHub Pages lower-cases the owner; a repository
    named <owner>.github.io is served at the root)."""
    if slug == PLACEHOLDER:
        return PLACEHOLDER_SITE
    owner, name = slug.split("/", 1)
    host = f"{owner.lower()}.github.io"
    return f"https://{host}/" if name.lower() == host else f"https://{host}/{name}/"


def own_site(root: Path, environ: Mapping[str, str]) -> str:
    return site_url(repository(root, environ))


@dataclass(frozen=True)
class Commit:
    sha: str      # "" outside a git checkout
    dirty: bool   # tracked files changed since that commit

    def to_json(self) -> dict[str, object]:
        return {"commit": self.sha, "dirty": self.dirty}


def current_commit(root: Path) -> Commit:
    sha = _git(root, "rev-parse", "HEAD")
    return Commit(sha, bool(sha) and bool(_git(root, "status", "--porcelain", "--untracked-files=no")))
